// COpenSSL: the system OpenSSL 3 imports, links, and the `sy_` macro wrappers in
// Sources/COpenSSL/shim.h do what the macros do.
import COpenSSL
import Testing

@Suite("COpenSSL")
struct OpenSSLTests {
    @Test("linked OpenSSL is 3.0 or newer")
    func versionIsAtLeast3() {
        #expect(OpenSSL_version_num() >= 0x3000_0000)
        #expect(OPENSSL_VERSION_MAJOR >= 3)
    }

    @Test("min/max protocol version round trip through the shim")
    func protoVersionsThroughShim() throws {
        let ctx = try #require(SSL_CTX_new(TLS_method()))
        defer { SSL_CTX_free(ctx) }
        #expect(sy_SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1)
        #expect(sy_SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1)
        #expect(sy_SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION)
        #expect(sy_SSL_CTX_get_max_proto_version(ctx) == TLS1_3_VERSION)
    }

    @Test("context settings: mode, options, groups, session cache")
    func contextSettings() throws {
        let ctx = try #require(SSL_CTX_new(TLS_method()))
        defer { SSL_CTX_free(ctx) }
        let mode = sy_SSL_CTX_set_mode(ctx, Int(SSL_MODE_RELEASE_BUFFERS))
        #expect(mode & Int(SSL_MODE_RELEASE_BUFFERS) != 0)
        let options = SSL_CTX_set_options(ctx, sy_SSL_OP_NO_COMPRESSION | sy_SSL_OP_NO_RENEGOTIATION)
        #expect(options & sy_SSL_OP_NO_COMPRESSION != 0)
        #expect(SSL_CTX_get_options(ctx) & sy_SSL_OP_NO_RENEGOTIATION != 0)
        #expect(sy_SSL_CTX_set1_groups_list(ctx, "X25519:P-256") == 1)
        #expect(sy_SSL_CTX_set1_groups_list(ctx, "no-such-group") == 0)
        ERR_clear_error()
        // Returns the previous mode; the second call must see the first one's value.
        _ = sy_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        #expect(sy_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_CLIENT)) == Int(SSL_SESS_CACHE_OFF))
    }

    @Test("EC P-256 key generation without the variadic EVP_PKEY_Q_keygen")
    func p256Keygen() throws {
        let key = try #require(generateP256Key())
        defer { EVP_PKEY_free(key) }
        #expect(EVP_PKEY_get_bits(key) == 256)
        #expect(EVP_PKEY_is_a(key, "EC") == 1)
    }

