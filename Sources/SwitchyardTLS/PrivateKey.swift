import COpenSSL

/// A private key (an owned `EVP_PKEY*`). Workload keys are ECDSA P-256.
public final class PrivateKey: @unchecked Sendable {
    /// The underlying `EVP_PKEY*`, owned by this object.
    public let pkey: OpaquePointer

    /// Takes ownership of `pkey` (one reference).
    init(taking pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A new ECDSA P-256 key.
    public static func generateP256() throws -> PrivateKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw OpenSSLError.drain("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else {
            throw OpenSSLError.drain("EC P-256 key generation setup")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { throw OpenSSLError.drain("EVP_PKEY_generate") }
        return PrivateKey(taking: key)
    }

    /// Parses a PEM private key (PKCS#8 or traditional EC).
    public static func parse(pem: String) throws -> PrivateKey {
        try ReadOnlyMemoryBIO.with(pem) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw OpenSSLError.drain("reading a PEM private key") }
            return PrivateKey(taking: key)
        }
    }

    /// The key as PKCS#8 PEM text (unencrypted).
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil)
        var data: UnsafeMutablePointer<CChar>?
        let length = sy_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// `EC P-256`, `RSA 2048`, ...: what the key is, for messages.
    public var kind: String {
        if EVP_PKEY_is_a(pkey, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            if EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 {
                return "EC " + String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            return "EC"
        }
        return "\(String(cString: EVP_PKEY_get0_type_name(pkey))) \(EVP_PKEY_get_bits(pkey))"
    }

    /// Whether this is an ECDSA P-256 key (what workload identities use).
    public var isP256: Bool { kind == "EC prime256v1" || kind == "EC P-256" }

    /// Whether `certificate`'s public key is this key's.
    public func matches(_ certificate: Certificate) -> Bool {
        guard let pub = X509_get0_pubkey(certificate.x509) else { return false }
        return EVP_PKEY_eq(pkey, pub) == 1
    }
}
