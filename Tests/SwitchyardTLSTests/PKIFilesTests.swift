import Foundation
import Testing
import SwitchyardTLS

@Suite("PKI files on disk")
struct PKIFilesTests {
    @Test("a CA directory: five files, keys 0600, certificates 0644, directory 0700, bundle = anchor")
    func caDirectory() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let (anchor, issuer) = try PKITest.makeCA()
        let directory = PKIDirectory(scratch.file("ca"))
        let written = try directory.create(anchor: anchor, issuer: issuer)
        #expect(written.map { ($0 as NSString).lastPathComponent }
            == ["trust-anchor.key", "issuer.key", "trust-anchor.crt", "issuer.crt", "trust-bundle.pem"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == PKIDirectory.fileNames.sorted())
        #expect(try PKITest.mode(directory.path) == 0o700)
        #expect(try PKITest.mode(directory.trustAnchorKeyPath) == 0o600)
        #expect(try PKITest.mode(directory.issuerKeyPath) == 0o600)
        #expect(try PKITest.mode(directory.trustAnchorCertificatePath) == 0o644)
        #expect(try PKITest.mode(directory.issuerCertificatePath) == 0o644)
        #expect(try PKITest.mode(directory.trustBundlePath) == 0o644)
        #expect(try PKITest.contents(directory.trustBundlePath) == PKITest.contents(directory.trustAnchorCertificatePath))
        #expect(try PKITest.contents(directory.trustAnchorCertificatePath) == anchor.certificate.pem)

