// A real ProxyDaemon in process carrying apps' HTTP/1 requests over its own mTLS hop as HTTP/2
// streams (`l5d-orig-proto`, docs/transport.md): what the app sees, how few mTLS connections
// many clients need, what happens when the app is gone, and h2load through the mesh.
import Foundation
import NIOCore
@testable import SwitchyardProxy
import SwitchyardInterception
import SwitchyardModel
import SwitchyardSubprocess
import Testing

@Suite("ProxyDaemon: HTTP/1 over HTTP/2 between proxies")
struct ProxyDaemonMeshMultiplexTests {
    typealias M = TestManifests

    /// Two HTTP/1 app pods of one identity (`server`, Service `server` selects both) and a meshed
    /// client pod; the daemon started (`startMesh`).
    static func twoPodWorld(_ world: ProxyWorld, ips: (String, String), http1BetweenProxies: Bool = false,
                            configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws -> (TestBackend, TestBackend) {
        let first = try await world.backend("server one", ip: ips.0)
        let second = try await world.backend("server two", ip: ips.1)
        try await startMesh(world, pods: [(first.ip, first.port), (second.ip, second.port)],
                            http1BetweenProxies: http1BetweenProxies, configure: configure)
        return (first, second)
    }

    /// Starts the daemon over meshed pods `server-N` at `pods` (service account `server`, all
    /// behind Service `server`) and a meshed client pod at `ProxyWorld.meshedClientIP`, which is
    /// also the workload of clients from addresses that are no pod (h2load cannot bind one).
    /// The inbound listens on a loopback address of the world's own.
    static func startMesh(_ world: ProxyWorld, pods: [(ip: String, port: Int)], http1BetweenProxies: Bool = false,
                          configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws {
        let nodeIP = ProxyWorld.nodeIP(for: pods[0].ip, 81)
        let inboundPort = try await unusedPort(on: nodeIP, group: world.group)
        let serverPods = pods.enumerated().map { index, pod in
            M.pod("server-\(index)", app: "server", ip: pod.ip, port: pod.port, meshed: true, serviceAccount: "server")
        }
        try await world.start(
            manifests: [M.namespace(), M.node("node-1", internalIP: nodeIP), M.service("server", clusterIP: "10.96.3.10", app: "server")]
                + serverPods
                + [M.pod("client-0", app: "client", ip: ProxyWorld.meshedClientIP, port: 9, meshed: true, serviceAccount: "client")],
            credentials: try world.meshCredentials(["client", "server"])
        ) { configuration in
            configuration.inboundListen = IPEndpoint(IPv4Address(nodeIP)!, port: UInt16(inboundPort))
            configuration.peerInboundPort = UInt16(inboundPort)
            configuration.meshHTTP1OverHTTP2 = !http1BetweenProxies
            configuration.pod = ResourceID(namespace: M.namespaceName, name: "client-0")
            configure(&configuration)
        }
    }

    static func meshConnections(_ world: ProxyWorld) -> Double {
        world.metric("switchyard_upstream_connect_total", ["tls": "true", "result": "success"]) ?? 0
    }

    @Test("the app gets HTTP/1.1 with the verified l5d-client-id and no mesh fields; both pods' requests share one mTLS connection")
    func whatTheAppSees() async throws {
        try await withProxyWorld { world in
            let (first, second) = try await Self.twoPodWorld(world, ips: ("127.0.78.101", "127.0.78.102"))
            let client = try await world.client(from: ProxyWorld.meshedClientIP)
            // Forged mesh fields from the app: none may steer the hop or reach the server.
            let forged = [("l5d-client-id", "forged.identity"), ("l5d-orig-proto", "HTTP/2"),
                          ("switchyard-target", "127.0.0.1:1")]
            // Through the Service (the balancer picks), and to each pod by its address.
            for index in 0..<20 {
                let host = [first.authority, second.authority, "server.test:8080", "server.test:8080"][index % 4]
                let response = try await client.roundTrip("GET", "/r\(index)", host: host, headers: forged)
                #expect(response.status == 200, "\(response)")
                #expect(["server one", "server two"].contains(response.body))
            }
            let body = String(repeating: "payload ", count: 4096)
            let echoed = try await client.roundTrip("POST", "/echo", host: "server.test:8080",
                                                    headers: [("Content-Length", "\(body.utf8.count)")], body: body)
            #expect(echoed.status == 200)
            #expect(echoed.body == body)

            let seen = first.requests + second.requests
            #expect(seen.count == 21)
            #expect(first.requests.count >= 5 && second.requests.count >= 5)
            for request in seen {
                #expect(request.version == .http1_1)
                #expect(request.values("l5d-client-id") == [M.identity("client")])
                #expect(request.values("l5d-orig-proto").isEmpty)
                #expect(request.values("switchyard-target").isEmpty)
            }
            #expect(Self.meshConnections(world) == 1, "one mTLS connection for both pods\n\(world.metricsText())")
            #expect(world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http2"]) == 1)
            #expect(world.metric("switchyard_upstream_open_connections", ["tls": "false", "protocol": "http1"]) == 2,
                    "the inbound's pooled connection to each app")
            #expect(world.metric("tcp_open_total", ["direction": "inbound", "tls": "true"]) == 1)
            #expect(first.acceptedConnections == 1 && second.acceptedConnections == 1,
                    "the inbound pools its HTTP/1 connections to each app")
        }
    }

