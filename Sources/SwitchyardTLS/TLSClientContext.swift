import COpenSSL

/// The client side of the mesh's mutual TLS: immutable, built once from our workload credential
/// and shared by every outbound connection (on any event loop).
///
/// Each connection names the identity it dials (`TLSHandler(context:serverIdentity:)`): it is
/// sent as SNI, the server's chain must verify against the trust bundle, and the server leaf's
/// single DNS SAN must equal it exactly — no wildcards, no commonName fallback — or the
/// handshake fails with `TLSError.identityMismatch(wanted:got:)`.
public final class TLSClientContext: @unchecked Sendable {
    /// The identity we present (our workload certificate).
    public let credential: IdentityCredential
    public let trustBundle: TrustBundle
    public let configuration: TLSConfiguration

    /// `SSL_CTX*`, owned; configured once in `init`, then only read.
    let ctx: OpaquePointer

    /// - Throws: `TLSError.invalidConfiguration` when the key does not match the certificate or
    ///   OpenSSL refuses a setting.
    public init(credential: IdentityCredential, trustBundle: TrustBundle, configuration: TLSConfiguration = .default) throws(TLSError) {
        guard credential.key.matches(credential.leaf) else {
            throw .invalidConfiguration("the key of \(credential.identity) does not match its certificate")
        }
        let ctx = try TLSContextSettings.makeContext(server: false, configuration: configuration, trustBundle: trustBundle)
        func fail(_ what: String) -> TLSError {
            let reasons = OpenSSLError.drainQueue()
            SSL_CTX_free(ctx)
            return .invalidConfiguration(reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
        }
        guard SSL_CTX_use_certificate(ctx, credential.leaf.x509) == 1,
              SSL_CTX_use_PrivateKey(ctx, credential.key.pkey) == 1,
              SSL_CTX_check_private_key(ctx) == 1 else { throw fail("cannot use the certificate of \(credential.identity)") }
        for intermediate in credential.chain.dropFirst() where sy_SSL_CTX_add1_chain_cert(ctx, intermediate.x509) != 1 {
            throw fail("cannot add the chain of \(credential.identity)")
        }
        let alpn = configuration.alpnWireFormat
        if !alpn.isEmpty, SSL_CTX_set_alpn_protos(ctx, alpn, UInt32(alpn.count)) != 0 {
            throw fail("cannot set ALPN")
        }
        self.credential = credential
        self.trustBundle = trustBundle
        self.configuration = configuration
        self.ctx = ctx
    }

    deinit { SSL_CTX_free(ctx) }
}
