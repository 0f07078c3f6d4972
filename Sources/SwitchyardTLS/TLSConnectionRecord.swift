import COpenSSL

/// What OpenSSL's callbacks (certificate verification, SNI) learn during one connection's
/// handshake, reachable from the `SSL*` through its ex_data slot. Touched only on the
/// connection's event loop, inside `SSL_*` calls made there.
final class TLSConnectionRecord {
    enum Role {
        case server
        /// A client, and the identity the server must prove (SNI, and its leaf's DNS SAN).
        case client(expectedPeer: String)
    }

    let role: Role
    /// The first reason the handshake failed that OpenSSL's own error queue cannot tell.
    var failure: TLSError?
    /// The peer, once its leaf certificate has verified.
    var peer: PeerIdentity?
    /// Server side: the SNI of the ClientHello.
    var requestedServerName: String?

    init(role: Role) {
        self.role = role
    }

    /// Our slot in every `SSL*`'s ex_data.
    static let exDataIndex: Int32 = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)

    /// Stores an unretained pointer to `self` in `ssl`; the `TLSConnection` owning both keeps
    /// the record alive for as long as the `SSL*`.
    func attach(to ssl: OpaquePointer) -> Bool {
        SSL_set_ex_data(ssl, Self.exDataIndex, Unmanaged.passUnretained(self).toOpaque()) == 1
    }

    static func of(_ ssl: OpaquePointer) -> TLSConnectionRecord? {
        guard let raw = SSL_get_ex_data(ssl, exDataIndex) else { return nil }
        return Unmanaged<TLSConnectionRecord>.fromOpaque(raw).takeUnretainedValue()
    }

    /// OpenSSL's verify callback: keeps OpenSSL's verdict on the chain, then checks the leaf's
    /// identity. Returns whether to go on.
    static func verifyCallback(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
        guard let store,
              let sslPointer = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let record = of(OpaquePointer(sslPointer)) else { return 0 }
        return record.verify(preverified: preverified == 1, store: store) ? 1 : 0
    }

    private func verify(preverified: Bool, store: OpaquePointer) -> Bool {
        if !preverified {
            let code = X509_STORE_CTX_get_error(store)
            if failure == nil {
                if code == X509_V_ERR_HOSTNAME_MISMATCH {
                    // OpenSSL's own SAN check (SSL_set1_host) said no: say what the leaf carries.
                    failure = identityFailure(names: currentCertificate(store)?.dnsNames ?? []) ?? .verification(code: code)
                } else {
                    failure = .verification(code: code)
                }
            }
            return false
        }
        guard X509_STORE_CTX_get_error_depth(store) == 0 else { return true }
        // The leaf, whose chain has verified: its single DNS SAN is the peer's identity.
        guard let leaf = currentCertificate(store) else { return false }
        let names = leaf.dnsNames
        if let problem = identityFailure(names: names) {
            failure = problem
            X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH)
            return false
        }
        let name = names[0]
        peer = PeerIdentity(name: name, serialNumber: leaf.serialNumber, notAfter: leaf.notAfter)
        return true
    }

    /// Why a leaf carrying these DNS SANs does not prove the identity wanted; nil if it does.
    /// An identity is exactly one DNS SAN, compared byte for byte (no wildcards, no CN).
    private func identityFailure(names: [String]) -> TLSError? {
        guard names.count == 1 else {
            return .invalidPeerIdentity(
                names.isEmpty
                    ? "the peer's certificate carries no DNS SAN"
                    : "the peer's certificate carries \(names.count) DNS SANs (\(names.joined(separator: ", "))), not one")
        }
        if case .client(let wanted) = role, names[0] != wanted {
            return .identityMismatch(wanted: wanted, got: names[0])
        }
        return nil
    }

    private func currentCertificate(_ store: OpaquePointer) -> Certificate? {
        guard let x509 = X509_STORE_CTX_get_current_cert(store), X509_up_ref(x509) == 1 else { return nil }
        return Certificate(taking: x509)
    }
}