    @Test("SHA-256 of \"abc\" via EVP_Digest")
    func sha256OfABC() {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let input = Array("abc".utf8)
        let ok = EVP_Digest(input, input.count, &digest, &length, EVP_sha256(), nil)
        #expect(ok == 1)
        #expect(length == 32)
        let hex = digest.prefix(Int(length)).map { byte in
            (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        #expect(hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("memory BIO wrappers: pending, mem data, EOF return")
    func memoryBIO() throws {
        let bio = try #require(BIO_new(BIO_s_mem()))
        defer { BIO_free(bio) }
        #expect(sy_BIO_pending(bio) == 0)
        let payload = Array("hello, mesh".utf8)
        #expect(BIO_write(bio, payload, Int32(payload.count)) == Int32(payload.count))
        #expect(sy_BIO_pending(bio) == Int32(payload.count))
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = sy_BIO_get_mem_data(bio, &data)
        #expect(length == payload.count)
        let bytes = try #require(data)
        let copied = UnsafeRawBufferPointer(start: bytes, count: length).map { $0 }
        #expect(copied == payload)
        // Drain it; with eof_return 0, an empty BIO reads as EOF (0) instead of "retry" (-1).
        var sink = [UInt8](repeating: 0, count: 64)
        #expect(BIO_read(bio, &sink, 64) == Int32(payload.count))
        #expect(BIO_read(bio, &sink, 64) == -1)
        _ = sy_BIO_set_mem_eof_return(bio, 0)
        #expect(BIO_read(bio, &sink, 64) == 0)
    }

    @Test("error codes: ERR_GET_LIB / ERR_GET_REASON import as functions")
    func errorCodes() throws {
        ERR_clear_error()
        let ctx = try #require(SSL_CTX_new(TLS_method()))
        defer { SSL_CTX_free(ctx) }
        #expect(SSL_CTX_use_certificate_file(ctx, "/nonexistent/switchyard.pem", SSL_FILETYPE_PEM) != 1)
        let code = ERR_get_error()
        #expect(code != 0)
        #expect(ERR_GET_LIB(code) != 0)
        #expect(ERR_GET_REASON(code) != 0)
        ERR_clear_error()
    }

    @Test("self-signed certificate: SAN through the GENERAL_NAME stack wrappers, validity, chain stack")
    func certificateWrappers() throws {
        let key = try #require(generateP256Key())
        defer { EVP_PKEY_free(key) }
        let identity = "spiffe://cluster.local/ns/test/sa/frontend"
        let cert = try #require(makeSelfSigned(key: key, commonName: "frontend", uriSAN: identity))
        defer { X509_free(cert) }

        let sans = try #require(X509_get_ext_d2i(cert, NID_subject_alt_name, nil, nil))
        let stack = OpaquePointer(sans)
        defer { sy_sk_GENERAL_NAME_pop_free(stack) }
        #expect(sy_sk_GENERAL_NAME_num(stack) == 1)
        let name = try #require(sy_sk_GENERAL_NAME_value(stack, 0))
        #expect(name.pointee.type == GEN_URI)
        let uri = try #require(name.pointee.d.uniformResourceIdentifier)
        let uriBytes = UnsafeBufferPointer(start: ASN1_STRING_get0_data(uri), count: Int(ASN1_STRING_length(uri)))
        #expect(String(decoding: uriBytes, as: UTF8.self) == identity)

        // notBefore <= now < notAfter, through both the mutable (shim) and get0 accessors.
        let notBefore = try #require(sy_X509_get_notBefore(cert))
        let notAfter = try #require(sy_X509_get_notAfter(cert))
        #expect(X509_cmp_current_time(notBefore) < 0)
        #expect(X509_cmp_current_time(notAfter) > 0)
        #expect(ASN1_TIME_compare(notAfter, X509_get0_notAfter(cert)) == 0)

        // X509_NAME_oneline mallocs with OpenSSL's allocator: free through the shim.
        let subject = try #require(X509_NAME_oneline(X509_get_subject_name(cert), nil, 0))
        #expect(String(cString: subject) == "/CN=frontend")
        sy_OPENSSL_free(subject)

        let chain = try #require(sy_sk_X509_new_null())
        #expect(X509_up_ref(cert) == 1)
        #expect(sy_sk_X509_push(chain, cert) == 1)
        #expect(sy_sk_X509_num(chain) == 1)
        #expect(sy_sk_X509_value(chain, 0) == cert)
        sy_sk_X509_pop_free(chain)
    }

    @Test("in-memory TLS 1.3 handshake: SNI sent by the client reaches the servername callback")
    func handshakeWithSNI() throws {
        let key = try #require(generateP256Key())
        defer { EVP_PKEY_free(key) }
        let cert = try #require(makeSelfSigned(key: key, commonName: "backend-b", uriSAN: "spiffe://cluster.local/ns/test/sa/backend-b"))
        defer { X509_free(cert) }

        let serverCtx = try #require(SSL_CTX_new(TLS_server_method()))
        defer { SSL_CTX_free(serverCtx) }
        let clientCtx = try #require(SSL_CTX_new(TLS_client_method()))
        defer { SSL_CTX_free(clientCtx) }
        for ctx in [serverCtx, clientCtx] {
            #expect(sy_SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1)
        }
        #expect(SSL_CTX_use_certificate(serverCtx, cert) == 1)
        #expect(SSL_CTX_use_PrivateKey(serverCtx, key) == 1)
        #expect(sy_SSL_CTX_add1_chain_cert(serverCtx, cert) == 1)

        let seen = SNIBox()
        let callback: sy_servername_callback = { ssl, _, arg in
            guard let ssl, let arg else { return SSL_TLSEXT_ERR_ALERT_FATAL }
            let box = Unmanaged<SNIBox>.fromOpaque(arg).takeUnretainedValue()
            if let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) {
                box.names.append(String(cString: name))
            }
            return SSL_TLSEXT_ERR_OK
        }
        #expect(sy_SSL_CTX_set_tlsext_servername_callback(serverCtx, callback) == 1)
        let boxPointer = Unmanaged.passRetained(seen)
        defer { boxPointer.release() }
        #expect(sy_SSL_CTX_set_tlsext_servername_arg(serverCtx, boxPointer.toOpaque()) == 1)

        let server = try #require(SSL_new(serverCtx))
        defer { SSL_free(server) }
        let client = try #require(SSL_new(clientCtx))
        defer { SSL_free(client) }
        _ = sy_SSL_set_mode(client, Int(SSL_MODE_AUTO_RETRY))
        #expect(sy_SSL_set_tlsext_host_name(client, "backend-b.test.serviceaccount.identity.linkerd.cluster.local") == 1)

        // client -> server and server -> client memory BIOs; SSL_set_bio takes ownership.
        let c2s = try #require(BIO_new(BIO_s_mem()))
        let s2c = try #require(BIO_new(BIO_s_mem()))
        #expect(BIO_up_ref(c2s) == 1)
        #expect(BIO_up_ref(s2c) == 1)
        SSL_set_bio(client, s2c, c2s)
        SSL_set_bio(server, c2s, s2c)
        SSL_set_connect_state(client)
        SSL_set_accept_state(server)

        var clientDone = false
        var serverDone = false
        for _ in 0..<20 where !(clientDone && serverDone) {
            if !clientDone {
                let rc = SSL_do_handshake(client)
                clientDone = rc == 1
                if rc != 1 { #expect(SSL_get_error(client, rc) == SSL_ERROR_WANT_READ) }
            }
            if !serverDone {
                let rc = SSL_do_handshake(server)
                serverDone = rc == 1
                if rc != 1 { #expect(SSL_get_error(server, rc) == SSL_ERROR_WANT_READ) }
            }
        }
        #expect(clientDone && serverDone)
        #expect(SSL_version(client) == TLS1_3_VERSION)
        #expect(seen.names == ["backend-b.test.serviceaccount.identity.linkerd.cluster.local"])
        let chain = try #require(SSL_get_peer_cert_chain(client))
        #expect(sy_sk_X509_num(chain) >= 1)
        #expect(X509_cmp(sy_sk_X509_value(chain, 0), cert) == 0)
    }
}

private final class SNIBox: @unchecked Sendable {
    var names: [String] = []
}

/// EVP_PKEY_Q_keygen is variadic, so go through an EVP_PKEY_CTX.
private func generateP256Key() -> OpaquePointer? {
    guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
    defer { EVP_PKEY_CTX_free(ctx) }
    guard EVP_PKEY_keygen_init(ctx) == 1,
          EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else { return nil }
    var key: OpaquePointer? = nil
    guard EVP_PKEY_generate(ctx, &key) == 1 else { return nil }
    return key
}

private func makeSelfSigned(key: OpaquePointer, commonName: String, uriSAN: String) -> OpaquePointer? {
    guard let cert = X509_new() else { return nil }
    var ok = X509_set_version(cert, 2) == 1
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1
    ok = ok && X509_gmtime_adj(sy_X509_get_notBefore(cert), -60) != nil
    ok = ok && X509_gmtime_adj(sy_X509_get_notAfter(cert), 3600) != nil
    ok = ok && X509_set_pubkey(cert, key) == 1
    if ok, let name = X509_get_subject_name(cert) {
        ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(cert, name) == 1
    }
    if ok, let ext = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, "URI:\(uriSAN)") {
        ok = X509_add_ext(cert, ext, -1) == 1
        X509_EXTENSION_free(ext)
    } else {
        ok = false
    }
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0
    if !ok {
        X509_free(cert)
        return nil
    }
    return cert
}
