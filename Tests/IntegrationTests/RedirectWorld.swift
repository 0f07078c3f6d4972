#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardSubprocess
import Testing

/// One node with real interception, in a network namespace of its own (`sy-rd-<pid>-<random>`):
/// no `--ingress-mode`, so the outbound listener learns each connection's destination from
/// SO_ORIGINAL_DST, as it does on a real node.
///
/// Inside the namespace (nothing in the root namespace is touched):
/// - `lo` up; a veth pair `sy-v0`/`sy-v1` (both ends inside; this kernel has no dummy driver),
///   `sy-v0` holding node-1's InternalIP `10.244.1.2/24` and the pod IPs `10.244.1.{10,20,30,40}/32`;
///   the Service range `10.96.0.0/12` routed via `sy-v0`, so ClusterIPs are routable, not local.
/// - nat OUTPUT (the client runs in the same namespace): TCP with the daemon's upstream mark
///   0x5359 RETURNs, then TCP to `10.96.0.0/12` is REDIRECTed to 4140. Pod and node IPs are
///   not redirected.
/// - `switchyard run --mode node --node node-1` (no `--ingress-mode`): outbound `0.0.0.0:4140`,
///   inbound `10.244.1.2:4143`, admin `10.244.1.2:4191`. Every pod is on node-1, so a meshed hop
///   goes through this same daemon's inbound listener over mTLS.
/// - The pods' apps (`PodAppScript`): frontend, backend-a ("A backend"), backend-b ("B backend")
///   on :9898 (meshed), and the unmeshed `db` with an opaque TCP echo on :3306.
/// - Manifests: namespace.yaml and backend-router.yaml from examples/podinfo verbatim; Services
///   backend-a-podinfo 10.96.0.20:9898, backend-b-podinfo 10.96.0.30:9898, db 10.96.0.40:3306.
///
/// `RedirectWorld.with { world in ... }` builds it, runs the body, then kills every process
/// (SIGTERM and a short wait on success, SIGKILL otherwise) and deletes the namespace, also when
/// something failed. When the body throws, the daemon log and the nat rules are printed and the
/// temporary directory is kept.
final class RedirectWorld: @unchecked Sendable {
    static let addresses = WorldAddresses(prefix: "10.244.1")
    static let nodeIP = addresses.node1
    static let outboundPort = 4140
    static let inboundPort = 4143
    static let adminPort = 4191
    static let upstreamMark = "0x5359"
    static let serviceRange = "10.96.0.0/12"

    static let pods: [WorldPod] = [
        WorldPod(name: "frontend", node: .node1, host: 10, message: "frontend"),
        WorldPod(name: "backend-a", node: .node1, host: 20, message: "A backend"),
        WorldPod(name: "backend-b", node: .node1, host: 30, message: "B backend"),
        WorldPod(name: "db", node: .node1, host: 40, meshed: false, echo: true),
    ]
    static let services: [WorldService] = [
        WorldService(name: "backend-a-podinfo", pod: "backend-a", clusterIP: "10.96.0.20"),
        WorldService(name: "backend-b-podinfo", pod: "backend-b", clusterIP: "10.96.0.30"),
        WorldService(name: "db", pod: "db", clusterIP: "10.96.0.40",
                     port: WorldAddresses.echoPort, targetPort: String(WorldAddresses.echoPort)),
    ]

    let namespace: String
    let dir: URL
    let manifests: URL
    let identityDir: URL
    private(set) var pki: WorldPKI!
    private(set) var daemon: ChildProcess!
    private var children: [ChildProcess] = []
    private var namespaceCreated = false

    var adminURL: String { "http://\(Self.nodeIP):\(Self.adminPort)" }

    private init() {
        namespace = "sy-rd-\(getpid())-\(String(UInt16.random(in: .min ... .max), radix: 16))"
        dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("sy-integ-\(namespace)")
        manifests = dir.appendingPathComponent("manifests")
        identityDir = dir.appendingPathComponent("identity-redirect")  // WorldPKI makes identity-node-1..3
    }

