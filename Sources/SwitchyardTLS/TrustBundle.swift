import COpenSSL
import Foundation

/// The trust anchors peers' chains must verify against. May hold several (anchor rotation).
public final class TrustBundle: @unchecked Sendable {
    public let anchors: [Certificate]
    /// An `X509_STORE*` holding the anchors, owned by this object; shared by contexts built
    /// from this bundle (OpenSSL reference-counts it: up-ref before handing it to a context).
    public let store: OpaquePointer

    /// - Throws: when `anchors` is empty or a certificate cannot be added.
    public init(anchors: [Certificate]) throws {
        guard !anchors.isEmpty else { throw OpenSSLError(operation: "building a trust bundle", reasons: ["no trust anchor"]) }
        guard let store = X509_STORE_new() else { throw OpenSSLError.drain("X509_STORE_new") }
        for anchor in anchors where X509_STORE_add_cert(store, anchor.x509) != 1 {
            X509_STORE_free(store)
            throw OpenSSLError.drain("adding a trust anchor")
        }
        self.anchors = anchors
        self.store = store
    }

    /// Parses a PEM bundle of one or more anchors.
    public convenience init(pem: String) throws {
        try self.init(anchors: Certificate.parseChain(pem: pem))
    }

    deinit { X509_STORE_free(store) }

    /// Verifies `chain` (leaf first, then intermediates) against the anchors at `time`.
    /// - Throws: `CertificateVerificationError` saying why it does not verify.
    public func verify(chain: [Certificate], at time: Date = Date()) throws {
        guard let leaf = chain.first else { throw CertificateVerificationError(code: 0, reason: "empty chain") }
        guard let ctx = X509_STORE_CTX_new() else { throw OpenSSLError.drain("X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(ctx) }
        guard let untrusted = sy_sk_X509_new_null() else { throw OpenSSLError.drain("sk_X509_new_null") }
        defer { sy_sk_X509_pop_free(untrusted) }
        for cert in chain.dropFirst() {
            X509_up_ref(cert.x509)
            _ = sy_sk_X509_push(untrusted, cert.x509)
        }
        guard X509_STORE_CTX_init(ctx, store, leaf.x509, untrusted) == 1 else { throw OpenSSLError.drain("X509_STORE_CTX_init") }
        X509_STORE_CTX_set_time(ctx, 0, time_t(time.timeIntervalSince1970))
        if X509_verify_cert(ctx) != 1 {
            let code = X509_STORE_CTX_get_error(ctx)
            throw CertificateVerificationError(code: code, reason: String(cString: X509_verify_cert_error_string(Int(code))))
        }
    }
}

/// Why a chain did not verify: OpenSSL's `X509_V_ERR_*` code and its text
/// (`unable to get local issuer certificate`, `certificate has expired`, ...).
public struct CertificateVerificationError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var reason: String
    public var description: String { reason }
}
