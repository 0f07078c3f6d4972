import Foundation
import Testing
import SwitchyardTLS
import SwitchyardTestSupport

/// The real `openssl` command as an independent judge of what the dev PKI writes.
@Suite("PKI checked by the openssl command", .enabled(if: PKITest.openssl != nil, "needs the openssl command"), .dedicatedThread)
struct PKIOpenSSLCommandTests {
    /// A CA directory and a workload directory issued from it, in `scratch`.
    static func issue(into scratch: PKIScratch, identity: String = PKITest.identity) throws -> (PKIDirectory, PKIWorkloadDirectory) {
        let ca = PKIDirectory(scratch.file("ca"))
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        let out = PKIWorkloadDirectory(scratch.file("out"))
        try out.write(ca.issue(identity: identity))
        return (ca, out)
    }

    @Test("openssl verify -x509_strict: tls.crt chains to trust-bundle.pem through issuer.crt, for client and server use")
    func verify() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        _ = try Self.issue(into: scratch)
        let plain = try PKITest.runOpenSSL(["verify", "-CAfile", "ca/trust-bundle.pem", "-untrusted", "ca/issuer.crt", "out/tls.crt"],
                                           in: scratch.path)
        #expect(plain.status == 0 && plain.output == "out/tls.crt: OK\n", "\(plain.output)")
        for purpose in ["sslclient", "sslserver"] {
            // tls.crt itself as the untrusted chain: the issuer it carries is enough.
            let strict = try PKITest.runOpenSSL(
                ["verify", "-x509_strict", "-purpose", purpose, "-CAfile", "ca/trust-bundle.pem", "-untrusted", "out/tls.crt", "out/tls.crt"],
                in: scratch.path)
            #expect(strict.status == 0 && strict.output == "out/tls.crt: OK\n", "\(purpose): \(strict.output)")
        }
        let issuer = try PKITest.runOpenSSL(["verify", "-x509_strict", "-CAfile", "ca/trust-bundle.pem", "ca/issuer.crt"], in: scratch.path)
        #expect(issuer.status == 0, "\(issuer.output)")
    }

    @Test("openssl verify refuses the chain with another CA's bundle")
    func verifyOtherCA() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        _ = try Self.issue(into: scratch)
        try AtomicFile.write(Data(PKITest.makeCA().anchor.certificate.pem.utf8), to: scratch.file("other.pem"), mode: 0o644)
        let result = try PKITest.runOpenSSL(["verify", "-CAfile", "other.pem", "-untrusted", "out/tls.crt", "out/tls.crt"], in: scratch.path)
        #expect(result.status != 0)
        #expect(result.output.contains("unable to get local issuer certificate"), "\(result.output)")
    }

    @Test("openssl x509 shows one DNS SAN (the identity), CA:FALSE, digitalSignature, serverAuth+clientAuth, P-256")
    func extensions() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        _ = try Self.issue(into: scratch)
        let san = try PKITest.runOpenSSL(["x509", "-noout", "-ext", "subjectAltName", "-in", "out/tls.crt"], in: scratch.path)
        #expect(san.status == 0)
        #expect(san.output == "X509v3 Subject Alternative Name: \n    DNS:\(PKITest.identity)\n", "\(san.output)")
        let text = try PKITest.runOpenSSL(["x509", "-noout", "-text", "-in", "out/tls.crt"], in: scratch.path).output
        #expect(text.contains("Subject: CN = \(PKITest.identity)"))
        #expect(text.contains("Issuer: CN = identity.linkerd.cluster.local"))
        #expect(text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"))
        #expect(text.contains("X509v3 Key Usage: critical\n                Digital Signature\n"))
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(text.contains("NIST CURVE: P-256"))
        #expect(text.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(text.contains("X509v3 Subject Key Identifier") && text.contains("X509v3 Authority Key Identifier"))
        let anchor = try PKITest.runOpenSSL(["x509", "-noout", "-text", "-in", "ca/trust-anchor.crt"], in: scratch.path).output
        #expect(anchor.contains("Subject: CN = root.linkerd.cluster.local"))
        #expect(anchor.contains("CA:TRUE, pathlen:1"))
        #expect(anchor.contains("Certificate Sign, CRL Sign"))
        let issuer = try PKITest.runOpenSSL(["x509", "-noout", "-text", "-in", "ca/issuer.crt"], in: scratch.path).output
        #expect(issuer.contains("CA:TRUE, pathlen:0"))
    }

    @Test("openssl agrees tls.key is the P-256 key of the leaf in tls.crt")
    func keyMatches() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        _ = try Self.issue(into: scratch)
        let fromKey = try PKITest.runOpenSSL(["pkey", "-in", "out/tls.key", "-pubout"], in: scratch.path)
        let fromCert = try PKITest.runOpenSSL(["x509", "-in", "out/tls.crt", "-noout", "-pubkey"], in: scratch.path)
        #expect(fromKey.status == 0 && fromCert.status == 0)
        #expect(fromKey.output == fromCert.output && fromKey.output.contains("BEGIN PUBLIC KEY"))
        let check = try PKITest.runOpenSSL(["ec", "-in", "out/tls.key", "-check", "-noout", "-text"], in: scratch.path)
        #expect(check.output.contains("NIST CURVE: P-256"), "\(check.output)")
        #expect(check.output.contains("EC Key valid."), "\(check.output)")
    }

    @Test("openssl verify says an expired workload certificate has expired")
    func expired() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let now = Date()
        let anchor = try CertificateAuthority.makeTrustAnchor(now: now - 3 * 3600)
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor, now: now - 3 * 3600)
        let ca = PKIDirectory(scratch.file("ca"))
        try ca.create(anchor: anchor, issuer: issuer)
        let out = PKIWorkloadDirectory(scratch.file("out"))
        try out.write(issuer.issue(identity: PKITest.identity, notBefore: now - 7200, notAfter: now - 3600))
        let result = try PKITest.runOpenSSL(["verify", "-CAfile", "ca/trust-bundle.pem", "-untrusted", "out/tls.crt", "out/tls.crt"],
                                            in: scratch.path)
        #expect(result.status != 0)
        #expect(result.output.contains("certificate has expired"), "\(result.output)")
    }
}
