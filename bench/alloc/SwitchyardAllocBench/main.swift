// `make alloc-budget` (docs/performance.md): heap allocations per proxied HTTP/1.1 request
// through an in-process ProxyDaemon, counted by the malloc interposer in CAllocCounter, the
// way swift-nio's allocation-counter tests count. Release build; exits 1 when a scenario goes
// over its budget.
//
// One daemon (node `node-1`, ingress mode, one event loop thread) and, on another event loop
// group, the client and the backends (static "pods" answering `A backend` and so on). Only
// the daemon's event loop thread counts, so what is measured is the proxy's own work: the
// HTTP/1 codecs, routing, pooling, metrics, and in the mesh scenario the mTLS of both ends.
//
// Scenarios, each on kept-alive connections after a warm-up (pools filled, metric handles made):
//   mesh       client -> outbound (routes backend-a-podinfo by x-request-id) -> mTLS 1.3 to the
//              daemon's own inbound listener -> inbound -> backend A: both proxy hops and both
//              TLS ends of one mesh request on the counted thread. Between the proxies the
//              request is an HTTP/2 stream (`l5d-orig-proto`, the default), or with
//              `--mesh-http1` an HTTP/1 request on a pooled mTLS connection.
//   plaintext  client -> outbound -> an unmeshed pod in plaintext.
//
// Usage: SwitchyardAllocBench [--requests N] [--warmup N] [--runs N] [--connections N]
//                             [--scenario mesh|plaintext|all] [--mesh-http1]
//                             [--budget-mesh A] [--budget-plaintext A]
// Prints one line per scenario (the fewest allocations per request over the runs, as swift-nio
// does), and `over budget` lines before exiting 1.
import CAllocCounter
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardAdmin
import SwitchyardInterception
import SwitchyardModel
import SwitchyardProxy
import SwitchyardTLS

// MARK: - Arguments

struct Options {
    var requests = 2000
    var warmup = 500
    var runs = 3
    var connections = 1
    var scenarios = ["mesh", "plaintext"]
    var budgets: [String: Double] = [:]
    /// `--mesh-http1`: HTTP/1 between the proxies (`meshHTTP1OverHTTP2` off) instead of HTTP/2 streams.
    var meshHTTP1 = false
}

func parseOptions() -> Options {
    var options = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    func value(_ flag: String) -> String {
        guard let v = args.next() else { fail("\(flag) needs a value") }
        return v
    }
    func number(_ flag: String) -> Int {
        guard let n = Int(value(flag)), n > 0 else { fail("\(flag) needs a positive integer") }
        return n
    }
    while let arg = args.next() {
        switch arg {
        case "--requests": options.requests = number(arg)
        case "--warmup": options.warmup = number(arg)
        case "--runs": options.runs = number(arg)
        case "--connections": options.connections = number(arg)
        case "--scenario":
            let s = value(arg)
            guard ["mesh", "plaintext", "all"].contains(s) else { fail("unknown scenario \(s)") }
            options.scenarios = s == "all" ? ["mesh", "plaintext"] : [s]
        case "--mesh-http1": options.meshHTTP1 = true
        case "--budget-mesh", "--budget-plaintext":
            guard let b = Double(value(arg)), b > 0 else { fail("\(arg) needs a positive number") }
            options.budgets[String(arg.dropFirst("--budget-".count))] = b
        case "-h", "--help":
            print("usage: SwitchyardAllocBench [--requests N] [--warmup N] [--runs N] [--connections N] "
                  + "[--scenario mesh|plaintext|all] [--mesh-http1] [--budget-mesh A] [--budget-plaintext A]")
            exit(0)
        default: fail("unknown argument \(arg)")
        }
    }
    return options
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("alloc-bench: \(message)\n".utf8))
    exit(2)
}

// MARK: - Backends and the load client

/// A pod: answers every request with `body` (`content-length`, keep-alive).
final class StaticBackend: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let body: String
    init(body: String) { self.body = body }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

func startBackend(ip: String, body: String, group: EventLoopGroup) async throws -> Int {
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(StaticBackend(body: body))
            }
        }
        .bind(host: ip, port: 0).get()
    guard let port = channel.localAddress?.port else { fail("backend at \(ip) has no port") }
    return port
}

