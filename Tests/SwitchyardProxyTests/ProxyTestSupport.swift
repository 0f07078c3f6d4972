// In-process ProxyDaemon tests: a temporary manifests directory, a daemon in ingress mode on
// loopback (port 0), real HTTP/1 backends written with NIOPosix + NIOHTTP1 bound to
// 127.0.77.x "pod IPs", and a raw-bytes HTTP client with exact control of what goes on the wire.
//
// Every world is torn down by `withProxyWorld` whatever the test does: the daemon is shut down,
// the backends closed, both event loop groups shut down and the directory removed.
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardAdmin
import SwitchyardInterception
import SwitchyardModel
@testable import SwitchyardProxy
import SwitchyardTLS
import Synchronization
import Testing

/// Why a test helper gave up.
struct ProxyTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Manifests

/// Manifest documents in the shape `kubectl get -o yaml` prints, for the in-process tests.
/// Pods are unmeshed (`linkerd.io/inject: disabled`) unless asked; a pod's container port
/// `http` is where its test backend listens, and Services target that name, so every pod
/// may listen on a different (ephemeral) port.
enum TestManifests {
    static let namespaceName = "test"

    static func namespace(_ name: String = namespaceName) -> String {
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: \(name)
        """
    }

    static func node(_ name: String = "node-1", internalIP: String = "127.0.0.1") -> String {
        """
        apiVersion: v1
        kind: Node
        metadata:
          name: \(name)
        status:
          addresses:
          - type: InternalIP
            address: \(internalIP)
          - type: Hostname
            address: \(name)
        """
    }

    /// A ClusterIP Service on `port`, targeting the pods' `http` container port, selecting `app: <app>`.
    static func service(_ name: String, clusterIP: String, port: Int = 8080, app: String? = nil,
                        namespace: String = namespaceName) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: \(namespace)
        spec:
          type: ClusterIP
          clusterIP: \(clusterIP)
          clusterIPs:
          - \(clusterIP)
          ports:
          - name: http
            port: \(port)
            protocol: TCP
            targetPort: http
          selector:
            app: \(app ?? name)
        """
    }

    /// A Running pod with `status.podIP = ip` and container port `http` = `port`.
    static func pod(_ name: String, app: String, ip: String, port: Int, node: String = "node-1",
                    meshed: Bool = false, ready: Bool = true, serviceAccount: String? = nil,
                    namespace: String = namespaceName) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
          namespace: \(namespace)
          labels:
            app: \(app)
          annotations:
            linkerd.io/inject: \(meshed ? "enabled" : "disabled")
        spec:
          serviceAccountName: \(serviceAccount ?? "default")
          nodeName: \(node)
          containers:
          - name: app
            image: example/app:1
            ports:
            - name: http
              containerPort: \(port)
              protocol: TCP
        status:
          phase: Running
          podIP: \(ip)
          podIPs:
          - ip: \(ip)
          conditions:
          - type: Ready
            status: "\(ready ? "True" : "False")"
        """
    }

    /// A Service named `name` with one pod (`<name>-0`) serving at `backend`.
    static func serviceWithPod(_ name: String, clusterIP: String, backend: TestBackend, port: Int = 8080,
                               ready: Bool = true) -> [String] {
        [service(name, clusterIP: clusterIP, port: port),
         pod("\(name)-0", app: name, ip: backend.ip, port: backend.port, ready: ready)]
    }

    /// A `gateway.networking.k8s.io/v1` HTTPRoute on Service `parent` port `port`; `rules` is the
    /// YAML list of its rules, written from column 0.
    static func gatewayRoute(_ name: String, parent: String, port: Int = 8080, rules: String) -> String {
        route(apiVersion: "gateway.networking.k8s.io/v1", name, parentRef: "{group: \"\", kind: Service, name: \(parent), port: \(port)}",
              rules: rules)
    }

    /// A `policy.linkerd.io/v1beta2` HTTPRoute (the tutorial's kind) on Service `parent` port `port`.
    static func policyRoute(_ name: String, parent: String, port: Int = 8080, rules: String) -> String {
        route(apiVersion: "policy.linkerd.io/v1beta2", name, parentRef: "{name: \(parent), kind: Service, group: core, port: \(port)}",
              rules: rules)
    }

    private static func route(apiVersion: String, _ name: String, parentRef: String, rules: String) -> String {
        let indented = rules.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        return """
            apiVersion: \(apiVersion)
            kind: HTTPRoute
            metadata: {name: \(name), namespace: \(namespaceName)}
            spec:
              parentRefs:
              - \(parentRef)
              rules:

