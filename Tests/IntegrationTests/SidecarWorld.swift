import Foundation

/// One `switchyard run --mode sidecar` of a world: the proxy of one pod, all three listeners on
/// the pod's IP (the world's ports; the inbound one is `--peer-inbound-port`, which is where
/// peers dial a meshed pod in sidecar mode), with an identity directory holding only that pod's
/// certificate. The frontend's runs in ingress mode (the destination from `Host`).
final class Sidecar: Sendable {
    let pod: String
    /// The pod's IP: where the app listens (:9898) and where the sidecar binds.
    let ip: String
    let process: ChildProcess

    var outboundURL: String { "http://\(ip):\(WorldAddresses.outboundPort)" }
    var adminURL: String { "http://\(ip):\(WorldAddresses.adminPort)" }
    var inboundPort: String { String(WorldAddresses.inboundPort) }

    /// The command line of `pod`'s sidecar.
    static func arguments(pod: WorldPod, ip: String, manifests: URL, identityDir: URL, trustBundle: URL, ingress: Bool) -> [String] {
        var args = [
            "run", "--mode", "sidecar", "--pod", "test/\(pod.name)", "--node", pod.node.rawValue,
            "--manifests", manifests.path, "--identity-dir", identityDir.path, "--trust-bundle", trustBundle.path,
            "--outbound-listen", "\(ip):\(WorldAddresses.outboundPort)",
            "--inbound-listen", "\(ip):\(WorldAddresses.inboundPort)",
            "--admin-listen", "\(ip):\(WorldAddresses.adminPort)",
            "--peer-inbound-port", String(WorldAddresses.inboundPort),
            "--threads", "1", "--user", "root",
        ]
        if ingress { args.append("--ingress-mode") }
        if let level = ProcessInfo.processInfo.environment["SY_INTEG_LOG_LEVEL"] { args += ["--log-level", level] }
        return args
    }

    /// Copies `pod`'s issued certificate alone into an identity directory, starts its sidecar
    /// (the world kills it when it ends) and waits until `/ready` answers 200.
    init(_ pod: String, in world: World, ingress: Bool = false) async throws {
        let spec = WorldManifests.pod(pod)
        self.pod = pod
        ip = world.ip(of: pod)
        let identityDir = world.dir.appendingPathComponent("identity-sidecar-\(pod)")
        let target = identityDir.appendingPathComponent("test/\(spec.serviceAccount)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let credential = world.pki.credential(of: pod)
        try FileManager.default.copyItem(at: credential.certificate, to: target.appendingPathComponent("tls.crt"))
        try FileManager.default.copyItem(at: credential.key, to: target.appendingPathComponent("tls.key"))
        process = try world.spawn(
            SwitchyardBinary.path,
            Self.arguments(pod: spec, ip: ip, manifests: world.manifests, identityDir: identityDir,
                           trustBundle: world.pki.trustBundle, ingress: ingress),
            label: "sidecar-\(pod)")
        let adminURL = self.adminURL, process = self.process
        let ready = await world.eventually(timeout: 20) {
            guard process.isRunning else { return true }
            let probe = try? await Curl.run(["\(adminURL)/ready"], dir: world.dir, timeout: 2)
            return probe?.responses.first?.status == 200
        }
        guard ready, process.isRunning else {
            throw ChildProcessError(description: "sidecar of \(pod) not ready (running: \(process.isRunning)):\n\(logTail())")
        }
    }

    /// A scrape of `/metrics`.
    func metrics(_ world: World) async throws -> Metrics {
        Metrics(text: try await Curl.request("\(adminURL)/metrics", from: nil, dir: world.dir, timeout: 10).body)
    }

    /// The last `lines` lines of what it logged.
    func logTail(_ lines: Int = 30) -> String {
        (process.stderr + process.stdout).split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A world without node daemons in which frontend, backend-a and backend-b each run their own
/// sidecar, and a pod `backend-a-twin` (node-2, meshed, backend-a's service account, no app, no
/// sidecar) that node-2's daemon would serve but backend-a's sidecar must not.
struct SidecarWorld {
    let world: World
    let frontend: Sidecar
    let backendA: Sidecar
    let backendB: Sidecar
    /// `backend-a-twin`'s IP.
    let twinIP: String

    static let twin = WorldPod(name: "backend-a-twin", node: .node2, host: 21)

    static func with<T>(_ body: (SidecarWorld) async throws -> T) async throws -> T {
        try await World.with(World.Options(startDaemons: false)) { world in
            let twinYAML = WorldManifests.pod(twin, world.addresses)
                .replacingOccurrences(of: "serviceAccountName: \(twin.name)", with: "serviceAccountName: backend-a")
            try twinYAML.write(to: world.manifests.appendingPathComponent("twin.yaml"), atomically: true, encoding: .utf8)
            let frontend = try await Sidecar("frontend", in: world, ingress: true)
            async let a = Sidecar("backend-a", in: world)
            async let b = Sidecar("backend-b", in: world)
            let sidecars = SidecarWorld(world: world, frontend: frontend, backendA: try await a, backendB: try await b,
                                        twinIP: world.addresses.host(twin.host))
            do {
                return try await body(sidecars)
            } catch {
                print(sidecars.diagnostics)
                throw error
            }
        }
    }

    /// The sidecars' log tails, for failure messages.
    var diagnostics: String {
        "world directory: \(world.dir.path)\n" + [frontend, backendA, backendB].map { sidecar in
            "--- sidecar of \(sidecar.pod) (pid \(sidecar.process.pid), running: \(sidecar.process.isRunning)) ---\n\(sidecar.logTail())\n"
        }.joined()
    }

    /// `curl` from the frontend pod's IP to its sidecar's outbound listener, naming the destination in `Host`.
    func request(_ path: String = "/env", host: String = "backend-a-podinfo.test:9898", headers: [String] = []) async throws -> HTTPResult {
        try await Curl.request(frontend.outboundURL + path, from: frontend.ip, headers: ["Host: \(host)"] + headers,
                               dir: world.dir, timeout: 10)
    }

    /// `MeshPeerClient` as frontend's workload to backend-a's sidecar inbound port, SNI backend-a's
    /// identity, the preface naming `targetIP:targetPort` (opaque).
    func meshPeer(targetIP: String, targetPort: Int) async throws -> CommandResult {
        let credential = world.pki.credential(of: "frontend")
        return try await ChildProcess.run(
            "/usr/bin/env",
            ["python3", "-c", MeshPeerClient.script, backendA.ip, backendA.inboundPort, WorldManifests.pod("backend-a").identity,
             credential.certificate.path, credential.key.path, world.pki.trustBundle.path, targetIP, String(targetPort)],
            outputDir: world.dir, label: "mesh-peer", timeout: 15)
    }
}
