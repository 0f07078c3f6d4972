import COpenSSL
import Foundation
import Testing
@testable import SwitchyardTLS

@Suite("CertificateAuthority")
struct CertificateAuthorityTests {
    // MARK: - Trust anchor and issuer

    @Test("a trust anchor is a self-signed P-256 CA: CA:TRUE pathlen 1 critical, keyCertSign+cRLSign, SKI = AKI, 10 years")
    func trustAnchor() throws {
        let now = PKITest.wholeSecondNow()
        let anchor = try CertificateAuthority.makeTrustAnchor(now: now)
        let cert = anchor.certificate
        #expect(cert.subjectCommonName == "root.linkerd.cluster.local")
        #expect(cert.issuerCommonName == "root.linkerd.cluster.local")
        #expect(cert.isSelfSigned && anchor.isTrustAnchor)
        #expect(cert.isCA)
        #expect(cert.pathLengthConstraint == 1)
        #expect(cert.isExtensionCritical(NID_basic_constraints) == true)
        #expect(cert.isExtensionCritical(NID_key_usage) == true)
        #expect(cert.keyUsage == UInt32(KU_KEY_CERT_SIGN | KU_CRL_SIGN))
        let ski = try #require(cert.subjectKeyIdentifier)
        #expect(ski.count == 20)
        #expect(cert.authorityKeyIdentifier == ski)
        #expect(cert.publicKeyKind == "EC prime256v1")
        #expect(anchor.key.isP256 && anchor.key.matches(cert))
        #expect(cert.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(cert.dnsNames.isEmpty)
        #expect(cert.serialNumber.count == 32)
        #expect(cert.notBefore == now - 60)
        #expect(cert.notAfter == now + 3650 * 86_400)
        // Verifies as its own anchor.
        try TrustBundle(anchors: [cert]).verify(chain: [cert])
    }

