import COpenSSL

/// The `SSL_CTX` settings both roles share: TLS 1.3 only, groups, suites, no tickets or session
/// cache, the trust bundle, and peer verification through `TLSConnectionRecord`.
enum TLSContextSettings {
    static func makeContext(server: Bool, configuration: TLSConfiguration, trustBundle: TrustBundle) throws(TLSError) -> OpaquePointer {
        try configuration.validate()
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw .invalidConfiguration("SSL_CTX_new failed: \(OpenSSLError.drainQueue().joined(separator: "; "))")
        }
        func fail(_ what: String) -> TLSError {
            let reasons = OpenSSLError.drainQueue()
            SSL_CTX_free(ctx)
            return .invalidConfiguration(reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
        }
        guard sy_SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1,
              sy_SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 else { throw fail("cannot limit the context to TLS 1.3") }
        _ = SSL_CTX_set_options(
            ctx,
            sy_SSL_OP_NO_COMPRESSION | sy_SSL_OP_NO_RENEGOTIATION | sy_SSL_OP_NO_TICKET | sy_SSL_OP_CIPHER_SERVER_PREFERENCE)
        _ = sy_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        guard SSL_CTX_set_num_tickets(ctx, 0) == 1 else { throw fail("cannot turn session tickets off") }
        guard sy_SSL_CTX_set1_groups_list(ctx, configuration.groups.joined(separator: ":")) == 1 else {
            throw fail("unknown key-exchange group in \(configuration.groups)")
        }
        guard SSL_CTX_set_ciphersuites(ctx, configuration.cipherSuites.joined(separator: ":")) == 1 else {
            throw fail("unknown TLS 1.3 cipher suite in \(configuration.cipherSuites)")
        }
        SSL_CTX_set1_cert_store(ctx, trustBundle.store)
        let mode = server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        SSL_CTX_set_verify(ctx, mode) { preverified, store in
            TLSConnectionRecord.verifyCallback(preverified, store)
        }
        return ctx
    }
}