    @Test("50 concurrent HTTP/1 clients: one mTLS connection carries them all; with HTTP/1 between proxies about one each",
          arguments: [false, true])
    func concurrentClientsShareConnections(http1BetweenProxies: Bool) async throws {
        try await withProxyWorld { world in
            // The clients connect first and send together: on a loaded machine the first ones
            // may wait longer than protocol detection's 10 s for their first bytes.
            _ = try await Self.twoPodWorld(world, ips: ("127.0.78.111", "127.0.78.112"), http1BetweenProxies: http1BetweenProxies) {
                $0.detectTimeout = .seconds(120)
            }
            var clients: [RawHTTPClient] = []
            for _ in 0..<50 { clients.append(try await world.client(from: ProxyWorld.meshedClientIP)) }
            // Every request waits 300 ms at the app, so all 50 are in flight together.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for client in clients {
                    group.addTask { try await client.roundTrip("GET", "/slow?ms=300", host: "server.test:8080").status }
                }
                for try await status in group { #expect(status == 200) }
            }
            if http1BetweenProxies {
                // About one each (on a loaded machine a request may end before another starts
                // and leave its connection to it).
                let made = Self.meshConnections(world)
                #expect(made > 10, "\(world.metricsText())")
                #expect(world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http1"]) == made)
            } else {
                #expect(Self.meshConnections(world) == 1, "50 concurrent requests, one handshake\n\(world.metricsText())")
                #expect(world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http2"]) == 1)
            }
        }
    }

    @Test("the app is gone: the inbound's 502 with l5d-proxy-error reaches the client; the client connection stays usable")
    func appGone() async throws {
        try await withProxyWorld { world in
            let (first, second) = try await Self.twoPodWorld(world, ips: ("127.0.78.121", "127.0.78.122"))
            await first.close()
            await second.close()
            let client = try await world.client(from: ProxyWorld.meshedClientIP)
            for _ in 0..<2 {
                let response = try await client.roundTrip("GET", "/", host: "server.test:8080")
                #expect(response.status == 502, "\(response)")
                #expect(response.header("l5d-proxy-error")?.contains("connection refused") == true, "\(response)")
            }
            #expect(!client.isClosed)
            #expect(world.metric("switchyard_proxy_error_total", ["direction": "inbound", "reason": "upstream_failed"]) == 2)
        }
    }

    @Test("a client that gives up mid-response: its stream is reset and the inbound closes its connection to the app")
    func clientGivesUp() async throws {
        try await withProxyWorld { world in
            let (first, second) = try await Self.twoPodWorld(world, ips: ("127.0.78.131", "127.0.78.132"))
            let client = try await world.client(from: ProxyWorld.meshedClientIP)
            try await client.send(RawHTTPClient.request("GET", "/stream", host: "server.test:8080"))
            #expect(await eventually { String(decoding: client.receivedBytes(), as: UTF8.self).contains("first ") })
            client.closeNow()
            #expect(await eventually { first.closedConnections + second.closedConnections == 1 },
                    "the app's connection for the abandoned response was closed")
            // The shared mTLS connection is still there for the next client.
            let next = try await world.client(from: ProxyWorld.meshedClientIP)
            #expect(try await next.roundTrip("GET", "/", host: "server.test:8080").status == 200)
            #expect(Self.meshConnections(world) == 1)
        }
    }

    @Test("new credentials: the shared mTLS connection takes no new streams and closes after its last one; the next request handshakes with the new certificate")
    func rotationRetiresSharedConnection() async throws {
        try await withProxyWorld { world in
            let (first, second) = try await Self.twoPodWorld(world, ips: ("127.0.78.161", "127.0.78.162"))
            let daemon = try #require(world.daemon)
            let client = try await world.client(from: ProxyWorld.meshedClientIP)
            #expect(try await client.roundTrip("GET", "/", host: "server.test:8080").status == 200)
            // A response in flight on the old connection while the credentials change.
            let slow = try await world.client(from: ProxyWorld.meshedClientIP)
            try await slow.send(RawHTTPClient.request("GET", "/stream", host: "server.test:8080"))
            #expect(await eventually { String(decoding: slow.receivedBytes(), as: UTF8.self).contains("first ") })
            let generation = daemon.credentials.current.generation
            try world.reissue("client")
            #expect(daemon.credentials.refresh().published)
            #expect(daemon.credentials.current.generation == generation + 1)

            #expect(try await client.roundTrip("GET", "/after", host: "server.test:8080").status == 200)
            #expect(Self.meshConnections(world) == 2, "a new handshake for the new certificate\n\(world.metricsText())")
            #expect(world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http2"]) == 2,
                    "the old connection stays while its stream is open")
            first.release()
            second.release()
            let rest = try await slow.readResponse()
            #expect(rest.body == "first rest", "the stream in flight finished on the old connection")
            #expect(await eventually {
                world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http2"]) == 1
            }, "the old connection closed after its last stream\n\(world.metricsText())")
            #expect(try await client.roundTrip("GET", "/again", host: "server.test:8080").status == 200)
            #expect(Self.meshConnections(world) == 2)
        }
    }

    @Test("""
        8 keep-alive clients POST 300 times each, the body a packet after the head, on a daemon of two event \
        loops: every response arrives whole (the app answers before the stream's end reaches the inbound, \
        whose NO_ERROR reset then waits for the response's last frame)
        """, arguments: [false, true])
    func postsUnderLoad(bodyInSamePacket: Bool) async throws {
        try await withProxyWorld(proxyThreads: 2) { world in
            let third = bodyInSamePacket ? 171 : 172
            _ = try await Self.twoPodWorld(world, ips: ("127.0.78.\(third)", "127.0.78.\(third + 10)"))
            var clients: [RawHTTPClient] = []
            for _ in 0..<8 { clients.append(try await world.client(from: ProxyWorld.meshedClientIP)) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (worker, client) in clients.enumerated() {
                    group.addTask {
                        var whole = 0
                        for index in 0..<300 {
                            let body = "request \(worker)-\(index)"
                            let head = RawHTTPClient.request("POST", "/echo", host: "server.test:8080",
                                                             headers: [("Content-Length", "\(body.utf8.count)")])
                            if bodyInSamePacket {
                                try await client.send(head + body)
                            } else {
                                try await client.send(head)
                                try await Task.sleep(for: .milliseconds(1))
                                try await client.send(body)
                            }
                            let response = try await client.readResponse(timeout: .seconds(5))
                            if response.status == 200 && response.body == body { whole += 1 }
                        }
                        return whole
                    }
                }
                for try await whole in group { #expect(whole == 300) }
            }
        }
    }

    @Test("h2load --h1 -n 10000 -c 100: every HTTP/1 request succeeds over a single mTLS connection")
    func h2loadHTTP1() async throws {
        try await withProxyWorld { world in
            _ = try await Self.twoPodWorld(world, ips: ("127.0.78.141", "127.0.78.142"))
            let outbound = try world.outbound
            let result = try await SpawnedProcess.run(
                ["/usr/bin/h2load", "--h1", "-n", "10000", "-c", "100", "-H", ":authority: server.test:8080",
                 "http://127.0.0.1:\(outbound.port ?? 0)/"], timeout: 300)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("10000 succeeded"), "\(result.stdout)")
            #expect(result.stdout.contains("status codes: 10000 2xx"), "\(result.stdout)")
            #expect(Self.meshConnections(world) == 1, "\(world.metricsText())")
        }
    }

    @Test("h2load -n 100000 -c 100 -m 10, HTTP/2 end to end through the mesh: every request succeeds over a handful of mTLS connections (100 streams each)")
    func h2loadHTTP2() async throws {
        try await withProxyWorld { world in
            let app = try await HTTP2TestBackend.start(name: "h2 app", ip: "127.0.78.151", group: world.group)
            world.onStop { await app.stop() }
            try await Self.startMesh(world, pods: [(app.ip, app.port)])
            let outbound = try world.outbound
            let result = try await SpawnedProcess.run(
                ["/usr/bin/h2load", "-n", "100000", "-c", "100", "-m", "10", "-H", ":authority: server.test:8080",
                 "http://127.0.0.1:\(outbound.port ?? 0)/"], timeout: 600)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("100000 succeeded"), "\(result.stdout)")
            #expect(result.stdout.contains("status codes: 100000 2xx"), "\(result.stdout)")
            // 1,000 concurrent streams at most, 100 per connection: 10 connections, and a few more
            // when a connection's streams have ended on our side but not yet on the peer's.
            #expect((1...20).contains(Self.meshConnections(world)), "\(world.metricsText())")
            let open = world.metric("switchyard_upstream_open_connections", ["tls": "true", "protocol": "http2"]) ?? 0
            #expect((1...20).contains(open), "\(world.metricsText())")
            #expect(app.acceptedConnections <= 20)
        }
    }
}