        let loadedIssuer = try directory.loadIssuer()
        #expect(loadedIssuer.certificate.serialNumber == issuer.certificate.serialNumber)
        #expect(loadedIssuer.key.matches(issuer.certificate))
        let loadedAnchor = try directory.loadTrustAnchor()
        #expect(loadedAnchor.certificate.serialNumber == anchor.certificate.serialNumber && loadedAnchor.isTrustAnchor)
        #expect(try directory.loadTrustBundle().anchors.map(\.serialNumber) == [anchor.certificate.serialNumber])
    }

    @Test("an existing CA is not overwritten without force (nothing changes); with force it is replaced")
    func refusesToOverwrite() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let directory = PKIDirectory(scratch.path)
        let first = try PKITest.makeCA()
        try directory.create(anchor: first.anchor, issuer: first.issuer)
        let before = try PKIDirectory.fileNames.map { try PKITest.contents(scratch.file($0)) }

        let second = try PKITest.makeCA()
        let error = PKITest.error { try directory.create(anchor: second.anchor, issuer: second.issuer) }
        #expect(error as? PKIError == .certificateAuthorityExists(directory: scratch.path, files: PKIDirectory.fileNames))
        #expect("\(error!)".contains("--force"))
        #expect(try PKIDirectory.fileNames.map { try PKITest.contents(scratch.file($0)) } == before)

        try directory.create(anchor: second.anchor, issuer: second.issuer, force: true)
        #expect(try directory.loadTrustAnchor().certificate.serialNumber == second.anchor.certificate.serialNumber)
        #expect(try directory.loadIssuer().certificate.serialNumber == second.issuer.certificate.serialNumber)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == PKIDirectory.fileNames.sorted())
    }

    @Test("even one CA file (a half-made CA) is not overwritten")
    func refusesPartialCA() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        try "precious".write(toFile: scratch.file("issuer.key"), atomically: false, encoding: .utf8)
        let (anchor, issuer) = try PKITest.makeCA()
        let error = PKITest.error { try PKIDirectory(scratch.path).create(anchor: anchor, issuer: issuer) }
        #expect(error as? PKIError == .certificateAuthorityExists(directory: scratch.path, files: ["issuer.key"]))
        #expect(try PKITest.contents(scratch.file("issuer.key")) == "precious")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["issuer.key"])
    }

    @Test("a workload directory: tls.key 0600, tls.crt 0644 with two certificates (leaf, issuer), nothing else left behind")
    func workloadDirectory() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let ca = PKIDirectory(scratch.file("ca"))
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        let issued = try ca.issue(identity: PKITest.identity, ttl: .seconds(3600))

        let out = PKIWorkloadDirectory(scratch.file("identity/test/default"))
        let written = try out.write(issued)
        #expect(written == [out.keyPath, out.certificatePath])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["tls.crt", "tls.key"])
        #expect(try PKITest.mode(out.keyPath) == 0o600)
        #expect(try PKITest.mode(out.certificatePath) == 0o644)
        #expect(try PKITest.mode(out.path) == 0o755)

        let chain = try Certificate.parseChain(pem: PKITest.contents(out.certificatePath))
        #expect(chain.count == 2)
        #expect(chain[0].serialNumber == issued.certificate.serialNumber)
        #expect(chain[1].serialNumber == issuer.certificate.serialNumber)
        #expect(chain[0].dnsNames == [PKITest.identity])
        let key = try PrivateKey.parse(pem: PKITest.contents(out.keyPath))
        #expect(key.isP256 && key.matches(chain[0]))
        try ca.loadTrustBundle().verify(chain: chain)
    }

    @Test("re-issuing into the same directory replaces both files (rotation): new serial, new key, still a matching pair")
    func reissue() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let ca = PKIDirectory(scratch.file("ca"))
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        let out = PKIWorkloadDirectory(scratch.file("out"))
        try out.write(ca.issue(identity: PKITest.identity))
        let firstSerial = try Certificate.parseChain(pem: PKITest.contents(out.certificatePath))[0].serialNumber
        let firstKey = try PKITest.contents(out.keyPath)

        try out.write(ca.issue(identity: PKITest.identity))
        let chain = try Certificate.parseChain(pem: PKITest.contents(out.certificatePath))
        #expect(chain[0].serialNumber != firstSerial)
        #expect(try PKITest.contents(out.keyPath) != firstKey)
        #expect(try PrivateKey.parse(pem: PKITest.contents(out.keyPath)).matches(chain[0]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["tls.crt", "tls.key"])
        #expect(try PKITest.mode(out.keyPath) == 0o600)
    }

    @Test("rotating the issuer: new workloads carry the new issuer; old ones still verify against the same bundle")
    func replaceIssuer() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let ca = PKIDirectory(scratch.path)
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        let old = try ca.issue(identity: PKITest.identity)

        let newIssuer = try CertificateAuthority.makeIssuer(signedBy: ca.loadTrustAnchor())
        try ca.replaceIssuer(with: newIssuer)
        #expect(try PKITest.mode(ca.issuerKeyPath) == 0o600)
        #expect(try PKITest.mode(ca.issuerCertificatePath) == 0o644)
        let new = try ca.issue(identity: PKITest.identity)
        #expect(new.chain[1].serialNumber == newIssuer.certificate.serialNumber)
        #expect(new.chain[1].serialNumber != old.chain[1].serialNumber)
        let bundle = try ca.loadTrustBundle()
        try bundle.verify(chain: old.chain)
        try bundle.verify(chain: new.chain)
    }

    @Test("a CA directory whose issuer is not from its bundle's anchor is caught when issuing")
    func brokenCADirectory() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let ca = PKIDirectory(scratch.path)
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        try ca.replaceIssuer(with: PKITest.makeCA().issuer)
        let error = PKITest.error { _ = try ca.issue(identity: PKITest.identity) }
        guard case let .doesNotVerify(reason)? = error as? PKIError else {
            Issue.record("expected doesNotVerify, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("unable to get local issuer certificate"))
        #expect(reason.contains("trust-bundle.pem"))
    }

    @Test("missing or mismatched CA files are reported by name")
    func badCADirectories() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let missing = PKITest.error { _ = try PKIDirectory(scratch.file("nope")).issue(identity: PKITest.identity) }
        #expect(missing as? PKIError == .notACertificateAuthorityDirectory(directory: scratch.file("nope"), missing: "issuer.crt"))
        #expect("\(missing!)".contains("switchyard certs init --out"))

        let ca = PKIDirectory(scratch.path)
        let (anchor, issuer) = try PKITest.makeCA()
        try ca.create(anchor: anchor, issuer: issuer)
        try AtomicFile.write(Data(anchor.key.pem.utf8), to: ca.issuerKeyPath, mode: 0o600)
        let mismatch = PKITest.error { _ = try ca.loadIssuer() }
        #expect(mismatch as? PKIError == .keyMismatch("\(ca.issuerKeyPath) and \(ca.issuerCertificatePath)"))

        try AtomicFile.write(Data("not a certificate\n".utf8), to: ca.issuerCertificatePath, mode: 0o644)
        let garbage = PKITest.error { _ = try ca.loadIssuer() }
        guard case let .unreadableFile(path, _)? = garbage as? PKIError else {
            Issue.record("expected unreadableFile, got \(String(describing: garbage))")
            return
        }
        #expect(path == ca.issuerCertificatePath)
    }
}
