#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardSubprocess
import Testing

/// `make demo`'s world, built by the demo's own script (`demo/world.sh`) for a test: network
/// namespaces `sy-d<pid>-<hex>-{node1,node2,frontend,backend-a,backend-b,unmeshed}`, two veth-joined
/// node namespaces each running `switchyard run --mode node` behind the rules of `switchyard
/// redirect install --mode node`, the pods joined to their node by veths, `demo/podinfo.py` in
/// each pod, examples/podinfo/ as the manifests plus this file's `unmeshed.yaml` (a pod with
/// `linkerd.io/inject: disabled` on node-2, behind the Service unmeshed-podinfo 10.96.0.40:9898).
/// The binary is the one the tests use (`SwitchyardBinary`), the daemons run with `--user root`.
///
/// `DemoWorld.with { world in ... }` builds it, runs the body and always runs `world.sh down`
/// (stop the processes, delete the namespaces and /etc/netns files), then checks that no
/// namespace is left. When the body throws, the end of every log is printed first. Commands
/// run as `SpawnedProcess`s (posix_spawn and waitpid; that file says why not `ChildProcess`).
final class DemoWorld: @unchecked Sendable {
    static let identity = "default.test.serviceaccount.identity.linkerd.cluster.local"
    static let script = SwitchyardBinary.root.appendingPathComponent("demo/world.sh")
    static let roles = ["node1", "node2", "frontend", "backend-a", "backend-b", "unmeshed"]
    static let podIPs = ["frontend": "10.244.1.10", "backend-a": "10.244.2.20", "backend-b": "10.244.2.30",
                         "unmeshed": "10.244.2.40"]

    /// The tests' extra manifest: an unmeshed pod in the meshed namespace `test`, and its Service.
    static let unmeshedManifest = """
        # The integration test's unmeshed pod: the namespace meshes every pod, this one opts out.
        apiVersion: v1
        kind: Service
        metadata:
          name: unmeshed-podinfo
          namespace: test
        spec:
          type: ClusterIP
          clusterIP: 10.96.0.40
          ports:
          - name: http
            port: 9898
            protocol: TCP
            targetPort: http
          selector:
            app.kubernetes.io/name: unmeshed-podinfo
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: unmeshed-podinfo-7c5b9d8f4-h2j6k
          namespace: test
          labels:
            app.kubernetes.io/name: unmeshed-podinfo
          annotations:
            linkerd.io/inject: disabled
        spec:
          serviceAccountName: default
          nodeName: node-2
          containers:
          - name: podinfo
            image: ghcr.io/stefanprodan/podinfo:6.7.0
            ports:
            - name: http
              containerPort: 9898
              protocol: TCP
        status:
          phase: Running
          podIP: 10.244.2.40
          podIPs:
          - ip: 10.244.2.40
          conditions:
          - type: Ready
            status: "True"
          - type: ContainersReady
            status: "True"

        """

    let prefix: String
    /// Scratch for the test (command output files, the extra manifests); the world's own
    /// files are in `worldDir` inside it.
    let dir: URL
    let worldDir: URL
    var manifests: URL { worldDir.appendingPathComponent("manifests") }
    var caDir: URL { worldDir.appendingPathComponent("ca") }

    private init() {
        prefix = "sy-d\(getpid())-\(String(format: "%04x", UInt16.random(in: .min ... .max)))"
        dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("sy-integ-\(prefix)")
        worldDir = dir.appendingPathComponent("world")
    }

    /// Builds the world, runs `body`, and tears everything down whatever happens.
    static func with<T>(_ body: (DemoWorld) async throws -> T) async throws -> T {
        guard geteuid() == 0 else {
            throw ChildProcessError(description: "the demo world test must run as root: it creates network namespaces and iptables rules in them")
        }
        let world = DemoWorld()
        let extra = world.dir.appendingPathComponent("extra-manifests")
        try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
        try unmeshedManifest.write(to: extra.appendingPathComponent("unmeshed.yaml"), atomically: true, encoding: .utf8)
        let clock = ContinuousClock()
        let started = clock.now
        defer {
            let downStarted = clock.now
            world.down()
            print("demo world \(world.prefix): \(clock.now - started) in all, down took \(clock.now - downStarted)")
        }
        do {
            let up = try await SpawnedProcess.run(
                ["/bin/bash", script.path, "up", world.prefix, "--switchyard", SwitchyardBinary.path, "--dir", world.worldDir.path,
                 "--user", "root", "--unmeshed", "--extra-manifests", extra.path],
                outputDir: world.dir, label: "world-up", timeout: 60)
            guard up.status == 0 else {
                throw ChildProcessError(description: "demo/world.sh up \(world.prefix) failed: \(up)")
            }
            print("demo world \(world.prefix): up in \(clock.now - started)")
            return try await body(world)
        } catch {
            print("demo world \(world.prefix) failed: \(error)\n\(world.logTails())")
            throw error
        }
    }

    func namespace(_ role: String) -> String { "\(prefix)-\(role)" }

