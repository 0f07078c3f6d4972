import COpenSSL

/// What the dev PKI puts in a certificate, read back: used by `CertificateAuthority` (to tell
/// anchors from issuers) and by tests and tools that check what was made.
extension Certificate {
    /// Whether the certificate is self-signed (its issuer is itself): a trust anchor.
    public var isSelfSigned: Bool { X509_self_signed(x509, 0) == 1 }

    /// The issuer's commonName, if any.
    public var issuerCommonName: String? {
        guard let issuer = X509_get_issuer_name(x509) else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = X509_NAME_get_text_by_NID(issuer, NID_commonName, &buffer, Int32(buffer.count))
        guard n >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The basicConstraints path length (`pathlen:N`), or nil when there is none.
    public var pathLengthConstraint: Int? {
        let length = X509_get_pathlen(x509)
        return length < 0 ? nil : length
    }

    /// The keyUsage bits (`KU_DIGITAL_SIGNATURE`, `KU_KEY_CERT_SIGN`, ...); `UInt32.max` when
    /// the extension is absent (any use allowed).
    public var keyUsage: UInt32 { X509_get_key_usage(x509) }

    /// The extendedKeyUsage bits (`XKU_SSL_SERVER`, `XKU_SSL_CLIENT`, ...); `UInt32.max` when
    /// the extension is absent.
    public var extendedKeyUsage: UInt32 { X509_get_extended_key_usage(x509) }

    /// The subject key identifier, or nil.
    public var subjectKeyIdentifier: [UInt8]? { Self.bytes(X509_get0_subject_key_id(x509)) }

    /// The authority key identifier's keyIdentifier, or nil.
    public var authorityKeyIdentifier: [UInt8]? { Self.bytes(X509_get0_authority_key_id(x509)) }

    /// Whether the extension `nid` (`NID_basic_constraints`, `NID_subject_alt_name`, ...) is
    /// present and marked critical; nil when it is absent.
    public func isExtensionCritical(_ nid: Int32) -> Bool? {
        let index = X509_get_ext_by_NID(x509, nid, -1)
        guard index >= 0, let ext = X509_get_ext(x509, index) else { return nil }
        return X509_EXTENSION_get_critical(ext) == 1
    }

    /// The signature algorithm's short name: `ecdsa-with-SHA256`, ...
    public var signatureAlgorithm: String {
        String(cString: OBJ_nid2ln(X509_get_signature_nid(x509)))
    }

    /// What the subject public key is: `EC prime256v1`, `RSA 2048`, ...
    public var publicKeyKind: String {
        guard let key = X509_get0_pubkey(x509) else { return "none" }
        if EVP_PKEY_is_a(key, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            if EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 {
                return "EC " + String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            return "EC"
        }
        return "\(String(cString: EVP_PKEY_get0_type_name(key))) \(EVP_PKEY_get_bits(key))"
    }

    private static func bytes(_ string: UnsafePointer<ASN1_OCTET_STRING>?) -> [UInt8]? {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }
}