/// One kept-alive client connection that sends `head` again as soon as each response has ended.
final class LoadClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let head: HTTPRequestHead
    let expectedBody: String
    private var context: ChannelHandlerContext?
    private var remaining = 0
    private var done: EventLoopPromise<Void>?
    private var status: HTTPResponseStatus = .ok
    private var body = ""

    init(head: HTTPRequestHead, expectedBody: String) {
        self.head = head
        self.expectedBody = expectedBody
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Sends `count` requests one after another; the future completes after the last response.
    func run(_ count: Int) -> EventLoopFuture<Void> {
        guard let context else { fail("client not connected") }
        let promise = context.eventLoop.makePromise(of: Void.self)
        remaining = count
        done = promise
        send(context)
        return promise.futureResult
    }

    private func send(_ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = h.status
            body = ""
        case .body(let b):
            body += String(buffer: b)
        case .end:
            guard status == .ok, body == expectedBody else {
                done.take()?.fail(ProxyBenchError("got \(status.code) '\(body)', expected 200 '\(expectedBody)'"))
                return
            }
            remaining -= 1
            if remaining > 0 { send(context) } else { done.take()?.succeed(()) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.take()?.fail(ProxyBenchError("client connection closed"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.take()?.fail(error)
        context.close(promise: nil)
    }
}

struct ProxyBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func connectClient(to address: SocketAddress, head: HTTPRequestHead, expectedBody: String,
                   group: EventLoopGroup) async throws -> LoadClient {
    let client = LoadClient(head: head, expectedBody: expectedBody)
    _ = try await ClientBootstrap(group: group)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(client)
            }
        }
        .connect(to: address).get()
    return client
}

extension LoadClient {
    static func runAll(_ clients: [LoadClient], requests: Int, on group: EventLoopGroup) async throws {
        let share = requests / clients.count
        let futures = clients.enumerated().map { i, client in
            let count = share + (i < requests % clients.count ? 1 : 0)
            return group.next().submit { client }.flatMap { $0.run(count) }
        }
        for future in futures { try await future.get() }
    }
}

// MARK: - The world

let options = parseOptions()
// Warnings and worse only: the credential store's info lines are noise here.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
guard sy_alloc_is_interposed() != 0 else { fail("the malloc interposer is not bound (link CAllocCounter into the executable)") }

let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-alloc-bench-\(getpid())")
try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)

let proxyGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let trustDomain = "cluster.local"
func identity(_ sa: String) -> String { "\(sa).test.serviceaccount.identity.linkerd.\(trustDomain)" }

// A dev PKI: anchor -> issuer -> one workload certificate per service account.
let anchor = try CertificateAuthority.makeTrustAnchor()
let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor)
let identities = workDirectory.appendingPathComponent("identities")
for sa in ["frontend", "backend-a", "backend-b"] {
    _ = try PKIWorkloadDirectory(identities.appendingPathComponent("test/\(sa)").path).write(try issuer.issue(identity: identity(sa)))
}
let bundle = workDirectory.appendingPathComponent("trust-bundle.pem")
try anchor.certificate.pem.write(to: bundle, atomically: true, encoding: .utf8)
let credentials = try CredentialStore(configuration: CredentialStoreConfiguration(
    identityDirectory: identities.path, trustBundlePath: bundle.path))

let ipA = "127.0.78.20", ipB = "127.0.78.30", ipPlain = "127.0.78.40"
let portA = try await startBackend(ip: ipA, body: "A backend\n", group: group)
let portB = try await startBackend(ip: ipB, body: "B backend\n", group: group)
let portPlain = try await startBackend(ip: ipPlain, body: "plain backend\n", group: group)
let inboundPort: Int = try await {
    let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
    defer { channel.close(promise: nil) }
    return channel.localAddress?.port ?? 0
}()

func pod(_ name: String, ip: String, port: Int, meshed: Bool = true) -> String {
    """
    apiVersion: v1
    kind: Pod
    metadata:
      name: \(name)
      namespace: test
      labels: {app: \(name)}
      annotations: {linkerd.io/inject: \(meshed ? "enabled" : "disabled")}
    spec:
      serviceAccountName: \(name)
      nodeName: node-1
      containers: [{name: app, image: nginx, ports: [{name: http, containerPort: \(port), protocol: TCP}]}]
    status: {phase: Running, podIP: \(ip), podIPs: [{ip: \(ip)}], conditions: [{type: Ready, status: "True"}]}
    """
}
func service(_ name: String, app: String) -> String {
    """
    apiVersion: v1
    kind: Service
    metadata: {name: \(name), namespace: test}
    spec:
      selector: {app: \(app)}
      ports: [{name: http, port: 9898, protocol: TCP, targetPort: http}]
    """
}
// examples/podinfo/backend-router.yaml, the tutorial's route.
let router = """
    apiVersion: policy.linkerd.io/v1beta2
    kind: HTTPRoute
    metadata: {name: backend-router, namespace: test}
    spec:
      parentRefs:
        - {name: backend-a-podinfo, kind: Service, group: core, port: 9898}
      rules:
        - matches:
          - headers:
            - {name: "x-request-id", value: "alternative"}
          backendRefs:
            - {name: "backend-b-podinfo", port: 9898}
        - backendRefs:
          - {name: "backend-a-podinfo", port: 9898}
    """