    /// Builds the world, runs `body`, and tears everything down whatever happens.
    static func with<T>(_ body: (RedirectWorld) async throws -> T) async throws -> T {
        guard geteuid() == 0 else {
            throw ChildProcessError(description: "the interception tests must run as root: they create a network namespace and iptables rules in it")
        }
        let world = RedirectWorld()
        try FileManager.default.createDirectory(at: world.dir, withIntermediateDirectories: true)
        // The backstop: whatever happened above it, the namespace goes (after the processes in it).
        defer { world.deleteNamespace() }
        do {
            try await world.start()
            let result = try await body(world)
            await world.stop(graceful: true)
            try? FileManager.default.removeItem(at: world.dir)
            return result
        } catch {
            print("redirect world \(world.namespace) failed: \(error)\n\(await world.diagnostics())")
            await world.stop(graceful: false)
            throw error
        }
    }

    /// The IP of pod `name`.
    static func ip(of name: String) -> String {
        guard let pod = pods.first(where: { $0.name == name }) else { fatalError("no pod \(name)") }
        return addresses.host(pod.host)
    }

    private func start() async throws {
        try writeManifests()
        try await makeIdentities()
        try await buildNetwork()
        try await startApps()
        daemon = try spawn([SwitchyardBinary.path] + daemonArguments, label: "daemon-node-1", environment: daemonEnvironment)
        try await waitUntilReady()
    }

    // MARK: - Setup

