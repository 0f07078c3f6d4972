import Foundation
import Logging
import Testing
@testable import SwitchyardTLS

/// A node's identity directory and trust bundle on disk, made with our own PKI.
final class IdentityWorld: @unchecked Sendable {
    let scratch: PKIScratch
    let anchor: CertificateAuthority
    let issuer: CertificateAuthority
    var identityDirectory: String { scratch.path + "/identities" }
    var bundlePath: String { scratch.path + "/trust-bundle.pem" }

    init() throws {
        scratch = try PKIScratch()
        (anchor, issuer) = try PKITest.makeCA()
        try writeBundle([anchor.certificate])
    }

    deinit { scratch.remove() }

    func writeBundle(_ anchors: [Certificate]) throws {
        try AtomicFile.write([AtomicFile.Entry(path: bundlePath, contents: anchors.map(\.pem).joined(), mode: 0o644)])
    }

    static func identity(_ sa: String, _ ns: String = "test") -> String {
        "\(sa).\(ns).serviceaccount.identity.linkerd.cluster.local"
    }

    func directory(_ sa: String, _ ns: String = "test") -> PKIWorkloadDirectory {
        PKIWorkloadDirectory(identityDirectory + "/\(ns)/\(sa)")
    }

    /// Issues `identity` (default: the one the directory implies) with `ca` into sa/ns's directory.
    @discardableResult
    func issue(_ sa: String, _ ns: String = "test", identity: String? = nil, by ca: CertificateAuthority? = nil,
               notBefore: Date? = nil, notAfter: Date? = nil) throws -> IssuedCredential {
        let ca = ca ?? issuer
        let name = identity ?? Self.identity(sa, ns)
        let issued: IssuedCredential
        if let notBefore, let notAfter {
            issued = try ca.issue(identity: name, notBefore: notBefore, notAfter: notAfter)
        } else {
            issued = try ca.issue(identity: name)
        }
        try directory(sa, ns).write(issued)
        return issued
    }

    func store(poll: Duration = .milliseconds(100)) throws -> CredentialStore {
        var logger = Logger(label: "test.credentials")
        logger.logLevel = .critical
        return try CredentialStore(configuration: CredentialStoreConfiguration(
            identityDirectory: identityDirectory, trustBundlePath: bundlePath, pollInterval: poll), logger: logger)
    }
}

@Suite("Credential store: loading, checking, rotation")
struct CredentialStoreTests {
    let web = IdentityWorld.identity("web")
    let api = IdentityWorld.identity("api")

    @Test func loadsEveryIdentityDirectory() throws {
        let world = try IdentityWorld()
        let a = try world.issue("web")
        let b = try world.issue("api")
        let store = try world.store()
        let snapshot = store.current
        #expect(Set(snapshot.credentials.keys) == [web, api])
        #expect(snapshot.credential(for: web)?.leaf.serialNumber == a.certificate.serialNumber)
        #expect(snapshot.credential(for: api)?.chain.count == 2)
        #expect(snapshot.expiries[api] == b.certificate.notAfter)
        #expect(snapshot.generation == 1)
    }

    @Test func aReissuedCertificateIsUsedAtTheNextRefresh() throws {
        let world = try IdentityWorld()
        try world.issue("web")
        let store = try world.store()
        let before = store.current
        let renewed = try world.issue("web")
        let report = store.refresh()
        #expect(report.published)
        #expect(report.replaced == [web])
        #expect(store.current.credential(for: web)?.leaf.serialNumber == renewed.certificate.serialNumber)
        #expect(store.current.generation == before.generation + 1)
        // the old snapshot is untouched: connections holding it carry on
        #expect(before.credential(for: web)?.leaf.serialNumber != renewed.certificate.serialNumber)
        // nothing changed: nothing published
        #expect(!store.refresh().published)
    }

    enum Bad: String, CaseIterable, Sendable {
        case halfWritten, mismatchedKey, expired, notYetValid, wrongSAN, otherCA, missingKey
    }

