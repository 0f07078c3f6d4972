import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import SwitchyardSubprocess
import SwitchyardTestSupport
#endif

/// `switchyard run` as a user starts it: what stops the start (invalid manifests, an unusable
/// trust bundle) exits 1 saying why; a running daemon reloads on SIGHUP and on edits, serves
/// /ready and /metrics, and drains on SIGTERM with exit 0.
@Suite("switchyard run", .dedicatedThread)
struct RunCommandTests {
    /// Settings from `/dev/null` (none), so that a settings file on this machine cannot leak in;
    /// started as root, the daemon stays root (the tests' files are root's; PrivilegeTests
    /// covers the switch to another user).
    static let environment = ["SWITCHYARD_CONFIG": "/dev/null", "SWITCHYARD_USER": "root"]

    /// A temporary directory holding a copy of examples/podinfo under `manifests/`, and a dev
    /// PKI made by `switchyard certs` (`ca/`, and `ids/test/default` when `identity` is true).
    static func world(identity: Bool = true) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sy-run-\(UUID().uuidString)")
        let manifests = dir.appendingPathComponent("manifests")
        try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
        let examples = Switchyard.root.appendingPathComponent("examples/podinfo")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path) where name.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: examples.appendingPathComponent(name), to: manifests.appendingPathComponent(name))
        }
        let ca = dir.appendingPathComponent("ca").path
        let made = try Switchyard.run(["certs", "init", "--out", ca])
        #expect(made.status == 0, "\(made.stderr)")
        if identity {
            let issued = try Switchyard.run(["certs", "issue", "--ca", ca, "--identity", "default.test.serviceaccount.identity.linkerd.cluster.local",
                                             "--out", dir.appendingPathComponent("ids/test/default").path])
            #expect(issued.status == 0, "\(issued.stderr)")
        }
        return dir
    }

    /// `run` over `world` on loopback with free ports, node-2 (the backends' node).
    static func arguments(_ world: URL) -> [String] {
        ["run", "--manifests", world.appendingPathComponent("manifests").path, "--node", "node-2",
         "--identity-dir", world.appendingPathComponent("ids").path,
         "--trust-bundle", world.appendingPathComponent("ca/trust-bundle.pem").path,
         "--outbound-listen", "127.0.0.1:0", "--inbound-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--shutdown-grace", "1"]
    }

    @Test("the contract's flags are all there")
    func help() throws {
        let result = try Switchyard.run(["run", "--help"], environment: [:])
        #expect(result.status == 0)
        for flag in ["--manifests", "--node", "--mode", "--pod", "--identity-dir", "--trust-bundle", "--trust-domain",
                     "--outbound-listen", "--inbound-listen", "--admin-listen", "--ingress-mode", "--threads", "--config",
                     "--opaque-ports", "--require-mtls", "--access-log", "--log-level", "--shutdown-grace", "--peer-inbound-port",
                     "--user"] {
            #expect(result.stdout.contains(flag), "\(flag)")
        }
        #expect(!result.stdout.contains("--print-settings"))
        let top = try Switchyard.run(["--help"], environment: [:])
        #expect(top.stdout.contains("run"))
    }

    @Test("a missing manifests directory stops the start")
    func missingManifests() throws {
        let result = try Switchyard.run(["run", "--manifests", "/nonexistent/sy-manifests", "--node", "n"], environment: Self.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: /nonexistent/sy-manifests: cannot read manifest directory"), "\(result.stderr)")
        #expect(result.stderr.contains("/nonexistent/sy-manifests: 1 error; not starting"))
    }

    @Test("invalid manifests stop the start, every error named by file, document and field as check names them")
    func invalidManifests() throws {
        let dir = try Switchyard.manifests([
            "routes/bad.yaml": """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: test}
                spec:
                  ports: [{port: 80}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: web-route, namespace: test}
                spec:
                  parentRefs: [{name: web, kind: Service, group: core, port: 80}]
                  rules:
                  - matches: [{headers: [{name: "bad header", value: x}]}]
                    backendRefs: [{name: web, port: 70000}]
                """,
            "broken.yml": "kind: [unclosed\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Switchyard.run(["run", "--manifests", dir.path, "--node", "n"], environment: Self.environment)
        let check = try Switchyard.run(["check", "--manifests", dir.path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("routes/bad.yaml: document 1 (HTTPRoute test/web-route): spec.rules[0].matches[0].headers[0].name"),
                "\(result.stderr)")
        #expect(result.stderr.contains("routes/bad.yaml: document 1 (HTTPRoute test/web-route): spec.rules[0].backendRefs[0].port"))
        #expect(result.stderr.contains("broken.yml"))
        #expect(result.stderr.contains("3 errors; not starting"))
        for line in check.stderr.split(separator: "\n") where line.hasPrefix("error: ") {
            #expect(result.stderr.contains(line), "run prints what check prints")
        }
    }

    @Test("a missing trust bundle stops the start, naming the file")
    func missingTrustBundle() throws {
        let result = try Switchyard.run(["run", "--manifests", "examples/podinfo", "--node", "node-1", "--trust-bundle", "/nonexistent/bundle.pem"],
                                        environment: Self.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: /nonexistent/bundle.pem: trust bundle missing or unreadable"), "\(result.stderr)")
        #expect(result.stderr.contains("from --trust-bundle"))
    }

    @Test("a trust bundle that does not parse stops the start")
    func garbageTrustBundle() throws {
        let dir = try Switchyard.manifests(["bundle.pem": "not a certificate\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = dir.appendingPathComponent("bundle.pem").path
        let result = try Switchyard.run(["run", "--manifests", "examples/podinfo", "--node", "node-1"],
                                        environment: Self.environment.merging(["SWITCHYARD_TRUST_BUNDLE": bundle]) { $1 })
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: \(bundle): trust bundle does not parse"), "\(result.stderr)")
        #expect(result.stderr.contains("from SWITCHYARD_TRUST_BUNDLE"))
    }

    // MARK: - A running daemon

    @Test("serves /ready and /metrics, reloads on an edit and on SIGHUP, drains on SIGTERM and exits 0",
          .timeLimit(.minutes(3)))
    func lifecycle() throws {
        let world = try Self.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let daemon = try Daemon(Self.arguments(world))
        defer { daemon.stop() }
        let admin = try daemon.waitForAdmin()
        #expect(try Self.eventually { try Self.get(admin, "/ready") == "ready\n" })
        #expect(try Self.get(admin, "/metrics").contains(
            #"identity_cert_expiration_timestamp_seconds{identity="default.test.serviceaccount.identity.linkerd.cluster.local"}"#))

        try FileManager.default.removeItem(at: world.appendingPathComponent("manifests/backend-router.yaml"))
        try daemon.waitFor("manifests reloaded")
        #expect(try Self.get(admin, "/metrics").contains(#"switchyard_config_reload_total{result="success"} 1"#))

        try "kind: [broken\n".write(to: world.appendingPathComponent("manifests/broken.yaml"), atomically: true, encoding: .utf8)
        try daemon.waitFor("manifest reload refused")
        #expect(try Self.get(admin, "/metrics").contains(#"switchyard_config_reload_total{result="failure"} 1"#))

        daemon.signal(SIGHUP)
        try daemon.waitFor("SIGHUP: manifests unchanged")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(daemon.stderr.contains("SIGTERM: draining"))
        #expect(daemon.stderr.contains("switchyard stopped"))
    }

    @Test("without the workload certificates it serves, but /ready lists identities",
          .timeLimit(.minutes(3)))
    func identitiesMissing() throws {
        let world = try Self.world(identity: false)
        defer { try? FileManager.default.removeItem(at: world) }
        let daemon = try Daemon(Self.arguments(world))
        defer { daemon.stop() }
        let admin = try daemon.waitForAdmin()
        try daemon.waitFor("workload identities missing")
        #expect(daemon.stderr.contains("default.test.serviceaccount.identity.linkerd.cluster.local"))
        #expect(try Self.get(admin, "/ready") == "not ready:\n  identities\n")
        daemon.signal(SIGINT)
        #expect(daemon.waitForExit() == 0)
    }

    @Test("an address already in use stops the start, naming the listener", .timeLimit(.minutes(3)))
    func addressInUse() throws {
        let world = try Self.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let first = try Daemon(Self.arguments(world))
        defer { first.stop() }
        let admin = try first.waitForAdmin()
        let line = try #require(first.stderr.split(separator: "\n").first { $0.contains("switchyard running") })
        let outbound = try #require(line.split(separator: " ").first { $0.hasPrefix("outbound=") }).dropFirst("outbound=".count)

        let adminTaken = try Switchyard.run(Self.arguments(world) + ["--admin-listen", admin], environment: Self.environment)
        #expect(adminTaken.status == 1)
        #expect(adminTaken.stderr.contains("error: --admin-listen \(admin): cannot listen"), "\(adminTaken.stderr)")

        let outboundTaken = try Switchyard.run(Self.arguments(world) + ["--outbound-listen", String(outbound)],
                                               environment: Self.environment)
        #expect(outboundTaken.status == 1)
        #expect(outboundTaken.stderr.contains("error: cannot listen on \(outbound) (outbound)"), "\(outboundTaken.stderr)")
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
    }

    /// Whether `condition` holds within 10 s (checked every 50 ms).
    static func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// The body of `GET http://admin/path` (curl; any status).
    static func get(_ admin: String, _ path: String) throws -> String {
        try SpawnedProcess.run(["/usr/bin/curl", "-s", "--max-time", "5", "http://\(admin)\(path)"]).stdout
    }

    /// A `switchyard run` in the background, its standard error in a file.
    final class Daemon: @unchecked Sendable {
        private let process: SpawnedProcess

        /// `launcher` runs the binary (e.g. `ip netns exec NS`); empty: run it directly.
        init(_ arguments: [String], launcher: [String] = []) throws {
            let environment = ProcessInfo.processInfo.environment
                .filter { !$0.key.hasPrefix("SWITCHYARD_") && $0.key != "NOTIFY_SOCKET" }
                .merging(RunCommandTests.environment) { $1 }
            process = try SpawnedProcess(launcher + [Switchyard.binary.path] + arguments, label: "switchyard",
                                         environment: environment, directory: Switchyard.root.path)
        }

        deinit { process.removeFiles() }

        /// What it logged so far.
        var stderr: String { process.stderr }
        
        /// The daemon's PID (the same after it re-executes itself to drop privileges).
        var pid: Int32 { process.pid }

        /// Waits (30 s at most: the machine is shared and tests run in parallel) for `text`
        /// anywhere in standard error (a daemon may log it before this is called: wait for text
        /// that appears once).
        func waitFor(_ text: String) throws {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if stderr.contains(text) { return }
                guard process.isRunning else { break }
                usleep(20_000)
            }
            if stderr.contains(text) { return }
            Issue.record("\"\(text)\" not logged; standard error:\n\(stderr)")
            throw CancellationError()
        }

        /// The admin address from the "switchyard running" line.
        func waitForAdmin() throws -> String {
            try waitFor("switchyard running")
            let line = try #require(stderr.split(separator: "\n").first { $0.contains("switchyard running") })
            let field = try #require(line.split(separator: " ").first { $0.hasPrefix("admin=") })
            return String(field.dropFirst("admin=".count))
        }

        func signal(_ number: Int32) { process.signal(number) }

        /// Waits (60 s at most) for it to exit; its exit status, or 128 + the signal that
        /// ended it (-1: still running).
        func waitForExit() -> Int32 {
            _ = process.waitForExitBlocking(timeout: 60)
            return process.exitStatus ?? -1
        }

        func stop() { process.kill() }
    }
}
