// Test certificates made with OpenSSL's C API (explicit validity dates, any SANs), in memory:
// nothing is written to disk. An anchor signs an issuer, the issuer signs workload leaves.
import COpenSSL
import Foundation
import SwitchyardTLS

struct TLSTestPKIError: Error, CustomStringConvertible {
    var description: String
}

/// A certificate authority for tests: its certificate and key.
struct TLSTestCA {
    let certificate: Certificate
    let key: PrivateKey

    /// A self-signed trust anchor.
    static func anchor(name: String) throws -> TLSTestCA {
        let key = try PrivateKey.generateP256()
        let cert = try TLSTestPKI.sign(
            subject: name, subjectKey: key, issuer: nil, issuerKey: key, isCA: true,
            dnsNames: [], notBefore: Date().addingTimeInterval(-3600), notAfter: Date().addingTimeInterval(86_400 * 365))
        return TLSTestCA(certificate: cert, key: key)
    }

    /// An intermediate CA signed by this one.
    func intermediate(name: String) throws -> TLSTestCA {
        let key = try PrivateKey.generateP256()
        let cert = try TLSTestPKI.sign(
            subject: name, subjectKey: key, issuer: certificate, issuerKey: self.key, isCA: true,
            dnsNames: [], notBefore: Date().addingTimeInterval(-3600), notAfter: Date().addingTimeInterval(86_400 * 30))
        return TLSTestCA(certificate: cert, key: key)
    }

    /// A workload leaf signed by this CA.
    func leaf(
        commonName: String, dnsNames: [String],
        notBefore: Date = Date().addingTimeInterval(-60), notAfter: Date = Date().addingTimeInterval(3600)
    ) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generateP256()
        let cert = try TLSTestPKI.sign(
            subject: commonName, subjectKey: key, issuer: certificate, issuerKey: self.key, isCA: false,
            dnsNames: dnsNames, notBefore: notBefore, notAfter: notAfter)
        return (cert, key)
    }
}

/// A mesh PKI: anchor → issuer → workload credentials.
struct TLSTestPKI {
    let anchor: TLSTestCA
    let issuer: TLSTestCA
    let bundle: TrustBundle

    init(name: String = "test") throws {
        anchor = try TLSTestCA.anchor(name: "\(name) trust anchor")
        issuer = try anchor.intermediate(name: "\(name) issuer")
        bundle = try TrustBundle(anchors: [anchor.certificate])
    }

    static func identity(_ serviceAccount: String, _ namespace: String = "test") -> String {
        "\(serviceAccount).\(namespace).serviceaccount.identity.linkerd.cluster.local"
    }

    /// A credential for `identity`; its leaf carries `dnsNames` (default: just the identity).
    func credential(
        _ identity: String, dnsNames: [String]? = nil,
        notBefore: Date = Date().addingTimeInterval(-60), notAfter: Date = Date().addingTimeInterval(3600)
    ) throws -> IdentityCredential {
        let (leaf, key) = try issuer.leaf(
            commonName: identity, dnsNames: dnsNames ?? [identity], notBefore: notBefore, notAfter: notAfter)
        return IdentityCredential(identity: identity, chain: [leaf, issuer.certificate], key: key)
    }

    /// Signs a certificate with explicit dates.
    static func sign(
        subject: String, subjectKey: PrivateKey, issuer: Certificate?, issuerKey: PrivateKey, isCA: Bool,
        dnsNames: [String], notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        guard let cert = X509_new() else { throw TLSTestPKIError(description: "X509_new") }
        defer { X509_free(cert) }
        var ok = X509_set_version(cert, 2) == 1
        ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(cert), Int.random(in: 1...Int(Int32.max))) == 1
        ok = ok && ASN1_TIME_set(sy_X509_get_notBefore(cert), time_t(notBefore.timeIntervalSince1970)) != nil
        ok = ok && ASN1_TIME_set(sy_X509_get_notAfter(cert), time_t(notAfter.timeIntervalSince1970)) != nil
        ok = ok && X509_set_pubkey(cert, subjectKey.pkey) == 1
        guard ok, let name = X509_get_subject_name(cert),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, subject, -1, -1, 0) == 1 else {
            throw TLSTestPKIError(description: "subject")
        }
        let issuerName = issuer.map { X509_get_subject_name($0.x509) } ?? name
        guard X509_set_issuer_name(cert, issuerName) == 1 else { throw TLSTestPKIError(description: "issuer") }

        var v3 = X509V3_CTX()
        X509V3_set_ctx(&v3, issuer?.x509 ?? cert, cert, nil, nil, 0)
        var extensions: [(Int32, String)] = [(NID_subject_key_identifier, "hash"), (NID_authority_key_identifier, "keyid:always")]
        if isCA {
            extensions += [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign")]
        } else {
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth,clientAuth"),
            ]
            if !dnsNames.isEmpty {
                extensions.append((NID_subject_alt_name, dnsNames.map { "DNS:\($0)" }.joined(separator: ",")))
            }
        }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &v3, nid, value) else {
                throw TLSTestPKIError(description: "extension \(nid)=\(value): \(OpenSSLError.drain("X509V3_EXT_conf_nid"))")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(cert, ext, -1) == 1 else { throw TLSTestPKIError(description: "X509_add_ext") }
        }
        guard X509_sign(cert, issuerKey.pkey, EVP_sha256()) > 0 else { throw TLSTestPKIError(description: "X509_sign") }

        // Through PEM, so the test target needs only the public API.
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSTestPKIError(description: "BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, cert) == 1 else { throw TLSTestPKIError(description: "PEM_write_bio_X509") }
        var data: UnsafeMutablePointer<CChar>?
        let length = sy_BIO_get_mem_data(bio, &data)
        guard let data else { throw TLSTestPKIError(description: "BIO_get_mem_data") }
        let pem = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        return try Certificate.parseChain(pem: pem)[0]
    }
}