    @Test("a bad replacement is refused and the previous certificate keeps serving", arguments: Bad.allCases)
    func badReplacement(bad: Bad) throws {
        let world = try IdentityWorld()
        let good = try world.issue("web")
        let store = try world.store()
        let dir = world.directory("web")
        let expectedMessage: String
        switch bad {
        case .halfWritten:
            let pem = try world.issuer.issue(identity: web).chainPEM
            try String(pem.prefix(pem.count / 2)).write(toFile: dir.certificatePath, atomically: false, encoding: .utf8)
            expectedMessage = "tls.crt"
        case .mismatchedKey:
            let other = try world.issuer.issue(identity: web)
            try other.chainPEM.write(toFile: dir.certificatePath, atomically: true, encoding: .utf8)
            expectedMessage = "does not match"
        case .expired:
            try world.issue("web", notBefore: Date(timeIntervalSinceNow: -7200), notAfter: Date(timeIntervalSinceNow: -3600))
            expectedMessage = "expired"
        case .notYetValid:
            try world.issue("web", notBefore: Date(timeIntervalSinceNow: 3600), notAfter: Date(timeIntervalSinceNow: 7200))
            expectedMessage = "not yet valid"
        case .wrongSAN:
            try world.issue("web", identity: api)
            expectedMessage = "the certificate names \(api), the directory implies \(web)"
        case .otherCA:
            let (_, stranger) = try PKITest.makeCA()
            try world.issue("web", by: stranger)
            expectedMessage = "does not verify against the trust bundle"
        case .missingKey:
            try FileManager.default.removeItem(atPath: dir.keyPath)
            expectedMessage = "tls.key: missing"
        }
        let report = store.refresh()
        #expect(!report.published)
        #expect(report.problems.count == 1)
        #expect(report.problems.first.map { String(describing: $0).contains(expectedMessage) } == true, "\(report.problems)")
        #expect(report.problems.first.map { String(describing: $0).contains("still serving serial \(good.certificate.serialNumber)") } == true)
        #expect(store.current.credential(for: web)?.leaf.serialNumber == good.certificate.serialNumber)
        // reported once; a later good replacement is taken
        #expect(store.refresh().problems.isEmpty)
        let fixed = try world.issue("web")
        #expect(store.refresh().replaced == [web])
        #expect(store.current.credential(for: web)?.leaf.serialNumber == fixed.certificate.serialNumber)
    }

    @Test func aBadIdentityAtStartIsLeftOutAndTheRestServe() throws {
        let world = try IdentityWorld()
        try world.issue("web")
        try world.issue("api", identity: web)  // wrong SAN
        let store = try world.store()
        #expect(Set(store.current.credentials.keys) == [web])
    }

    @Test func anUnusableTrustBundleAtStartIsAnError() throws {
        let world = try IdentityWorld()
        try "not a certificate".write(toFile: world.bundlePath, atomically: true, encoding: .utf8)
        #expect(throws: CredentialProblem.self) { try world.store() }
    }

    @Test func certificatesThatExpireWhileServedAreWithdrawn() throws {
        let world = try IdentityWorld()
        let issued = try world.issue("web")
        let store = try world.store()
        let report = store.refresh(now: issued.certificate.notAfter.addingTimeInterval(1))
        #expect(report.removed == [web])
        #expect(store.current.credential(for: web) == nil)
        #expect(report.problems.first.map { "\($0)".contains("expired") } == true)
    }

    @Test func aRemovedIdentityDirectoryIsNoLongerServed() throws {
        let world = try IdentityWorld()
        try world.issue("web")
        try world.issue("api")
        let store = try world.store()
        try FileManager.default.removeItem(atPath: world.directory("api").path)
        let report = store.refresh()
        #expect(report.removed == [api])
        #expect(Set(store.current.credentials.keys) == [web])
    }

    @Test("trust anchor rotation: bundle old and new, re-issue, remove the old")
    func anchorRotation() throws {
        let world = try IdentityWorld()
        try world.issue("web")
        let store = try world.store()
        let newAnchor = try CertificateAuthority.makeTrustAnchor()
        let newIssuer = try CertificateAuthority.makeIssuer(signedBy: newAnchor)

        // A bundle with only the new anchor would strand the served certificate: refused.
        try world.writeBundle([newAnchor.certificate])
        var report = store.refresh()
        #expect(!report.trustBundleReplaced)
        #expect(report.problems.first.map { "\($0)".contains("new trust bundle refused") && "\($0)".contains(web) } == true)
        #expect(store.current.trustBundle.anchors.count == 1)

        // Old and new together: accepted.
        try world.writeBundle([world.anchor.certificate, newAnchor.certificate])
        report = store.refresh()
        #expect(report.trustBundleReplaced)
        #expect(store.current.trustBundle.anchors.count == 2)

        // Re-issue from the new issuer, then drop the old anchor.
        let reissued = try world.issue("web", by: newIssuer)
        #expect(store.refresh().replaced == [web])
        try world.writeBundle([newAnchor.certificate])
        report = store.refresh()
        #expect(report.trustBundleReplaced, "\(report.problems)")
        #expect(store.current.credential(for: web)?.leaf.serialNumber == reissued.certificate.serialNumber)
    }

    @Test("the watcher picks up a replaced certificate within two seconds")
    func watcher() async throws {
        let world = try IdentityWorld()
        try world.issue("web")
        let store = try world.store(poll: .milliseconds(500))
        let watch = store.watch()
        defer { watch.cancel() }
        let renewed = try world.issue("web")
        let written = Date()
        // Waits generously: this test task may itself be starved by a busy test run; what is
        // measured is when the store published the change, not when this task noticed.
        for _ in 0..<200 where store.current.credential(for: web)?.leaf.serialNumber != renewed.certificate.serialNumber {
            try await Task.sleep(for: .milliseconds(50))
        }
        let snapshot = store.current
        #expect(snapshot.credential(for: web)?.leaf.serialNumber == renewed.certificate.serialNumber)
        #expect(snapshot.publishedAt.timeIntervalSince(written) <= 2)
    }
}
