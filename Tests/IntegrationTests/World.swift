import Foundation

/// Two nodes on loopback, as the tutorial has them: node-1 runs the frontend, node-2 the
/// backends, each with its own `switchyard run` daemon (ingress mode), real apps at the pod IPs,
/// a dev PKI and one manifests directory both daemons watch.
///
/// `World.with { world in ... }` builds one in a fresh temporary directory and its own /24
/// (`WorldAddresses`), runs the body, and always kills every process it started; when the body
/// throws, the daemons' logs are printed and the directory is kept.
final class World: @unchecked Sendable {
    struct Options {
        /// Start the daemons (off: only PKI, manifests and apps, to check the harness itself).
        var startDaemons = true
        /// node-2 holds backend-b's certificate files as pod `swapped`'s identity. node-2 refuses
        /// them and reports not ready (`/ready` 503, identities missing), so it is waited for on `/live`.
        var swapIdentity = false
    }

    let addresses: WorldAddresses
    let dir: URL
    let manifests: URL
    private(set) var pki: WorldPKI!
    private(set) var node1: Daemon!
    private(set) var node2: Daemon!
    private let lock = NSLock()
    private var children: [ChildProcess] = []  // guarded by lock

    private init(addresses: WorldAddresses, dir: URL) {
        self.addresses = addresses
        self.dir = dir
        manifests = dir.appendingPathComponent("manifests")
    }

    /// Builds a world, runs `body` in it, and tears it down whatever happens.
    static func with<T>(_ options: Options = Options(), _ body: (World) async throws -> T) async throws -> T {
        let addresses = WorldAddresses.next()
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("sy-integ-\(addresses.prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let world = World(addresses: addresses, dir: dir)
        do {
            try await world.start(options)
            let result = try await body(world)
            await world.stop()
            try? FileManager.default.removeItem(at: dir)
            return result
        } catch {
            print("world \(addresses.prefix).0/24 failed: \(error)\n\(world.diagnostics)")
            await world.stop()
            throw error
        }
    }

    private func start(_ options: Options) async throws {
        try WorldManifests.write(to: manifests, addresses: addresses)
        pki = try await WorldPKI.make(in: dir, swapIdentity: options.swapIdentity)
        let apps = try await PodApp.start(pods: WorldManifests.pods, addresses: addresses, dir: dir)
        adopt(apps.process)
        guard options.startDaemons else { return }
        node1 = try startDaemon(.node1, ip: addresses.node1)
        node2 = try startDaemon(.node2, ip: addresses.node2)
        try await node1.waitUntil("/ready")
        try await node2.waitUntil(options.swapIdentity ? "/live" : "/ready")
    }

    private func startDaemon(_ node: WorldPod.Node, ip: String) throws -> Daemon {
        let daemon = try Daemon(node: node, ip: ip, manifests: manifests, identityDir: pki.identityDir(node),
                                trustBundle: pki.trustBundle, dir: dir)
        adopt(daemon.process)
        return daemon
    }

    /// Kills `child` when the world ends.
    func adopt(_ child: ChildProcess) {
        lock.withLock { children.append(child) }
    }

    /// Starts a process that is killed when the world ends.
    func spawn(_ executable: String, _ arguments: [String], label: String) throws -> ChildProcess {
        let child = try ChildProcess(executable, arguments, outputDir: dir, label: label)
        adopt(child)
        return child
    }

    /// SIGKILL to everything still running.
    private func stop() async {
        for child in lock.withLock({ children }) { await child.kill() }
    }

    /// The IP of pod `name`.
    func ip(of name: String) -> String { addresses.host(WorldManifests.pod(name).host) }

    /// `curl` from pod `from` (its IP as source) to node-1's outbound listener, naming the
    /// destination in `Host` (ingress mode).
    func request(_ path: String = "/env", host: String = "backend-a-podinfo.test:9898", from pod: String = "frontend",
                 headers: [String] = [], extra: [String] = [], timeout: Double = 30) async throws -> HTTPResult {
        try await Curl.request(node1.outboundURL + path, from: ip(of: pod), headers: ["Host: \(host)"] + headers,
                               extra: extra, dir: dir, timeout: timeout)
    }

    /// The daemons' log tails, for failure messages.
    var diagnostics: String {
        var text = "world directory: \(dir.path)\n"
        for daemon in [node1, node2].compactMap({ $0 }) {
            text += "--- switchyard run \(daemon.node.rawValue) (pid \(daemon.process.pid), running: \(daemon.process.isRunning)) ---\n"
            text += daemon.logTail() + "\n"
        }
        return text
    }

    /// Polls `condition` every 100 ms until it holds (true) or `timeout` seconds pass (false).
    func eventually(timeout: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        return try await condition()
    }
}