    /// `world.sh down`, then checks that every namespace is gone; removes the scratch directory.
    private func down() {
        do {
            let down = try SpawnedProcess(["/bin/bash", Self.script.path, "down", prefix, "--switchyard", SwitchyardBinary.path,
                                             "--dir", worldDir.path], outputDir: dir, label: "world-down")
            if !down.waitForExitBlocking(timeout: 30) { down.kill() }
            let result = down.result()
            if result.status != 0 { Issue.record("demo/world.sh down \(prefix) failed: \(result)") }
        } catch {
            Issue.record("could not run demo/world.sh down \(prefix): \(error)")
        }
        for role in Self.roles where FileManager.default.fileExists(atPath: "/run/netns/\(namespace(role))") {
            Issue.record("network namespace \(namespace(role)) is still there after demo/world.sh down")
        }
        for role in Self.roles where FileManager.default.fileExists(atPath: "/etc/netns/\(namespace(role))") {
            Issue.record("/etc/netns/\(namespace(role)) is still there after demo/world.sh down")
        }
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: - Inside the namespaces

    /// Runs `arguments` inside `role`'s namespace to completion.
    func run(in role: String, _ arguments: [String], timeout: Double = 20) async throws -> CommandResult {
        try await SpawnedProcess.run(["/usr/sbin/ip", "netns", "exec", namespace(role)] + arguments, outputDir: dir,
                                       label: URL(fileURLWithPath: arguments[0]).lastPathComponent, timeout: timeout)
    }

    /// Starts `arguments` inside `role`'s namespace; the caller waits for it (or kills it).
    func spawn(in role: String, _ arguments: [String], label: String) throws -> SpawnedProcess {
        try SpawnedProcess(["/usr/sbin/ip", "netns", "exec", namespace(role)] + arguments, outputDir: dir, label: label)
    }

    /// `curl -sS -i` inside `role`'s namespace (names resolve through its /etc/netns hosts file).
    func curl(in role: String, _ url: String, method: String? = nil, headers: [String] = []) async throws -> HTTPResult {
        let arguments = ["/usr/bin/curl", "-sS", "-i", "--noproxy", "*", "--max-time", "10"]
            + (method.map { ["-X", $0] } ?? []) + headers.flatMap { ["-H", $0] } + [url]
        let result = try await run(in: role, arguments)
        guard result.status == 0, let response = Curl.parse(result.stdout).last else {
            throw ChildProcessError(description: "\(arguments.joined(separator: " ")) in \(namespace(role)) failed: \(result)")
        }
        return response
    }

    /// The tutorial's request: `curl -X POST localhost:9898/echo` in the frontend pod, whose app
    /// sends it on to http://backend-a-podinfo:9898/env.
    func echo(alternative: Bool = false) async throws -> HTTPResult {
        try await curl(in: "frontend", "http://localhost:9898/echo", method: "POST",
                       headers: alternative ? ["x-request-id: alternative"] : [])
    }

    /// A scrape of node `n`'s `/metrics` (admin on 10.0.0.n:4191, from inside its namespace).
    func metrics(node n: Int) async throws -> Metrics {
        Metrics(text: try await curl(in: "node\(n)", "http://10.0.0.\(n):4191/metrics").body)
    }

    /// The packet counter of the rule in node `n`'s nat chain `chain` whose comment contains `comment`.
    func natPackets(node n: Int, chain: String, comment: String) async throws -> Int? {
        let listing = try await run(in: "node\(n)", ["/usr/sbin/iptables", "-w", "5", "-t", "nat", "-L", chain, "-v", "-n", "-x"])
        return listing.stdout.split(separator: "\n").first { $0.contains(comment) }
            .flatMap { $0.split(separator: " ").first.flatMap { Int($0) } }
    }

    /// The pid of node `n`'s daemon (written by world.sh; `ip netns exec` and `setsid` exec it).
    func daemonPID(node n: Int) -> Int32? {
        (try? String(contentsOf: worldDir.appendingPathComponent("node-\(n).pid"), encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether process `pid` is alive.
    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    /// `switchyard certs issue` of the pods' identity into node `n`'s identity directory (the
    /// daemon watches it), with `ttl`.
    func reissue(node n: Int, ttl: String) async throws {
        let out = worldDir.appendingPathComponent("identity-node\(n)/test/default")
        let result = try await SpawnedProcess.run(
            [SwitchyardBinary.path, "certs", "issue", "--ca", caDir.path, "--identity", Self.identity, "--out", out.path, "--ttl", ttl],
            outputDir: dir, label: "certs-issue")
        guard result.status == 0 else { throw ChildProcessError(description: "certs issue into \(out.path) failed: \(result)") }
    }

    /// The serial number of node `n`'s workload certificate file, as `openssl x509 -serial` prints it.
    func certificateSerial(node n: Int) async throws -> String {
        let file = worldDir.appendingPathComponent("identity-node\(n)/test/default/tls.crt")
        let result = try await SpawnedProcess.run(["/usr/bin/openssl", "x509", "-noout", "-serial", "-in", file.path],
                                                    outputDir: dir, label: "openssl-x509")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The serial of the certificate node-2's inbound listener presents for the pods' identity
    /// now: an mTLS handshake from node-1's namespace with `openssl s_client`, as node-1's
    /// certificate (it then closes without a transport preface, which node-2 counts as refused).
    func servedSerialOnNode2() async throws -> String {
        let credential = worldDir.appendingPathComponent("identity-node1/test/default")
        let script = """
            openssl s_client -connect 10.0.0.2:4143 -servername \(Self.identity) -tls1_3 -verify_return_error \
              -CAfile '\(worldDir.path)/trust-bundle.pem' -cert '\(credential.path)/tls.crt' -key '\(credential.path)/tls.key' \
              </dev/null 2>/dev/null | openssl x509 -noout -serial
            """
        return try await run(in: "node1", ["/bin/sh", "-c", script]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The last lines of every log of the world (daemons, apps), for failure messages.
    func logTails(_ lines: Int = 25) -> String {
        ["node-1", "node-2", "frontend", "backend-a", "backend-b", "unmeshed"].map { name in
            let text = (try? String(contentsOf: worldDir.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? "(no log)"
            return "--- \(name).log ---\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
