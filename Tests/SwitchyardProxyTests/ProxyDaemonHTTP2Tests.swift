// A real ProxyDaemon in process, with HTTP/2 prior-knowledge clients (curl, h2load, nghttp)
// and HTTP/2 apps (HTTP2TestBackend): each stream routed by itself, upstream streams sharing
// connections, flow control and resets carried across, answers made by the proxy, and the
// mTLS mesh hop carrying HTTP/2 with l5d-client-id.
import Foundation
import NIOCore
import NIOHTTP1
@testable import SwitchyardProxy
import SwitchyardInterception
import SwitchyardSubprocess
import SwitchyardTLS
import Testing

@Suite("ProxyDaemon: HTTP/2")
struct ProxyDaemonHTTP2Tests {
    typealias M = TestManifests

    /// The tutorial's route over two HTTP/2 apps; the daemon started.
    static func tutorialWorld(_ world: ProxyWorld, ipA: String, ipB: String) async throws -> (HTTP2TestBackend, HTTP2TestBackend) {
        let a = try await HTTP2TestBackend.start(name: "A backend", ip: ipA, group: world.group)
        let b = try await HTTP2TestBackend.start(name: "B backend", ip: ipB, group: world.group)
        world.onStop { await a.stop(); await b.stop() }
        try await world.start(manifests: [M.namespace(), M.node(),
                                          M.service("backend-a", clusterIP: "10.96.2.20"),
                                          M.pod("backend-a-0", app: "backend-a", ip: a.ip, port: a.port),
                                          M.service("backend-b", clusterIP: "10.96.2.30"),
                                          M.pod("backend-b-0", app: "backend-b", ip: b.ip, port: b.port),
                                          ProxyDaemonRoutingTests.tutorialRoute])
        return (a, b)
    }

    /// curl with HTTP/2 prior knowledge; `transfers` are each one request's arguments (after
    /// the URL), all on one connection (`--next`). Returns what it printed.
    static func curl(_ world: ProxyWorld, _ transfers: [[String]], path: String = "/") async throws -> SubprocessResult {
        let outbound = try world.outbound
        let url = "http://127.0.0.1:\(outbound.port ?? 0)\(path)"
        var arguments = ["/usr/bin/curl"]
        for (index, transfer) in transfers.enumerated() {
            if index > 0 { arguments.append("--next") }
            arguments += ["-sS", "--http2-prior-knowledge", "--max-time", "20", url] + transfer
        }
        return try await SpawnedProcess.run(arguments, timeout: 60)
    }

    static let host = ["-H", "Host: backend-a.test:8080"]

