import COpenSSL

/// Why a TLS connection (or the building of a TLS context) failed. Each case's description says
/// why in words an operator can act on: `identity mismatch: wanted X, got Y`.
///
/// Errors about the *peer's* certificate (`unknownCA`, `expired`, `notYetValid`,
/// `identityMismatch`, `invalidPeerIdentity`, `certificateRejected`, `noClientCertificate`) are
/// raised on the side that checked it; the other side sees the alert that was sent,
/// as `peerAlert("unknown CA")`, `peerAlert("certificate expired")`, ...
public enum TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The peer's chain does not lead to an anchor of the trust bundle (or a CA on the way is not one).
    case unknownCA
    /// The peer's certificate (or one in its chain) is past its notAfter.
    case expired
    /// The peer's certificate (or one in its chain) is before its notBefore.
    case notYetValid
    /// The peer's single DNS SAN is not the identity this side expected.
    case identityMismatch(wanted: String, got: String)
    /// The peer's leaf does not carry exactly one DNS SAN (its identity); says what it carried.
    case invalidPeerIdentity(String)
    /// The peer's chain failed another check; OpenSSL's reason (`certificate signature failure`, ...).
    case certificateRejected(String)
    /// This server requires a client certificate and the client sent none.
    case noClientCertificate
    /// The ClientHello named no identity served here (`nil`: it carried no SNI at all).
    case unknownServerName(String?)
    /// The handshake did not finish within the configured time.
    case handshakeTimeout
    /// The peer ended the connection with this alert (`bad certificate`, `unknown CA`, ...).
    case peerAlert(String)
    /// The bytes received are not valid TLS 1.3 for this connection; OpenSSL's reason.
    case protocolViolation(String)
    /// The connection ended (TCP EOF or close) without the peer's close_notify.
    case unexpectedClose
    /// More bytes were buffered than the configuration allows (inbound ciphertext or outbound plaintext).
    case bufferLimitExceeded
    /// A context could not be built from these credentials or settings.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .unknownCA:
            return "unknown CA: the peer's certificate chain does not lead to a trust anchor of the bundle"
        case .expired:
            return "certificate expired: the peer's certificate chain holds a certificate past its notAfter"
        case .notYetValid:
            return "certificate not yet valid: the peer's certificate chain holds a certificate before its notBefore"
        case .identityMismatch(let wanted, let got):
            return "identity mismatch: wanted \(wanted), got \(got)"
        case .invalidPeerIdentity(let detail):
            return "invalid peer identity: \(detail)"
        case .certificateRejected(let reason):
            return "peer certificate rejected: \(reason)"
        case .noClientCertificate:
            return "no client certificate: the client sent none and this server requires one"
        case .unknownServerName(let name?):
            return "unknown server name: no identity \"\(name)\" is served here"
        case .unknownServerName(nil):
            return "unknown server name: the ClientHello named no server (no SNI)"
        case .handshakeTimeout:
            return "handshake timeout: the TLS handshake did not complete in time"
        case .peerAlert(let alert):
            return "peer sent alert: \(alert)"
        case .protocolViolation(let reason):
            return "TLS protocol violation: \(reason)"
        case .unexpectedClose:
            return "unexpected close: the connection ended without a TLS close_notify"
        case .bufferLimitExceeded:
            return "buffer limit exceeded: more TLS data buffered than the configured limit"
        case .invalidConfiguration(let reason):
            return "invalid TLS configuration: \(reason)"
        }
    }
}

extension TLSError {
    /// The error for a certificate-verification failure (`X509_V_ERR_*`, from the verify
    /// callback or `SSL_get_verify_result`).
    static func verification(code: Int32) -> TLSError {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CRL_HAS_EXPIRED:
            return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CRL_NOT_YET_VALID:
            return .notYetValid
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
             X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_CERT_UNTRUSTED,
             X509_V_ERR_INVALID_CA:
            return .unknownCA
        default:
            return .certificateRejected(String(cString: X509_verify_cert_error_string(Int(code))))
        }
    }

    /// The name RFC 8446 gives alert `description` (`bad certificate`, `unknown CA`, ...).
    static func alertName(_ description: Int32) -> String {
        switch description {
        case 0: return "close notify"
        case 10: return "unexpected message"
        case 20: return "bad record MAC"
        case 22: return "record overflow"
        case 40: return "handshake failure"
        case 42: return "bad certificate"
        case 43: return "unsupported certificate"
        case 44: return "certificate revoked"
        case 45: return "certificate expired"
        case 46: return "certificate unknown"
        case 47: return "illegal parameter"
        case 48: return "unknown CA"
        case 49: return "access denied"
        case 50: return "decode error"
        case 51: return "decrypt error"
        case 70: return "protocol version"
        case 71: return "insufficient security"
        case 80: return "internal error"
        case 86: return "inappropriate fallback"
        case 90: return "user canceled"
        case 109: return "missing extension"
        case 110: return "unsupported extension"
        case 112: return "unrecognized name"
        case 113: return "bad certificate status response"
        case 115: return "unknown PSK identity"
        case 116: return "certificate required"
        case 120: return "no application protocol"
        default: return "alert \(description)"
        }
    }

    /// Reads (and empties) the calling thread's OpenSSL error queue after a failed `SSL_*` call
    /// and says what it means. A received alert wins over anything else on the queue.
    static func drainingSSLErrorQueue() -> TLSError {
        var firstReason: String?
        var alert: Int32?
        var noPeerCertificate = false
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let reason = ERR_GET_REASON(code)
            if ERR_GET_LIB(code) == ERR_LIB_SSL {
                if reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256, alert == nil {
                    alert = reason - SSL_AD_REASON_OFFSET
                }
                if reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE { noPeerCertificate = true }
            }
            if firstReason == nil {
                if let text = ERR_reason_error_string(code) {
                    firstReason = String(cString: text)
                } else {
                    firstReason = "error \(code)"
                }
            }
        }
        if let alert { return .peerAlert(alertName(alert)) }
        if noPeerCertificate { return .noClientCertificate }
        return .protocolViolation(firstReason ?? "unknown OpenSSL failure")
    }
}
