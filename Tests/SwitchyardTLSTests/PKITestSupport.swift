import Foundation
import Testing
@testable import SwitchyardTLS
import SwitchyardSubprocess

/// A fresh directory under the temporary directory, for one test; `remove()` it when done.
struct PKIScratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sy-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum PKITest {
    /// `now` rounded down to a whole second (certificates hold whole seconds).
    static func wholeSecondNow() -> Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }

    /// A trust anchor and an issuer signed by it.
    static func makeCA(trustDomain: String = "cluster.local") throws -> (anchor: CertificateAuthority, issuer: CertificateAuthority) {
        let anchor = try CertificateAuthority.makeTrustAnchor(commonName: CertificateAuthority.trustAnchorCommonName(trustDomain: trustDomain))
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor, commonName: CertificateAuthority.issuerCommonName(trustDomain: trustDomain))
        return (anchor, issuer)
    }

    static let identity = "default.test.serviceaccount.identity.linkerd.cluster.local"

    /// The permission bits of `path`.
    static func mode(_ path: String) throws -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { throw AtomicFileError(path: path, operation: "stat", code: errno) }
        return info.st_mode & 0o7777
    }

    static func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The error `body` throws, or nil.
    static func error(_ body: () throws -> Void) -> (any Error)? {
        do { try body(); return nil } catch { return error }
    }

    /// Where the real `openssl` command is, if installed (an independent check of what we make).
    static let openssl: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `openssl arguments...`, returning its exit status and stdout + stderr.
    static func runOpenSSL(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let result = try SpawnedProcess.run([try #require(openssl)] + arguments, directory: directory, errorOutput: .merged)
        return (result.status, result.stdout)
    }
}