    @Test("requests on one HTTP/2 connection are routed stream by stream (B, A, B); B's two share one upstream connection")
    func perStreamRouting() async throws {
        try await withProxyWorld { world in
            let (a, b) = try await Self.tutorialWorld(world, ipA: "127.0.78.11", ipB: "127.0.78.12")
            let client = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await client.close() } }
            for (alternative, expected) in [(true, "B backend\n"), (false, "A backend\n"), (true, "B backend\n")] {
                let response = try await client.request(authority: "backend-a.test:8080",
                                                        headers: alternative ? [("x-request-id", "alternative")] : [])
                #expect(response.status == 200)
                #expect(response.body == expected)
                #expect(response.closed == .noError)
            }
            #expect(a.requests.count == 1)
            #expect(b.requests.count == 2)
            #expect(b.acceptedConnections == 1, "the proxy's streams to B share one HTTP/2 connection")
            #expect(world.metric("request_total", ["direction": "outbound", "tls": "false"]) == 3)
            #expect(b.requests.allSatisfy { $0.value(":authority") == "backend-a.test:8080" })
            // curl as well (one request: curl 7.88's --next does not reuse an h2c connection).
            let curl = try await Self.curl(world, [Self.host + ["-H", "x-request-id: alternative", "-w", "%{http_version}\n"]])
            #expect(curl.stdout == "B backend\n2\n", "\(curl)")
        }
    }

    @Test("h2load -n 2000 -c 10 -m 10 through the outbound: every request succeeds over a few upstream connections")
    func h2load() async throws {
        try await withProxyWorld { world in
            let (a, _) = try await Self.tutorialWorld(world, ipA: "127.0.78.21", ipB: "127.0.78.22")
            let outbound = try world.outbound
            let result = try await SpawnedProcess.run(
                ["/usr/bin/h2load", "-n", "2000", "-c", "10", "-m", "10", "-H", "Host: backend-a.test:8080",
                 "http://127.0.0.1:\(outbound.port ?? 0)/"], timeout: 120)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("requests: 2000 total, 2000 started, 2000 done, 2000 succeeded"), "\(result.stdout)")
            #expect(result.stdout.contains("status codes: 2000 2xx"), "\(result.stdout)")
            #expect(a.requests.count == 2000)
            #expect((1...3).contains(a.acceptedConnections), "\(a.acceptedConnections) upstream connections for 100 concurrent streams")
        }
    }

    @Test("a 2 MiB upload is echoed back intact through the stream's flow control; gRPC trailers come through")
    func bodiesAndTrailers() async throws {
        try await withProxyWorld { world in
            _ = try await Self.tutorialWorld(world, ipA: "127.0.78.31", ipB: "127.0.78.32")
            var bytes = [UInt8](repeating: 0, count: 2 << 20)
            var rng = SystemRandomNumberGenerator()
            for index in bytes.indices where index % 7 == 0 { bytes[index] = UInt8.random(in: 0...255, using: &rng) }
            let file = world.directory.appendingPathComponent("upload.bin")
            try Data(bytes).write(to: file)
            let echoed = world.directory.appendingPathComponent("echoed.bin")
            let result = try await Self.curl(world, [Self.host + ["--data-binary", "@\(file.path)", "-o", echoed.path]], path: "/echo")
            #expect(result.status == 0, "\(result)")
            #expect(try Data(contentsOf: echoed) == Data(bytes))

            let outbound = try world.outbound
            let grpc = try await SpawnedProcess.run(
                ["/usr/bin/nghttp", "-v", "-H", ":authority: backend-a.test:8080", "-H", "content-type: application/grpc",
                 "http://127.0.0.1:\(outbound.port ?? 0)/grpc"], timeout: 60)
            #expect(grpc.status == 0, "\(grpc)")
            #expect(grpc.stdout.contains("grpc-status: 0"), "trailers relayed:\n\(grpc.stdout)")
            #expect(grpc.stdout.contains("grpc-message: ok"), "\(grpc.stdout)")
        }
    }

    @Test("answers made by the proxy: 404 with l5d-proxy-error; for gRPC a trailers-only 200 with grpc-status 12, and 14 when the upstream resets")
    func proxyAnswers() async throws {
        try await withProxyWorld { world in
            _ = try await Self.tutorialWorld(world, ipA: "127.0.78.41", ipB: "127.0.78.42")
            // backend-b has no route of its own: a route on another parent answers nothing; a
            // Service without routes is forwarded. A name that is no Service is a 400.
            let unknown = try await Self.curl(world, [["-H", "Host: nowhere.test:8080", "-D", "-", "-o", "/dev/null"]])
            #expect(unknown.stdout.hasPrefix("HTTP/2 400"), "\(unknown)")
            #expect(unknown.stdout.lowercased().contains("l5d-proxy-error:"), "\(unknown)")

            let grpcUnknown = try await Self.curl(world, [["-H", "Host: nowhere.test:8080", "-H", "content-type: application/grpc",
                                                          "-D", "-", "-o", "/dev/null"]])
            #expect(grpcUnknown.stdout.hasPrefix("HTTP/2 200"), "\(grpcUnknown)")
            #expect(grpcUnknown.stdout.contains("grpc-status: 13"), "\(grpcUnknown)")

            let reset = try await Self.curl(world, [Self.host + ["-H", "content-type: application/grpc", "-D", "-", "-o", "/dev/null"]],
                                            path: "/reset")
            #expect(reset.stdout.hasPrefix("HTTP/2 200"), "\(reset)")
            #expect(reset.stdout.contains("grpc-status: 14"), "\(reset)")
            #expect(reset.stdout.lowercased().contains("l5d-proxy-error:"), "\(reset)")

            let plainReset = try await Self.curl(world, [Self.host + ["-D", "-", "-o", "/dev/null"]], path: "/reset")
            #expect(plainReset.stdout.hasPrefix("HTTP/2 502"), "\(plainReset)")
        }
    }

    @Test("a stream the app refuses (REFUSED_STREAM: nothing processed) is sent once more; a refused one with a body is not")
    func refusedStreamRetried() async throws {
        try await withProxyWorld { world in
            let (a, _) = try await Self.tutorialWorld(world, ipA: "127.0.78.41", ipB: "127.0.78.42")
            let client = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await client.close() } }
            let response = try await client.request(authority: "backend-a.test:8080", path: "/refuse-once")
            #expect(response.status == 200, "\(response.body)")
            #expect(response.body == "A backend\n")
            #expect(a.requests.filter { $0.path == "/refuse-once" }.count == 2, "refused, then sent again")

            let upload = try await client.request("POST", authority: "backend-a.test:8080", path: "/refuse-once-body", body: "payload")
            #expect(upload.status == 502, "a body already sent is gone: not replayed")
            #expect(a.requests.filter { $0.path == "/refuse-once-body" }.count == 1)
        }
    }

    @Test("a client that gives up on a stream: the proxy resets the upstream stream (CANCEL)")
    func cancelPropagates() async throws {
        try await withProxyWorld { world in
            let (a, _) = try await Self.tutorialWorld(world, ipA: "127.0.78.51", ipB: "127.0.78.52")
            let outbound = try world.outbound
            let result = try await SpawnedProcess.run(
                ["/usr/bin/curl", "-sS", "--http2-prior-knowledge", "--max-time", "1", "-H", "Host: backend-a.test:8080",
                 "http://127.0.0.1:\(outbound.port ?? 0)/hang"], timeout: 30)
            #expect(result.status == 28, "curl timed out: \(result)")
            #expect(await eventually { a.resetPaths.contains("/hang") }, "the upstream stream was reset")
        }
    }

    @Test("HTTP/2 over the mTLS mesh hop: streams for two pods of one identity share one mTLS connection; the inbound relays each to its pod with the verified l5d-client-id")
    func meshedHop() async throws {
        try await withProxyWorld { world in
            let server = try await HTTP2TestBackend.start(name: "meshed h2", ip: "127.0.78.62", group: world.group)
            let second = try await HTTP2TestBackend.start(name: "meshed h2 second", ip: "127.0.78.63", group: world.group)
            world.onStop { await server.stop(); await second.stop() }
            let clientIP = "127.0.78.61"
            let credentials = try world.meshCredentials(["client", "server"])
            let inboundPort = try await unusedPort(group: world.group)
            try await world.start(
                manifests: [M.namespace(), M.node("node-1", internalIP: "127.0.0.1"),
                            M.service("server", clusterIP: "10.96.2.62"),
                            M.pod("server-0", app: "server", ip: server.ip, port: server.port, meshed: true, serviceAccount: "server"),
                            M.service("second", clusterIP: "10.96.2.63"),
                            M.pod("second-0", app: "second", ip: second.ip, port: second.port, meshed: true, serviceAccount: "server"),
                            M.pod("client-0", app: "client", ip: clientIP, port: 9, meshed: true, serviceAccount: "client")],
                credentials: credentials
            ) { configuration in
                configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: UInt16(inboundPort))
                configuration.peerInboundPort = UInt16(inboundPort)
            }
            let client = try await HTTP2TestClient.connect(to: try world.outbound, from: clientIP, group: world.group)
            defer { Task { await client.close() } }
            for index in 0..<6 {
                let (host, name) = index % 2 == 0 ? ("server.test:8080", "meshed h2") : ("second.test:8080", "meshed h2 second")
                // A client's own l5d-orig-proto would turn its stream into HTTP/1.1 at the inbound
                // (which this HTTP/2-only app cannot read): it is dropped at the outbound.
                let response = try await client.request(authority: host, headers: [("l5d-client-id", "forged.identity"),
                                                                                    ("switchyard-target", "127.0.0.1:1"),
                                                                                    ("l5d-orig-proto", "HTTP/1.1")])
                #expect(response.status == 200, "\(response.body)")
                #expect(response.body == name + "\n")
                #expect(response.value("x-seen-client-id") == M.identity("client"), "the app saw the verified identity only")
            }
            #expect(second.requests.count == 3)
            #expect(second.requests.allSatisfy { $0.value("switchyard-target") == nil }, "the inbound removes the target field")
            #expect((server.requests + second.requests).allSatisfy { $0.value("l5d-orig-proto") == nil })
            #expect(server.requests.count == 3)
            #expect(server.acceptedConnections == 1, "the inbound's streams to the app share one connection")
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "true", "result": "success"]) == 1,
                    "one mTLS connection carried the six streams to both pods\n\(world.metricsText())")
            #expect(world.metric("request_total", ["direction": "inbound", "tls": "true"]) == 6)
        }
    }

    @Test("the inbound's per-stream target: another local pod of the SNI's identity is allowed; one of another identity, an unmeshed one or a non-pod is refused; on plaintext the field is ignored")
    func inboundStreamTargets() async throws {
        try await withProxyWorld { world in
            try await world.start(manifests: [
                M.namespace(), M.node(),
                M.pod("server-0", app: "server", ip: "127.0.78.91", port: 8080, meshed: true, serviceAccount: "server"),
                M.pod("server-1", app: "server", ip: "127.0.78.92", port: 8080, meshed: true, serviceAccount: "server"),
                M.pod("other-0", app: "other", ip: "127.0.78.93", port: 8080, meshed: true, serviceAccount: "other"),
                M.pod("plain-0", app: "plain", ip: "127.0.78.94", port: 8080, meshed: false),
            ])
            let daemon = try #require(world.daemon)
            let server0 = try #require(IPEndpoint("127.0.78.91:8080"))
            func plan(_ field: String?, meshed: Bool = true) -> ForwardingPlan {
                let policy = InboundHTTP2Policy(connection: InboundConnection(daemon: daemon), defaultTarget: server0,
                                                clientIdentity: meshed ? M.identity("client") : nil,
                                                serverName: meshed ? M.identity("server") : nil)
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
                if let field { head.headers.add(name: "switchyard-target", value: field) }
                return policy.plan(head)
            }
            func target(_ plan: ForwardingPlan) -> String? {
                if case .forward(let request) = plan {
                    #expect(!request.head.headers.contains(name: "switchyard-target"))
                    return request.targets.first?.endpoint.description
                }
                return nil
            }
            func refusal(_ plan: ForwardingPlan) -> String? {
                if case .answer(let error) = plan { return error.reason }
                return nil
            }
            #expect(target(plan(nil)) == "127.0.78.91:8080")
            #expect(target(plan("127.0.78.92:8080")) == "127.0.78.92:8080")
            #expect(refusal(plan("127.0.78.93:8080"))?.contains("but the client asked for \(M.identity("server"))") == true)
            #expect(refusal(plan("127.0.78.94:8080"))?.contains("is not meshed") == true)
            #expect(refusal(plan("10.1.2.3:80"))?.contains("is not a pod of the mesh") == true)
            #expect(refusal(plan("nonsense"))?.contains("is not an IP address and port") == true)
            #expect(target(plan("127.0.78.93:8080", meshed: false)) == "127.0.78.91:8080", "plaintext: the field is ignored")
        }
    }

    /// An HTTP/2 app behind Service `backend-a`, and the daemon started with `configure`.
    static func singleBackendWorld(_ world: ProxyWorld, ip: String,
                                   configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws -> HTTP2TestBackend {
        let a = try await HTTP2TestBackend.start(name: "A backend", ip: ip, group: world.group)
        world.onStop { await a.stop() }
        try await world.start(manifests: [M.namespace(), M.node(),
                                          M.service("backend-a", clusterIP: "10.96.2.101"),
                                          M.pod("backend-a-0", app: "backend-a", ip: a.ip, port: a.port)], configure: configure)
        return a
    }

    @Test("drain: a stream in flight finishes, then the connection closes")
    func drain() async throws {
        try await withProxyWorld { world in
            let a = try await Self.singleBackendWorld(world, ip: "127.0.78.101")
            let busy = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await busy.close() } }
            async let slow = busy.request(authority: "backend-a.test:8080", path: "/slow")
            #expect(await eventually(timeout: .seconds(20)) { a.requests.contains { $0.path == "/slow" } })
            let daemon = try #require(world.daemon)
            let shutdown = Task { await daemon.shutdown(gracePeriod: .seconds(20)) }
            a.release()
            let response = try await slow
            #expect(response.status == 200, "the stream in flight finished")
            #expect(response.body == "A backend\n")
            await shutdown.value
            #expect(!busy.isActive, "the drained connection is closed")
        }
    }

    @Test("an HTTP/2 client connection without streams is shut down after clientIdleTimeout")
    func idleConnection() async throws {
        try await withProxyWorld { world in
            _ = try await Self.singleBackendWorld(world, ip: "127.0.78.102") { configuration in
                configuration.clientIdleTimeout = .seconds(1)
            }
            // A loaded machine may let a second pass before the first request: then try again.
            var served: HTTP2TestClient?
            for _ in 0..<5 where served == nil {
                let client = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
                if (try? await client.request(authority: "backend-a.test:8080"))?.status == 200 { served = client } else { await client.close() }
            }
            let client = try #require(served, "no request got through")
            #expect(await eventually(timeout: .seconds(15)) { !client.isActive }, "closed after being idle")
        }
    }

    @Test("an upstream HTTP/2 connection without streams is closed after poolIdleTimeout; the next stream opens a new one")
    func idleUpstream() async throws {
        try await withProxyWorld { world in
            let a = try await Self.singleBackendWorld(world, ip: "127.0.78.103") { configuration in
                configuration.poolIdleTimeout = .milliseconds(500)
            }
            let client = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await client.close() } }
            #expect(try await client.request(authority: "backend-a.test:8080").status == 200)
            #expect(await eventually(timeout: .seconds(15)) { a.closedConnections == 1 }, "the idle upstream connection was closed")
            #expect(try await client.request(authority: "backend-a.test:8080").status == 200, "and a new one serves the next stream")
            #expect(a.acceptedConnections == 2)
        }
    }
}
