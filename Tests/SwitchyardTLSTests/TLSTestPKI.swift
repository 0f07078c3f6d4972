// Test certificates with explicit validity dates and any SANs, in memory, signed by the PKI's own
// CertificateBuilder: nothing is written to disk. An anchor signs an issuer, the issuer signs leaves.
import COpenSSL
import Foundation
@testable import SwitchyardTLS

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

    /// Signs a certificate with explicit dates and any DNS SANs (none, several, wildcards),
    /// through the same `CertificateBuilder` the PKI uses.
    static func sign(
        subject: String, subjectKey: PrivateKey, issuer: Certificate?, issuerKey: PrivateKey, isCA: Bool,
        dnsNames: [String], notBefore: Date, notAfter: Date
    ) throws -> Certificate {
        var extensions: [(nid: Int32, value: String)] = [(NID_subject_key_identifier, "hash"), (NID_authority_key_identifier, "keyid:always")]
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
        let builder = CertificateBuilder(subjectCommonName: subject, subjectKey: subjectKey, notBefore: notBefore,
                                         notAfter: notAfter, extensions: extensions)
        return try builder.sign(issuer: issuer, signingKey: issuerKey)
    }
}