    private func writeManifests() throws {
        try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
        let workloads = Self.services.map(WorldManifests.service) + Self.pods.map { WorldManifests.pod($0, Self.addresses) }
        let files = [
            "namespace.yaml": try WorldManifests.example("namespace.yaml"),
            "nodes.yaml": WorldManifests.nodes(Self.addresses),
            "workloads.yaml": workloads.joined(separator: "---\n"),
            "backend-router.yaml": try WorldManifests.tutorialRoute(),
        ]
        for (name, text) in files {
            try text.write(to: manifests.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    /// The world's dev PKI; node-1 holds the identities of frontend, backend-a and backend-b.
    private func makeIdentities() async throws {
        pki = try await WorldPKI.make(in: dir, swapIdentity: false)
        let fm = FileManager.default
        for pod in Self.pods where pod.meshed {
            let target = identityDir.appendingPathComponent("test/\(pod.serviceAccount)")
            try fm.createDirectory(at: target, withIntermediateDirectories: true)
            let credential = pki.credential(of: pod.name)
            try fm.copyItem(at: credential.certificate, to: target.appendingPathComponent("tls.crt"))
            try fm.copyItem(at: credential.key, to: target.appendingPathComponent("tls.key"))
        }
    }

    private func buildNetwork() async throws {
        try await command(["/usr/sbin/ip", "netns", "add", namespace])
        namespaceCreated = true
        try await ip("link", "set", "lo", "up")
        try await ip("link", "add", "sy-v0", "type", "veth", "peer", "name", "sy-v1")
        try await ip("link", "set", "sy-v1", "up")
        try await ip("link", "set", "sy-v0", "up")
        try await ip("addr", "add", "\(Self.nodeIP)/24", "dev", "sy-v0")
        for pod in Self.pods {
            try await ip("addr", "add", "\(Self.addresses.host(pod.host))/32", "dev", "sy-v0")
        }
        try await ip("route", "add", Self.serviceRange, "dev", "sy-v0")
        let route = try await exec(["/usr/sbin/ip", "route", "get", "10.96.0.20"])
        guard route.contains("dev sy-v0"), !route.hasPrefix("local") else {
            throw ChildProcessError(description: "ClusterIP 10.96.0.20 must be routed out of sy-v0, not local: \(route)")
        }
        let iptables = ["/usr/sbin/iptables", "-w", "5", "-t", "nat", "-A", "OUTPUT", "-p", "tcp"]
        try await exec(iptables + ["-m", "mark", "--mark", Self.upstreamMark,
                                   "-m", "comment", "--comment", "switchyard upstream", "-j", "RETURN"])
        try await exec(iptables + ["-d", Self.serviceRange, "-m", "comment", "--comment", "switchyard outbound",
                                   "-j", "REDIRECT", "--to-ports", String(Self.outboundPort)])
    }

    /// `ip -n NAMESPACE arguments...`.
    private func ip(_ arguments: String...) async throws {
        try await command(["/usr/sbin/ip", "-n", namespace] + arguments)
    }

    /// `PodAppScript` run inside the namespace (`PodApp.start` runs it in the root namespace).
    private func startApps() async throws {
        let script = dir.appendingPathComponent("pod_app.py")
        let specURL = dir.appendingPathComponent("pod_app.json")
        let ready = dir.appendingPathComponent("pod_app.ready")
        try PodAppScript.source.write(to: script, atomically: true, encoding: .utf8)
        let http: [[String: Any]] = Self.pods.compactMap { pod in
            pod.message.map { ["ip": Self.addresses.host(pod.host), "port": WorldAddresses.appPort, "name": pod.name, "message": $0] }
        }
        let echo: [[String: Any]] = Self.pods.filter(\.echo).map { ["ip": Self.addresses.host($0.host), "port": WorldAddresses.echoPort] }
        try JSONSerialization.data(withJSONObject: ["ready": ready.path, "http": http, "echo": echo]).write(to: specURL)
        let apps = try spawn(["/usr/bin/env", "python3", script.path, specURL.path], label: "pod-app")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready.path) {
            guard apps.isRunning, Date() < deadline else {
                throw ChildProcessError(description: "pod apps did not start in \(namespace):\n\(apps.stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The command line of node-1's daemon: node mode, interception (no `--ingress-mode`).
    var daemonArguments: [String] {
        var args = [
            "run", "--mode", "node", "--node", "node-1", "--manifests", manifests.path,
            "--identity-dir", identityDir.path, "--trust-bundle", pki.trustBundle.path,
            "--outbound-listen", "0.0.0.0:\(Self.outboundPort)",
            "--inbound-listen", "\(Self.nodeIP):\(Self.inboundPort)",
            "--admin-listen", "\(Self.nodeIP):\(Self.adminPort)",
            "--threads", "2",
        ]
        if let level = ProcessInfo.processInfo.environment["SY_INTEG_LOG_LEVEL"] { args += ["--log-level", level] }
        return args
    }

    /// The test's environment, plus `SWITCHYARD_USER=root`: started as root, `switchyard run`
    /// drops to the user `switchyard` by default, which this machine does not have. (A variable,
    /// not `--user root`: a daemon without that setting only notes an unknown variable.)
    var daemonEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["SWITCHYARD_USER": "root"]) { _, new in new }
    }

    private func waitUntilReady(timeout: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard daemon.isRunning else {
                throw ChildProcessError(description: "switchyard run exited with \(daemon.terminationStatus) before it was ready")
            }
            let probe = try await run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "\(adminURL)/ready"])
            if probe.stdout == "200" { return }
            guard Date() < deadline else {
                throw ChildProcessError(description: "switchyard run: /ready not 200 after \(timeout) s (last: \(probe.stdout))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: - Running things inside the namespace

    /// Starts `arguments` inside the namespace (`ip netns exec`, which execs it: the pid is the
    /// program's own); it is killed when the world ends.
    private func spawn(_ arguments: [String], label: String, environment: [String: String]? = nil) throws -> ChildProcess {
        let child = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace] + arguments, outputDir: dir, label: label,
                                     environment: environment)
        children.append(child)
        return child
    }

    /// Runs `arguments` inside the namespace to completion.
    func run(_ arguments: [String], timeout: Double = 20) async throws -> CommandResult {
        try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespace] + arguments, outputDir: dir,
                                   label: URL(fileURLWithPath: arguments[0]).lastPathComponent, timeout: timeout)
    }

    /// Runs `arguments` inside the namespace; throws unless it exits 0.
    @discardableResult
    func exec(_ arguments: [String]) async throws -> String {
        try await command(["/usr/sbin/ip", "netns", "exec", namespace] + arguments)
    }

    @discardableResult
    private func command(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(arguments[0], Array(arguments.dropFirst()), outputDir: dir,
                                                label: URL(fileURLWithPath: arguments[0]).lastPathComponent, timeout: 20)
        guard result.status == 0 else {
            throw ChildProcessError(description: "\(arguments.joined(separator: " ")) failed: \(result)")
        }
        return result.stdout
    }

    /// `curl` from pod `from` (its IP as the source, `--interface`) inside the namespace: a
    /// plain connection to whatever `url` names, as an app would make it.
    func request(_ url: String, from pod: String = "frontend", headers: [String] = []) async throws -> HTTPResult {
        let arguments = ["/usr/bin/curl", "-sS", "-i", "--max-time", "10", "--interface", Self.ip(of: pod)]
            + headers.flatMap { ["-H", $0] } + [url]
        let result = try await run(arguments)
        guard result.status == 0, let response = Curl.parse(result.stdout).last else {
            throw ChildProcessError(description: "\(arguments.joined(separator: " ")) in \(namespace) failed: \(result)\n\(daemonLogTail())")
        }
        return response
    }

    /// A scrape of the daemon's `/metrics` (from inside the namespace).
    func metrics() async throws -> Metrics {
        Metrics(text: try await request("\(adminURL)/metrics").body)
    }

    /// `iptables -t nat -L OUTPUT -v -n -x` inside the namespace: the rules with their counters.
    func natRules() async throws -> String {
        try await exec(["/usr/sbin/iptables", "-w", "5", "-t", "nat", "-L", "OUTPUT", "-v", "-n", "-x"])
    }

    /// The packet counter of the nat OUTPUT rule whose comment is `comment`.
    func packets(ofRuleCommented comment: String) async throws -> Int? {
        try await natRules().split(separator: "\n").first { $0.contains("/* \(comment) */") }
            .flatMap { $0.split(separator: " ").first.flatMap { Int($0) } }
    }

    // MARK: - Teardown and diagnostics

    func daemonLogTail(_ lines: Int = 40) -> String {
        guard let daemon else { return "(no daemon)" }
        let log = daemon.stderr + daemon.stdout
        return "--- switchyard run node-1 (pid \(daemon.pid), running: \(daemon.isRunning)) ---\n"
            + log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func diagnostics() async -> String {
        var text = "world directory: \(dir.path)\n\(daemonLogTail())\n"
        if namespaceCreated { text += "--- nat OUTPUT in \(namespace) ---\n" + ((try? await natRules()) ?? "(unreadable)") }
        return text
    }

    /// SIGTERM (graceful) or SIGKILL to every process; SIGKILL to whatever is left after 3 s.
    private func stop(graceful: Bool) async {
        for child in children where child.isRunning {
            if graceful {
                child.signal(SIGTERM)
                if await child.waitForExit(timeout: 3) { continue }
            }
            await child.kill()
        }
    }

    /// Deletes the namespace (processes still in it are SIGKILLed first) and checks it is gone.
    private func deleteNamespace() {
        for child in children where child.isRunning { Glibc.kill(child.pid, SIGKILL) }
        guard namespaceCreated else { return }
        var status: Int32 = -1
        do {
            status = try SpawnedProcess.run(["/usr/sbin/ip", "netns", "delete", namespace], timeout: 30).status
        } catch {
            Issue.record("could not delete network namespace \(namespace): \(error)")
        }
        if FileManager.default.fileExists(atPath: "/var/run/netns/\(namespace)") {
            Issue.record("network namespace \(namespace) is still there after ip netns delete (exit \(status))")
        }
    }
}
