import COpenSSL
import Foundation

/// Builds and signs one X.509 v3 certificate with OpenSSL's C API: the low-level half of
/// `CertificateAuthority`. Internal: the authority decides what goes in; this only says how.
struct CertificateBuilder {
    /// The subject's commonName, or nil for an empty subject (then the caller must make the
    /// subjectAltName extension critical, RFC 5280 §4.2.1.6).
    var subjectCommonName: String?
    var subjectKey: PrivateKey
    var notBefore: Date
    var notAfter: Date
    /// Extensions as OpenSSL configuration values (`critical,CA:TRUE,pathlen:0`, `hash`,
    /// `keyid:always`, `DNS:name`, ...), added in this order. The subject key identifier must
    /// come before the authority key identifier (a self-signed certificate's AKI copies its SKI).
    var extensions: [(nid: Int32, value: String)]

    /// The longest commonName X.509 allows (`ub-common-name`, RFC 5280 appendix A).
    static let maximumCommonNameLength = 64

    /// Signs with ECDSA (or RSA) and SHA-256. `issuer` nil means self-signed: the certificate
    /// is its own issuer and `signingKey` must be `subjectKey`.
    func sign(issuer: Certificate?, signingKey: PrivateKey) throws -> Certificate {
        guard let x509 = X509_new() else { throw OpenSSLError.drain("X509_new") }
        // Owned by `certificate` from here on, so every early exit frees it.
        let certificate = Certificate(taking: x509)

        guard X509_set_version(x509, Int(X509_VERSION_3)) == 1 else { throw OpenSSLError.drain("X509_set_version") }
        try Self.setRandomSerial(x509)

        let subject = try Self.name(commonName: subjectCommonName)
        defer { X509_NAME_free(subject) }
        guard X509_set_subject_name(x509, subject) == 1 else { throw OpenSSLError.drain("X509_set_subject_name") }
        let issuerName = issuer.map { X509_get_subject_name($0.x509) } ?? subject
        guard X509_set_issuer_name(x509, issuerName) == 1 else { throw OpenSSLError.drain("X509_set_issuer_name") }

        guard ASN1_TIME_set(sy_X509_get_notBefore(x509), time_t(notBefore.timeIntervalSince1970.rounded(.down))) != nil,
              ASN1_TIME_set(sy_X509_get_notAfter(x509), time_t(notAfter.timeIntervalSince1970.rounded(.down))) != nil
        else { throw OpenSSLError.drain("setting the validity period") }

        guard X509_set_pubkey(x509, subjectKey.pkey) == 1 else { throw OpenSSLError.drain("X509_set_pubkey") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.x509 ?? x509, x509, nil, nil, 0)
        for (nid, value) in extensions {
            guard let extensionValue = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpenSSLError.drain("making the \(String(cString: OBJ_nid2sn(nid))) extension (\(value))")
            }
            defer { X509_EXTENSION_free(extensionValue) }
            guard X509_add_ext(x509, extensionValue, -1) == 1 else {
                throw OpenSSLError.drain("adding the \(String(cString: OBJ_nid2sn(nid))) extension")
            }
        }

        guard X509_sign(x509, signingKey.pkey, EVP_sha256()) > 0 else { throw OpenSSLError.drain("X509_sign") }
        return certificate
    }

    /// A random positive 128-bit serial with its top bit set, so every serial has the same
    /// length (32 hex digits) and two certificates from one issuer never share one in practice.
    private static func setRandomSerial(_ x509: OpaquePointer) throws {
        guard let bn = BN_new() else { throw OpenSSLError.drain("BN_new") }
        defer { BN_free(bn) }
        guard BN_rand(bn, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 else { throw OpenSSLError.drain("BN_rand") }
        guard let serial = BN_to_ASN1_INTEGER(bn, nil) else { throw OpenSSLError.drain("BN_to_ASN1_INTEGER") }
        defer { ASN1_INTEGER_free(serial) }
        guard X509_set_serialNumber(x509, serial) == 1 else { throw OpenSSLError.drain("X509_set_serialNumber") }
    }

    /// A name holding only `CN=commonName` (or nothing). The caller frees it.
    private static func name(commonName: String?) throws -> OpaquePointer {
        guard let name = X509_NAME_new() else { throw OpenSSLError.drain("X509_NAME_new") }
        if let commonName {
            let bytes = Array(commonName.utf8)
            let added = bytes.withUnsafeBufferPointer {
                X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, $0.baseAddress, Int32($0.count), -1, 0)
            }
            guard added == 1 else {
                X509_NAME_free(name)
                throw OpenSSLError.drain("setting commonName \(commonName)")
            }
        }
        return name
    }
}