let documents = [
    """
    apiVersion: v1
    kind: Namespace
    metadata: {name: test, annotations: {linkerd.io/inject: enabled}}
    """,
    """
    apiVersion: v1
    kind: Node
    metadata: {name: node-1}
    status: {addresses: [{type: InternalIP, address: 127.0.0.1}]}
    """,
    pod("frontend", ip: "127.0.78.10", port: 9),
    pod("backend-a", ip: ipA, port: portA), service("backend-a-podinfo", app: "backend-a"),
    pod("backend-b", ip: ipB, port: portB), service("backend-b-podinfo", app: "backend-b"),
    pod("plain", ip: ipPlain, port: portPlain, meshed: false), service("plain-podinfo", app: "plain"),
    router,
]
let snapshot = try ManifestLoader().load(files: [("bench.yaml", documents.joined(separator: "\n---\n"))])

var configuration = ProxyConfiguration(nodeName: "node-1")
configuration.mode = .node
configuration.ingressMode = true
configuration.pod = ResourceID(namespace: "test", name: "frontend")
configuration.outboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: 0)
configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: UInt16(inboundPort))
configuration.peerInboundPort = UInt16(inboundPort)
configuration.upstreamSocketMark = nil
configuration.meshHTTP1OverHTTP2 = !options.meshHTTP1
let logger = Logger(label: "switchyard.alloc-bench")
let daemon = ProxyDaemon(configuration: configuration, mesh: MeshState(snapshot: snapshot), credentials: credentials,
                         metrics: ProxyMetrics(registry: MetricsRegistry()), group: proxyGroup, logger: logger)
let bound = try await daemon.start()

// Count on the daemon's one event loop thread only.
try await proxyGroup.next().submit { sy_alloc_count_thread(1) }.get()

// MARK: - Measuring

func request(host: String) -> HTTPRequestHead {
    var headers = HTTPHeaders()
    headers.add(name: "Host", value: "\(bound.outbound.ipAddress ?? "127.0.0.1"):\(bound.outbound.port ?? 0)")
    headers.add(name: "l5d-dst-override", value: host)
    headers.add(name: "user-agent", value: "sy-alloc-bench")
    headers.add(name: "accept", value: "*/*")
    return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
}

struct Result {
    var scenario: String
    var perRequest: [Double]
    var reallocations: Double
    var frees: Double
    var bytes: Double
}

func measure(_ scenario: String) async throws -> Result {
    let (host, body) = scenario == "mesh" ? ("backend-a-podinfo.test:9898", "A backend\n") : ("plain-podinfo.test:9898", "plain backend\n")
    var clients: [LoadClient] = []
    for _ in 0..<options.connections {
        clients.append(try await connectClient(to: bound.outbound, head: request(host: host), expectedBody: body, group: group))
    }
    try await LoadClient.runAll(clients, requests: options.warmup, on: group)
    var perRequest: [Double] = []
    var best: sy_alloc_counts?
    for _ in 0..<options.runs {
        sy_alloc_reset()
        try await LoadClient.runAll(clients, requests: options.requests, on: group)
        let counts = sy_alloc_read()
        perRequest.append(Double(counts.allocations + counts.reallocations) / Double(options.requests))
        if best.map({ counts.allocations + counts.reallocations < $0.allocations + $0.reallocations }) ?? true { best = counts }
    }
    let n = Double(options.requests)
    return Result(scenario: scenario, perRequest: perRequest, reallocations: Double(best!.reallocations) / n,
                  frees: Double(best!.frees) / n, bytes: Double(best!.bytes) / n)
}

var over: [String] = []
for scenario in options.scenarios {
    let result = try await measure(scenario)
    let allocations = result.perRequest.min()!
    let runs = result.perRequest.map { String(format: "%.2f", $0) }.joined(separator: " ")
    let budget = options.budgets[scenario]
    print(String(format: "%@: %.2f allocations/request (of which %.2f reallocations), %.2f frees/request, %.0f bytes/request; runs: %@; connections: %d, requests/run: %d%@",
                 scenario, allocations, result.reallocations, result.frees, result.bytes, runs, options.connections, options.requests,
                 budget.map { String(format: "; budget %.1f", $0) } ?? ""))
    if let budget, allocations > budget {
        over.append(String(format: "%@: %.2f allocations/request is over the budget of %.1f", scenario, allocations, budget))
    }
}
sy_alloc_count_thread(0)
try await proxyGroup.next().submit { sy_alloc_count_thread(0) }.get()
await daemon.shutdown(gracePeriod: .milliseconds(100))
try await proxyGroup.shutdownGracefully()
try await group.shutdownGracefully()
try? FileManager.default.removeItem(at: workDirectory)
for line in over { print("over budget: \(line)") }
exit(over.isEmpty ? 0 : 1)
