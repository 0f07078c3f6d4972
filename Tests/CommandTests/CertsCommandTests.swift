import Foundation
import Testing
import SwitchyardSubprocess
import SwitchyardTestSupport

@Suite("switchyard certs", .dedicatedThread)
struct CertsCommandTests {
    static let identity = "default.test.serviceaccount.identity.linkerd.cluster.local"

    /// An empty temporary directory.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sy-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func mode(_ url: URL) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
    }

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    static func certificateCount(_ url: URL) throws -> Int {
        try text(url).components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
    }

    static let openssl: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func runOpenSSL(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try SpawnedProcess.run([try #require(openssl)] + arguments, errorOutput: .merged)
        return (result.status, result.stdout)
    }

    /// The 32-hex-digit serial printed on the `serial` line of `certs issue`.
    static func printedSerial(_ stdout: String) -> String? {
        stdout.split(separator: "\n").first { $0.hasPrefix("serial ") }.map { String($0.dropFirst("serial".count)).trimmingCharacters(in: .whitespaces) }
    }

    @Test("init then issue: the CA files and tls.crt/tls.key, with their modes; what was written is printed")
    func initThenIssue() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca")
        let initResult = try Switchyard.run(["certs", "init", "--out", ca.path])
        #expect(initResult.status == 0, "\(initResult.stderr)")
        #expect(initResult.stdout.contains("trust anchor  root.linkerd.cluster.local  serial "))
        #expect(initResult.stdout.contains("issuer        identity.linkerd.cluster.local  serial "))
        for name in ["trust-anchor.crt", "trust-anchor.key", "issuer.crt", "issuer.key", "trust-bundle.pem"] {
            #expect(initResult.stdout.contains("wrote \(ca.appendingPathComponent(name).path)\n"))
        }
        #expect(try Self.mode(ca) == 0o700)
        #expect(try Self.mode(ca.appendingPathComponent("trust-anchor.key")) == 0o600)
        #expect(try Self.mode(ca.appendingPathComponent("issuer.key")) == 0o600)
        #expect(try Self.mode(ca.appendingPathComponent("trust-anchor.crt")) == 0o644)
        #expect(try Self.mode(ca.appendingPathComponent("issuer.crt")) == 0o644)
        #expect(try Self.mode(ca.appendingPathComponent("trust-bundle.pem")) == 0o644)
        #expect(try Self.text(ca.appendingPathComponent("trust-bundle.pem")) == Self.text(ca.appendingPathComponent("trust-anchor.crt")))

        let out = dir.appendingPathComponent("identity/test/default")
        let issue = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", Self.identity, "--ttl", "90m", "--out", out.path])
        #expect(issue.status == 0, "\(issue.stderr)")
        #expect(issue.stderr.isEmpty, "\(issue.stderr)")
        #expect(issue.stdout.contains("identity  \(Self.identity)\n"))
        #expect(Self.printedSerial(issue.stdout)?.count == 32, "\(issue.stdout)")
        #expect(issue.stdout.contains("(ttl 1h30m)"))
        #expect(issue.stdout.contains("issuer    identity.linkerd.cluster.local"))
        #expect(issue.stdout.contains("wrote \(out.appendingPathComponent("tls.key").path)\nwrote \(out.appendingPathComponent("tls.crt").path)\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["tls.crt", "tls.key"])
        #expect(try Self.mode(out.appendingPathComponent("tls.key")) == 0o600)
        #expect(try Self.mode(out.appendingPathComponent("tls.crt")) == 0o644)
        #expect(try Self.certificateCount(out.appendingPathComponent("tls.crt")) == 2)
        #expect(try Self.text(out.appendingPathComponent("tls.key")).hasPrefix("-----BEGIN PRIVATE KEY-----"))

        // The validity printed is the validity written: from now - 1 min to now + 90m.
        let valid = try #require(issue.stdout.split(separator: "\n").first { $0.hasPrefix("valid ") })
        let dates = valid.split(separator: " ").compactMap { try? Date($0.trimmingCharacters(in: .whitespaces), strategy: .iso8601) }
        #expect(dates.count == 2 && dates[1].timeIntervalSince(dates[0]) == 90 * 60 + 60, "\(valid)")

        if Self.openssl != nil {
            let verify = try Self.runOpenSSL(["verify", "-x509_strict", "-CAfile", ca.appendingPathComponent("trust-bundle.pem").path,
                                              "-untrusted", ca.appendingPathComponent("issuer.crt").path,
                                              out.appendingPathComponent("tls.crt").path])
            #expect(verify.status == 0 && verify.output.hasSuffix(": OK\n"), "\(verify.output)")
            let serial = try Self.runOpenSSL(["x509", "-noout", "-serial", "-in", out.appendingPathComponent("tls.crt").path])
            #expect(serial.output == "serial=\(Self.printedSerial(issue.stdout) ?? "")\n")
        }
    }

    @Test("init refuses to overwrite a CA (exit 1, files unchanged); --force replaces it")
    func refusesToOverwrite() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Switchyard.run(["certs", "init", "--out", dir.path]).status == 0)
        let anchor = dir.appendingPathComponent("trust-anchor.crt")
        let before = try Self.text(anchor)
        let key = try Self.text(dir.appendingPathComponent("issuer.key"))

        let again = try Switchyard.run(["certs", "init", "--out", dir.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds a CA"))
        #expect(again.stderr.contains("refusing to overwrite"))
        #expect(again.stderr.contains("--force"))
        #expect(again.stdout.isEmpty)
        #expect(try Self.text(anchor) == before)
        #expect(try Self.text(dir.appendingPathComponent("issuer.key")) == key)

        let forced = try Switchyard.run(["certs", "init", "--out", dir.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Self.text(anchor) != before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 5)
    }

    @Test("--trust-domain names the anchor and the issuer")
    func trustDomain() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["certs", "init", "--out", dir.path, "--trust-domain", "example.org"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("trust anchor  root.linkerd.example.org "))
        #expect(r.stdout.contains("issuer        identity.linkerd.example.org "))
        let bad = try Switchyard.run(["certs", "init", "--out", dir.appendingPathComponent("x").path, "--trust-domain", "Example..org"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--trust-domain"))
    }

    @Test("a bad identity: non-zero exit, a message saying why, nothing written", arguments: [
        ("*.test.serviceaccount.identity.linkerd.cluster.local", "wildcards are not allowed"),
        ("default..serviceaccount.identity.linkerd.cluster.local", "empty label"),
        ("Default.test.serviceaccount.identity.linkerd.cluster.local", "upper case"),
        ("", "empty"),
    ])
    func badIdentity(identity: String, reason: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca")
        #expect(try Switchyard.run(["certs", "init", "--out", ca.path]).status == 0)
        let out = dir.appendingPathComponent("out")
        let r = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", identity, "--out", out.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("invalid identity"), "\(r.stderr)")
        #expect(r.stderr.contains(reason), "\(r.stderr)")
        #expect(r.stderr.contains("<serviceaccount>.<namespace>.serviceaccount.identity.linkerd.<trust domain>"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("a bad --ttl: non-zero exit and a message saying what a duration looks like", arguments: [
        ("1d", "there is no unit d"), ("24", "has no unit"), ("-1h", "negative"), ("soon", "expected a number"), ("0s", "at least 1s"),
    ])
    func badTTL(ttl: String, reason: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca")
        #expect(try Switchyard.run(["certs", "init", "--out", ca.path]).status == 0)
        let out = dir.appendingPathComponent("out")
        let r = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", Self.identity, "--ttl", ttl, "--out", out.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains(reason), "\(r.stderr)")
        if ttl != "0s" { #expect(r.stderr.contains("--ttl") && r.stderr.contains("24h, 90m, 1h30m or 3600s"), "\(r.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("tls.crt").path))
    }

    @Test("a ttl beyond the issuer's expiry is refused (exit 1), saying so")
    func ttlBeyondIssuer() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Switchyard.run(["certs", "init", "--out", dir.path, "--issuer-validity", "48h"]).status == 0)
        let r = try Switchyard.run(["certs", "issue", "--ca", dir.path, "--identity", Self.identity, "--ttl", "72h",
                                    "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("after its issuer identity.linkerd.cluster.local"), "\(r.stderr)")
    }

    @Test("issue from a directory that holds no CA says how to make one")
    func missingCA() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["certs", "issue", "--ca", dir.path, "--identity", Self.identity, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("is not a CA directory (there is no issuer.crt in it)"), "\(r.stderr)")
        #expect(r.stderr.contains("switchyard certs init --out"))
    }

    @Test("re-issuing rotates: a new serial in the same files; rotate-issuer: new certificates carry the new issuer, old ones still verify")
    func rotation() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca")
        #expect(try Switchyard.run(["certs", "init", "--out", ca.path]).status == 0)
        let out = dir.appendingPathComponent("test/default")
        let first = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", Self.identity, "--out", out.path])
        let oldChain = try Self.text(out.appendingPathComponent("tls.crt"))
        let second = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", Self.identity, "--out", out.path])
        #expect(first.status == 0 && second.status == 0)
        #expect(Self.printedSerial(first.stdout) != nil && Self.printedSerial(first.stdout) != Self.printedSerial(second.stdout))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["tls.crt", "tls.key"])

        let oldIssuer = try Self.text(ca.appendingPathComponent("issuer.crt"))
        let rotate = try Switchyard.run(["certs", "rotate-issuer", "--ca", ca.path])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("new issuer  identity.linkerd.cluster.local  serial "))
        let newIssuer = try Self.text(ca.appendingPathComponent("issuer.crt"))
        #expect(newIssuer != oldIssuer)
        #expect(try Self.mode(ca.appendingPathComponent("issuer.key")) == 0o600)
        let third = try Switchyard.run(["certs", "issue", "--ca", ca.path, "--identity", Self.identity, "--out", out.path])
        #expect(third.status == 0, "\(third.stderr)")
        let newChain = try Self.text(out.appendingPathComponent("tls.crt"))
        #expect(newChain.hasSuffix(newIssuer))
        #expect(oldChain.hasSuffix(oldIssuer))

        if Self.openssl != nil {
            let bundle = ca.appendingPathComponent("trust-bundle.pem").path
            let oldFile = dir.appendingPathComponent("old.crt")
            try oldChain.write(to: oldFile, atomically: true, encoding: .utf8)
            for file in [oldFile.path, out.appendingPathComponent("tls.crt").path] {
                let verify = try Self.runOpenSSL(["verify", "-CAfile", bundle, "-untrusted", file, file])
                #expect(verify.status == 0, "\(verify.output)")
            }
        }
    }

    @Test("warnings: a name that is not a mesh identity, and an --out that does not match <ns>/<sa>")
    func warnings() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Switchyard.run(["certs", "init", "--out", dir.path]).status == 0)
        let foreign = try Switchyard.run(["certs", "issue", "--ca", dir.path, "--identity", "nginx.test.svc.cluster.local",
                                          "--out", dir.appendingPathComponent("nginx").path])
        #expect(foreign.status == 0)
        #expect(foreign.stderr.contains("warning: nginx.test.svc.cluster.local is not a mesh workload identity"), "\(foreign.stderr)")
        let misplaced = try Switchyard.run(["certs", "issue", "--ca", dir.path, "--identity", Self.identity,
                                            "--out", dir.appendingPathComponent("prod/web").path])
        #expect(misplaced.status == 0)
        #expect(misplaced.stderr.contains("does not end in test/default"), "\(misplaced.stderr)")
    }
}