    @Test("an issuer is an intermediate CA signed by the anchor: pathlen 0, AKI = anchor's SKI, 1 year, chains to the anchor")
    func issuer() throws {
        let now = PKITest.wholeSecondNow()
        let anchor = try CertificateAuthority.makeTrustAnchor(now: now)
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor, now: now)
        let cert = issuer.certificate
        #expect(cert.subjectCommonName == "identity.linkerd.cluster.local")
        #expect(cert.issuerCommonName == "root.linkerd.cluster.local")
        #expect(!cert.isSelfSigned && !issuer.isTrustAnchor)
        #expect(cert.isCA)
        #expect(cert.pathLengthConstraint == 0)
        #expect(cert.isExtensionCritical(NID_basic_constraints) == true)
        #expect(cert.keyUsage == UInt32(KU_KEY_CERT_SIGN | KU_CRL_SIGN))
        #expect(cert.authorityKeyIdentifier == anchor.certificate.subjectKeyIdentifier)
        #expect(cert.subjectKeyIdentifier != anchor.certificate.subjectKeyIdentifier)
        #expect(cert.publicKeyKind == "EC prime256v1")
        #expect(cert.notBefore == now - 60)
        #expect(cert.notAfter == now + 365 * 86_400)
        #expect(issuer.intermediates.isEmpty)
        try TrustBundle(anchors: [anchor.certificate]).verify(chain: [cert])
        #expect(PKITest.error { try TrustBundle(anchors: [PKITest.makeCA().anchor.certificate]).verify(chain: [cert]) } != nil)
    }

    @Test("the trust domain names the anchor and the issuer")
    func trustDomainNames() throws {
        let (anchor, issuer) = try PKITest.makeCA(trustDomain: "example.org")
        #expect(anchor.certificate.subjectCommonName == "root.linkerd.example.org")
        #expect(issuer.certificate.subjectCommonName == "identity.linkerd.example.org")
    }

    @Test("an issuer may not outlive its anchor")
    func issuerOutlivingAnchor() throws {
        let anchor = try CertificateAuthority.makeTrustAnchor(validity: .seconds(3600))
        let error = PKITest.error { _ = try CertificateAuthority.makeIssuer(signedBy: anchor, validity: .seconds(7200)) }
        guard case .outlivesIssuer? = error as? PKIError else {
            Issue.record("expected outlivesIssuer, got \(String(describing: error))")
            return
        }
    }

    @Test("a CA refuses a key that is not its certificate's, and a certificate that is not a CA")
    func caInitChecks() throws {
        let (anchor, issuer) = try PKITest.makeCA()
        #expect(PKITest.error { _ = try CertificateAuthority(certificate: issuer.certificate, key: anchor.key) } as? PKIError
            == .keyMismatch("identity.linkerd.cluster.local"))
        let leaf = try issuer.issue(identity: PKITest.identity)
        #expect(PKITest.error { _ = try CertificateAuthority(certificate: leaf.certificate, key: leaf.key) } as? PKIError
            == .notACertificateAuthority(PKITest.identity))
    }

    // MARK: - Workload certificates

    @Test("a workload chain (leaf + issuer) verifies against the anchor, and not against another CA's bundle")
    func chainVerifies() throws {
        let (anchor, issuer) = try PKITest.makeCA()
        let issued = try issuer.issue(identity: PKITest.identity)
        #expect(issued.chain.count == 2)
        #expect(issued.chain[1].serialNumber == issuer.certificate.serialNumber)
        #expect(!issued.chain.contains { $0.serialNumber == anchor.certificate.serialNumber })
        try TrustBundle(anchors: [anchor.certificate]).verify(chain: issued.chain)

        let other = try PKITest.makeCA()
        let error = PKITest.error { try TrustBundle(anchors: [other.anchor.certificate]).verify(chain: issued.chain) }
        #expect((error as? CertificateVerificationError)?.reason == "unable to get local issuer certificate")
        // The issuer in the chain is what links the leaf to the anchor.
        let leafOnly = PKITest.error { try TrustBundle(anchors: [anchor.certificate]).verify(chain: [issued.certificate]) }
        #expect((leafOnly as? CertificateVerificationError)?.reason == "unable to get local issuer certificate")
    }

    @Test("the leaf: one DNS SAN and CN = identity, CA:FALSE, digitalSignature, serverAuth+clientAuth, P-256, SKI/AKI, ECDSA-SHA256")
    func leafContents() throws {
        let (_, issuer) = try PKITest.makeCA()
        let issued = try issuer.issue(identity: PKITest.identity)
        let leaf = issued.certificate
        #expect(leaf.dnsNames == [PKITest.identity])
        #expect(leaf.subjectCommonName == PKITest.identity)
        #expect(leaf.issuerCommonName == "identity.linkerd.cluster.local")
        #expect(!leaf.isCA)
        #expect(X509_check_ca(leaf.x509) == 0)
        #expect(leaf.pathLengthConstraint == nil)
        #expect(leaf.isExtensionCritical(NID_basic_constraints) == true)
        #expect(leaf.isExtensionCritical(NID_key_usage) == true)
        #expect(leaf.isExtensionCritical(NID_subject_alt_name) == false)
        #expect(leaf.keyUsage == UInt32(KU_DIGITAL_SIGNATURE))
        #expect(leaf.extendedKeyUsage == UInt32(XKU_SSL_SERVER | XKU_SSL_CLIENT))
        #expect(leaf.publicKeyKind == "EC prime256v1")
        #expect(issued.key.isP256 && issued.key.matches(leaf))
        #expect(leaf.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(leaf.subjectKeyIdentifier != nil)
        #expect(leaf.authorityKeyIdentifier == issuer.certificate.subjectKeyIdentifier)
        #expect(leaf.serialNumber.count == 32)
        // X509_check_host agrees the SAN names the identity, exactly.
        #expect(X509_check_host(leaf.x509, PKITest.identity, PKITest.identity.utf8.count, 0, nil) == 1)
        #expect(X509_check_host(leaf.x509, "other.test.serviceaccount.identity.linkerd.cluster.local", 56, 0, nil) != 1)
        // What the TLS layer holds.
        let credential = issued.credential
        #expect(credential.identity == PKITest.identity && credential.leaf.serialNumber == leaf.serialNumber && credential.chain.count == 2)
    }

    @Test("tls.crt and tls.key PEM round trip: two certificates, leaf first; the key matches the leaf")
    func pemRoundTrip() throws {
        let (anchor, issuer) = try PKITest.makeCA()
        let issued = try issuer.issue(identity: PKITest.identity)
        let chain = try Certificate.parseChain(pem: issued.chainPEM)
        #expect(chain.map(\.serialNumber) == [issued.certificate.serialNumber, issuer.certificate.serialNumber])
        #expect(issued.chainPEM.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1 == 2)
        let key = try PrivateKey.parse(pem: issued.keyPEM)
        #expect(key.matches(chain[0]) && !key.matches(chain[1]))
        #expect(issued.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        try TrustBundle(pem: anchor.certificate.pem).verify(chain: chain)
    }

    @Test("every issue has a fresh key and a different serial")
    func serialsDiffer() throws {
        let (_, issuer) = try PKITest.makeCA()
        let issued = try (0..<25).map { _ in try issuer.issue(identity: PKITest.identity) }
        #expect(Set(issued.map(\.certificate.serialNumber)).count == 25)
        #expect(Set(issued.map(\.keyPEM)).count == 25)
        #expect(issued.allSatisfy { $0.certificate.serialNumber.count == 32 })
    }

    @Test("validity: from now - 1 min (clock skew) until now + ttl", arguments: [
        Duration.seconds(86_400), .seconds(90 * 60), .seconds(5400), .seconds(1),
    ])
    func validityIsTTL(ttl: Duration) throws {
        let (_, issuer) = try PKITest.makeCA()
        let now = PKITest.wholeSecondNow()
        let leaf = try issuer.issue(identity: PKITest.identity, ttl: ttl, now: now).certificate
        #expect(leaf.notAfter.timeIntervalSince(now) == TimeInterval(ttl.components.seconds))
        #expect(now.timeIntervalSince(leaf.notBefore) == 60)
    }

    @Test("an expired certificate (explicit dates) fails verification with \"certificate has expired\"")
    func expired() throws {
        let now = Date()
        // A CA from three hours ago, so the whole chain was valid while the leaf was.
        let anchor = try CertificateAuthority.makeTrustAnchor(now: now - 3 * 3600)
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor, now: now - 3 * 3600)
        let issued = try issuer.issue(identity: PKITest.identity, notBefore: now - 7200, notAfter: now - 3600)
        let bundle = try TrustBundle(anchors: [anchor.certificate])
        let error = PKITest.error { try bundle.verify(chain: issued.chain, at: now) }
        #expect((error as? CertificateVerificationError)?.reason == "certificate has expired")
        // The same chain verified inside its validity period: only time is wrong with it.
        try bundle.verify(chain: issued.chain, at: now - 5400)
    }

    @Test("a not-yet-valid certificate fails verification with \"certificate is not yet valid\"")
    func notYetValid() throws {
        let (anchor, issuer) = try PKITest.makeCA()
        let now = Date()
        let issued = try issuer.issue(identity: PKITest.identity, notBefore: now + 3600, notAfter: now + 7200)
        let bundle = try TrustBundle(anchors: [anchor.certificate])
        let error = PKITest.error { try bundle.verify(chain: issued.chain, at: now) }
        #expect((error as? CertificateVerificationError)?.reason == "certificate is not yet valid")
        try bundle.verify(chain: issued.chain, at: now + 5400)
    }

    @Test("a workload certificate may not outlive its issuer; validity must be at least 1s and ordered")
    func validityChecks() throws {
        let (_, issuer) = try PKITest.makeCA()
        let tooLong = PKITest.error { _ = try issuer.issue(identity: PKITest.identity, ttl: .seconds(400 * 86_400)) }
        guard case let .outlivesIssuer(_, issuerNotAfter, name)? = tooLong as? PKIError else {
            Issue.record("expected outlivesIssuer, got \(String(describing: tooLong))")
            return
        }
        #expect(issuerNotAfter == issuer.certificate.notAfter && name == "identity.linkerd.cluster.local")
        #expect("\(tooLong!)".contains("shorten the ttl or rotate the issuer"))

        for ttl in [Duration.zero, .milliseconds(500), .seconds(-60)] {
            let error = PKITest.error { _ = try issuer.issue(identity: PKITest.identity, ttl: ttl) }
            guard case .invalidValidity? = error as? PKIError else {
                Issue.record("ttl \(ttl): expected invalidValidity, got \(String(describing: error))")
                continue
            }
        }
        let now = Date()
        let backwards = PKITest.error { _ = try issuer.issue(identity: PKITest.identity, notBefore: now, notAfter: now - 1) }
        guard case .invalidValidity? = backwards as? PKIError else {
            Issue.record("expected invalidValidity, got \(String(describing: backwards))")
            return
        }
    }

    @Test("a given key is used; a key that is not P-256 is refused")
    func givenKey() throws {
        let (_, issuer) = try PKITest.makeCA()
        let key = try PrivateKey.generateP256()
        let issued = try issuer.issue(identity: PKITest.identity, key: key)
        #expect(key.matches(issued.certificate))

        let p384 = try #require(Self.generateP384())
        let error = PKITest.error { _ = try issuer.issue(identity: PKITest.identity, key: p384) }
        #expect(error as? PKIError == .unsupportedKey("workload keys are ECDSA P-256; this key is EC secp384r1"))
    }

    @Test("an identity longer than a commonName may be has an empty subject and a critical SAN, and still verifies")
    func longIdentity() throws {
        let (anchor, issuer) = try PKITest.makeCA()
        let identity = "a-rather-long-service-account.a-long-namespace.serviceaccount.identity.linkerd.cluster.local"
        #expect(identity.utf8.count > 64)
        let issued = try issuer.issue(identity: identity)
        #expect(issued.certificate.subjectCommonName == nil)
        #expect(issued.certificate.dnsNames == [identity])
        #expect(issued.certificate.isExtensionCritical(NID_subject_alt_name) == true)
        try TrustBundle(anchors: [anchor.certificate]).verify(chain: issued.chain)
    }

    @Test("a bundle of old and new anchors verifies workloads of both (anchor rotation); without the old one, old workloads fail")
    func anchorRotationBundle() throws {
        let old = try PKITest.makeCA()
        let new = try PKITest.makeCA()
        let oldLeaf = try old.issuer.issue(identity: PKITest.identity)
        let newLeaf = try new.issuer.issue(identity: PKITest.identity)
        let both = try TrustBundle(pem: old.anchor.certificate.pem + new.anchor.certificate.pem)
        #expect(both.anchors.count == 2)
        try both.verify(chain: oldLeaf.chain)
        try both.verify(chain: newLeaf.chain)
        let newOnly = try TrustBundle(anchors: [new.anchor.certificate])
        try newOnly.verify(chain: newLeaf.chain)
        #expect(PKITest.error { try newOnly.verify(chain: oldLeaf.chain) } != nil)
    }

    @Test("issuer rotation: workloads of the old and the new issuer both verify against the same anchor")
    func issuerRotation() throws {
        let (anchor, oldIssuer) = try PKITest.makeCA()
        let newIssuer = try CertificateAuthority.makeIssuer(signedBy: anchor)
        let bundle = try TrustBundle(anchors: [anchor.certificate])
        try bundle.verify(chain: oldIssuer.issue(identity: PKITest.identity).chain)
        try bundle.verify(chain: newIssuer.issue(identity: PKITest.identity).chain)
        // A leaf paired with the wrong issuer does not verify.
        let leaf = try newIssuer.issue(identity: PKITest.identity).certificate
        #expect(PKITest.error { try bundle.verify(chain: [leaf, oldIssuer.certificate]) } != nil)
    }

    @Test("an identity is validated before anything is signed")
    func identityValidatedOnIssue() throws {
        let (_, issuer) = try PKITest.makeCA()
        let error = PKITest.error { _ = try issuer.issue(identity: "*.test.serviceaccount.identity.linkerd.cluster.local") }
        guard case .invalidIdentity? = error as? PKIError else {
            Issue.record("expected invalidIdentity, got \(String(describing: error))")
            return
        }
    }

    /// An EC P-384 key, which workload identities do not use.
    static func generateP384() -> PrivateKey? {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_group_name(ctx, "P-384") == 1 else { return nil }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { return nil }
        return PrivateKey(taking: key)
    }
}