            """ + indented
    }

    /// The identity of service account `sa` in `namespace`.
    static func identity(_ serviceAccount: String, namespace: String = namespaceName) -> String {
        "\(serviceAccount).\(namespace).serviceaccount.identity.linkerd.cluster.local"
    }
}

// MARK: - A test world

/// One daemon (single node `node-1`, ingress mode, listeners on 127.0.0.1 port 0), its
/// backends, and clients. Used from one test task only.
final class ProxyWorld {
    let directory: URL
    /// The daemon's event loops: one thread unless asked (`init(proxyThreads:)`), so that every
    /// client connection shares one pool.
    let proxyGroup: MultiThreadedEventLoopGroup
    /// Backends and clients.
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let registry = MetricsRegistry()
    let metrics: ProxyMetrics
    private(set) var backends: [TestBackend] = []
    private(set) var daemon: ProxyDaemon?
    private(set) var bound: ProxyDaemon.BoundAddresses?
    private var clients: [RawHTTPClient] = []
    private var stopped = false
    private var stopActions: [() async -> Void] = []

    /// Runs `action` when the world stops, before the event loops go (other servers' close).
    func onStop(_ action: @escaping () async -> Void) { stopActions.append(action) }

    init(proxyThreads: Int = 1) throws {
        proxyGroup = MultiThreadedEventLoopGroup(numberOfThreads: proxyThreads)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-proxytests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        metrics = ProxyMetrics(registry: registry)
    }

    /// Starts an HTTP backend (or an upgrade echo server) at `ip`, port 0.
    func backend(_ name: String, ip: String, kind: TestBackend.Kind = .http) async throws -> TestBackend {
        let backend = try await TestBackend.start(name: name, ip: ip, kind: kind, group: group)
        backends.append(backend)
        return backend
    }

    /// Starts backend `name` at `ip`, behind Service `name` port 8080 (ClusterIP `clusterIP`),
    /// plus `manifests`, and starts the daemon.
    ///
    /// `hop` `.meshed`: the backend's pod is meshed (service account `name`), and every client of
    /// `client()` comes from a meshed pod (`meshedClientIP`, service account `client`), so each
    /// request crosses the daemon's own mTLS hop: outbound → inbound (127.0.0.1) → backend.
    func startWithBackend(_ name: String, ip: String, clusterIP: String, kind: TestBackend.Kind = .http,
                          ready: Bool = true, manifests: [String] = [], hop: TestHop = .plain,
                          configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws -> TestBackend {
        let backend = try await self.backend(name, ip: ip, kind: kind)
        switch hop {
        case .plain:
            let documents = [TestManifests.namespace(), TestManifests.node()]
                + TestManifests.serviceWithPod(name, clusterIP: clusterIP, backend: backend, ready: ready)
            try await start(manifests: documents + manifests, configure: configure)
        case .meshed, .meshedHTTP1:
            // The node's address (where the inbound listens) is the world's own, so that the
            // port picked for it is not taken meanwhile by another test's connection.
            let nodeIP = Self.nodeIP(for: ip, hop == .meshed ? 79 : 80)
            var documents = [TestManifests.namespace(), TestManifests.node(internalIP: nodeIP)]
            documents += [TestManifests.service(name, clusterIP: clusterIP),
                          TestManifests.pod("\(name)-0", app: name, ip: backend.ip, port: backend.port, meshed: true,
                                            ready: ready, serviceAccount: name),
                          TestManifests.pod("client-0", app: "client", ip: Self.meshedClientIP, port: 9, meshed: true,
                                            serviceAccount: "client")]
            let inboundPort = try await unusedPort(on: nodeIP, group: group)
            defaultClientIP = Self.meshedClientIP
            try await start(manifests: documents + manifests, credentials: try meshCredentials(["client", name])) { configuration in
                configuration.inboundListen = IPEndpoint(IPv4Address(nodeIP)!, port: UInt16(inboundPort))
                configuration.peerInboundPort = UInt16(inboundPort)
                configuration.meshHTTP1OverHTTP2 = hop == .meshed
                configure(&configuration)
            }
        }
        return backend
    }

    /// A loopback address for a world's node, from its backend's address `ip` with the third
    /// byte replaced by `third` (127.0.77.31 -> 127.0.79.31).
    static func nodeIP(for ip: String, _ third: Int) -> String {
        var parts = ip.split(separator: ".").map(String.init)
        parts[2] = String(third)
        return parts.joined(separator: ".")
    }

    /// The meshed client pod's address (`TestHop.meshed`).
    static let meshedClientIP = "127.0.77.250"
    /// Where `client()` connects from when no source is given.
    private var defaultClientIP: String?

    /// The default configuration: node `node-1`, ingress mode, listeners on 127.0.0.1:0.
    static func configuration() -> ProxyConfiguration {
        var configuration = ProxyConfiguration(nodeName: "node-1")
        configuration.mode = .node
        configuration.ingressMode = true
        configuration.outboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: 0)
        configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: 0)
        configuration.upstreamSocketMark = nil
        configuration.connectTimeout = .seconds(2)
        return configuration
    }

    /// Writes `documents` as one manifests file, loads it with `ManifestLoader`, and starts the
    /// daemon. `credentials` nil: an empty identity directory and a fresh trust anchor.
    @discardableResult
    func start(manifests documents: [String], credentials: CredentialStore? = nil,
               configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws -> ProxyDaemon.BoundAddresses {
        let manifests = directory.appendingPathComponent("manifests")
        try FileManager.default.createDirectory(at: manifests, withIntermediateDirectories: true)
        try documents.joined(separator: "\n---\n").write(to: manifests.appendingPathComponent("mesh.yaml"),
                                                          atomically: true, encoding: .utf8)
        let snapshot = try ManifestLoader().load(directory: manifests.path)
        var configuration = Self.configuration()
        configure(&configuration)
        let store = try credentials ?? emptyCredentialStore()
        var logger = Logger(label: "switchyard.proxytests")
        logger.logLevel = ProcessInfo.processInfo.environment["SY_PROXYTESTS_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let daemon = ProxyDaemon(configuration: configuration, mesh: MeshState(snapshot: snapshot), credentials: store,
                                 metrics: metrics, group: proxyGroup, logger: logger)
        self.daemon = daemon
        let bound = try await daemon.start()
        self.bound = bound
        return bound
    }

    /// A dev PKI in process: anchor → issuer → one workload certificate per service account of
    /// namespace `test` (in `<directory>/mesh-identities`), and a credential store over them.
    func meshCredentials(_ serviceAccounts: [String]) throws -> CredentialStore {
        let anchor = try CertificateAuthority.makeTrustAnchor()
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor)
        meshIssuer = issuer
        for serviceAccount in serviceAccounts { try reissue(serviceAccount) }
        let identities = directory.appendingPathComponent("mesh-identities")
        let bundle = directory.appendingPathComponent("mesh-trust-bundle.pem")
        try anchor.certificate.pem.write(to: bundle, atomically: true, encoding: .utf8)
        return try CredentialStore(configuration: CredentialStoreConfiguration(
            identityDirectory: identities.path, trustBundlePath: bundle.path))
    }

    /// The issuer of `meshCredentials`.
    private var meshIssuer: CertificateAuthority?

    /// Issues a new certificate for `serviceAccount` into the mesh identity directory (the
    /// store sees it at its next `refresh()`).
    func reissue(_ serviceAccount: String) throws {
        guard let issuer = meshIssuer else { throw ProxyTestError("no mesh credentials yet") }
        try PKIWorkloadDirectory(directory.appendingPathComponent("mesh-identities/test/\(serviceAccount)").path)
            .write(try issuer.issue(identity: TestManifests.identity(serviceAccount)))
    }

    /// A credential store over an empty identity directory and a trust bundle of a new anchor.
    func emptyCredentialStore() throws -> CredentialStore {
        let identities = directory.appendingPathComponent("identities")
        try FileManager.default.createDirectory(at: identities, withIntermediateDirectories: true)
        let bundle = directory.appendingPathComponent("trust-bundle.pem")
        let anchor = try CertificateAuthority.makeTrustAnchor()
        try anchor.certificate.pem.write(to: bundle, atomically: true, encoding: .utf8)
        return try CredentialStore(configuration: CredentialStoreConfiguration(identityDirectory: identities.path,
                                                                              trustBundlePath: bundle.path))
    }

    /// The outbound listener's address.
    var outbound: SocketAddress {
        get throws {
            guard let bound else { throw ProxyTestError("the daemon was not started") }
            return bound.outbound
        }
    }

    /// A new connection to the outbound listener (from `sourceIP` when given).
    func client(from sourceIP: String? = nil) async throws -> RawHTTPClient {
        let client = try await RawHTTPClient.connect(to: try outbound, from: sourceIP ?? defaultClientIP, group: group)
        clients.append(client)
        return client
    }

    /// One request on a new connection: `GET path` to `host` with `headers`.
    func get(_ path: String, host: String, headers: [(String, String)] = []) async throws -> TestResponse {
        let client = try await self.client()
        defer { client.closeNow() }
        try await client.send(RawHTTPClient.request("GET", path, host: host, headers: headers))
        return try await client.readResponse()
    }

    /// Writes `text` as it is on a new connection and reads one response; the client stays open.
    func send(raw text: String) async throws -> (TestResponse, RawHTTPClient) {
        let client = try await self.client()
        try await client.send(text)
        return (try await client.readResponse(), client)
    }

    /// The Prometheus text of the world's registry.
    func metricsText() -> String { registry.render() }

    /// The value of the sample whose line starts with `name{` and contains every label of
    /// `labels` (`key="value"`); nil when there is none.
    func metric(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in metricsText().split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels.allSatisfy({ line.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    /// Shuts the daemon down (1 s grace), closes backends and clients, shuts the groups down.
    func stop() async {
        guard !stopped else { return }
        stopped = true
        for client in clients { client.closeNow() }
        if let daemon { await daemon.shutdown(gracePeriod: .seconds(1)) }
        for backend in backends { await backend.close() }
        for action in stopActions { await action() }
        try? await proxyGroup.shutdownGracefully()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// How a world's requests reach its backend: straight from the outbound proxy, or over the
/// daemon's own mTLS hop (outbound → inbound → pod) with HTTP/1 carried as HTTP/2 streams
/// (`l5d-orig-proto`, the default), or on HTTP/1 mTLS connections (`meshHTTP1OverHTTP2` off).
enum TestHop: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case plain
    case meshed
    case meshedHTTP1
    var testDescription: String {
        switch self {
        case .plain: "plaintext hop"
        case .meshed: "mTLS hop, HTTP/2 between proxies"
        case .meshedHTTP1: "mTLS hop, HTTP/1 between proxies"
        }
    }
}

/// Runs `body` with a fresh world, and stops the world afterwards whether `body` threw or not.
func withProxyWorld(proxyThreads: Int = 1, _ body: (ProxyWorld) async throws -> Void) async throws {
    let world = try ProxyWorld(proxyThreads: proxyThreads)
    do {
        try await body(world)
    } catch {
        await world.stop()
        throw error
    }
    await world.stop()
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// A free TCP port on `ip` (bound and released at once), for a listener whose port must be
/// known before it is bound, and for an address where nothing listens.
func unusedPort(on ip: String = "127.0.0.1", group: any EventLoopGroup) async throws -> Int {
    let channel = try await ServerBootstrap(group: group).bind(host: ip, port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    guard port > 0 else { throw ProxyTestError("no port on \(ip)") }
    return port
}
