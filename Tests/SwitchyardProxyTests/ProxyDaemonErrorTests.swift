// A real ProxyDaemon in ingress mode, in process: the answers the proxy makes itself
// (`l5d-proxy-error`), route timeouts, and connect failover between endpoints.
import NIOCore
@testable import SwitchyardProxy
import Testing

@Suite("ProxyDaemon: answers made by the proxy")
struct ProxyDaemonErrorTests {
    typealias M = TestManifests

    @Test("a route timeout of 500ms and a backend that never answers: 504 with l5d-proxy-error; the connection goes on")
    func routeTimeout() async throws {
        try await withProxyWorld { world in
            let route = M.gatewayRoute("sleepy", parent: "sleepy", rules: """
                - backendRefs:
                  - {name: sleepy, port: 8080}
                  timeouts:
                    request: 500ms
                """)
            let backend = try await world.startWithBackend("sleepy", ip: "127.0.77.61", clusterIP: "10.96.0.61",
                                                           manifests: [route])
            let client = try await world.client()
            let start = ContinuousClock.now
            try await client.send(RawHTTPClient.request("GET", "/hang", host: "sleepy.test:8080"))
            let response = try await client.readResponse(timeout: .seconds(5))
            #expect(response.status == 504)
            #expect(response.header("l5d-proxy-error") != nil)
            #expect(ContinuousClock.now - start >= .milliseconds(450), "not before the timeout")
            #expect(backend.requests.last?.uri == "/hang", "the request did reach the backend")

            let next = try await client.roundTrip("GET", "/fine", host: "sleepy.test:8080")
            #expect(next.status == 200)
            #expect(next.body == "sleepy")

            // A response that started but does not finish in time: cut off (the connection closes).
            try await client.send(RawHTTPClient.request("GET", "/stream", host: "sleepy.test:8080"))
            _ = try await client.read(until: "first ")
            #expect(await client.waitForClose(timeout: .seconds(5)), "the half-sent response is cut off by closing")
            #expect(!String(decoding: client.receivedBytes(), as: UTF8.self).contains("0\r\n\r\n"),
                    "no terminating chunk: the client can tell the body is incomplete")
        }
    }

    @Test("routes attached but none matches: 404 with l5d-proxy-error, the backend not contacted")
    func noRouteMatched() async throws {
        try await withProxyWorld { world in
            let route = M.policyRoute("picky", parent: "picky", rules: """
                - matches:
                  - headers:
                    - {name: "x-allowed", value: "yes"}
                  backendRefs:
                    - {name: "picky", port: 8080}
                """)
            let backend = try await world.startWithBackend("picky", ip: "127.0.77.71", clusterIP: "10.96.0.71",
                                                           manifests: [route])
            let client = try await world.client()
            let refused = try await client.roundTrip("GET", "/", host: "picky.test:8080")
            #expect(refused.status == 404)
            #expect(refused.header("l5d-proxy-error") != nil)
            #expect(backend.requests.isEmpty)

            let allowed = try await client.roundTrip("GET", "/", host: "picky.test:8080", headers: [("x-allowed", "yes")])
            #expect(allowed.status == 200, "the connection stays usable after a 404")
            #expect(allowed.body == "picky")
            #expect(world.metric("switchyard_proxy_error_total", ["direction": "outbound"]) == 1)

            // Pipelined behind each other: the proxy's own answer keeps its place in the order.
            try await client.send(RawHTTPClient.request("GET", "/a", host: "picky.test:8080")
                                  + RawHTTPClient.request("GET", "/b", host: "picky.test:8080", headers: [("x-allowed", "yes")])
                                  + RawHTTPClient.request("GET", "/c", host: "picky.test:8080"))
            let statuses = [try await client.readResponse(), try await client.readResponse(), try await client.readResponse()]
            #expect(statuses.map(\.status) == [404, 200, 404])
            #expect(statuses[1].header("x-seen-uri") == "/b")
            #expect(!client.isClosed)
        }
    }

    @Test("a Service whose only pod is not ready: 503 with l5d-proxy-error")
    func noReadyEndpoints() async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("unready", ip: "127.0.77.72", clusterIP: "10.96.0.72", ready: false)
            let response = try await world.get("/", host: "unready.test:8080")
            #expect(response.status == 503)
            #expect(response.header("l5d-proxy-error")?.contains("unready") == true, "\(response)")
            #expect(backend.acceptedConnections == 0)

            // HEAD gets the answer without its body, and the connection stays in step.
            let client = try await world.client()
            let head = try await client.roundTrip("HEAD", "/", host: "unready.test:8080", headRequest: true)
            #expect(head.status == 503)
            #expect(head.header("l5d-proxy-error") != nil)
            let get = try await client.roundTrip("GET", "/", host: "unready.test:8080")
            #expect(get.status == 503)
            #expect(get.body.contains("unready"))
        }
    }

    @Test("the only endpoint's port is closed: 502 with l5d-proxy-error naming the refusal")
    func endpointPortClosed() async throws {
        try await withProxyWorld { world in
            let ip = "127.0.77.73"
            let port = try await unusedPort(on: ip, group: world.group)
            try await world.start(manifests: [M.namespace(), M.node(),
                                              M.service("down", clusterIP: "10.96.0.73"),
                                              M.pod("down-0", app: "down", ip: ip, port: port)])
            let response = try await world.get("/", host: "down.test:8080")
            #expect(response.status == 502)
            let error = try #require(response.header("l5d-proxy-error"))
            #expect(error.lowercased().contains("refused"), "l5d-proxy-error: \(error)")
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "false", "result": "failure"]) == 1)
        }
    }

    @Test("one of two endpoints is down: the connect is retried on the other and the request succeeds")
    func connectFailover() async throws {
        try await withProxyWorld { world in
            let live = try await world.backend("live", ip: "127.0.77.74")
            let downIP = "127.0.77.75"
            let downPort = try await unusedPort(on: downIP, group: world.group)
            try await world.start(manifests: [M.namespace(), M.node(),
                                              M.service("pair", clusterIP: "10.96.0.74"),
                                              M.pod("pair-live", app: "pair", ip: live.ip, port: live.port),
                                              M.pod("pair-down", app: "pair", ip: downIP, port: downPort)])
            // Make the live endpoint look slow to the balancer, so that the first pick is the dead one.
            let daemon = try #require(world.daemon)
            let entry = try #require(daemon.loops.all.first)
            try await entry.eventLoop.submit {
                entry.resources.balancer.finished(live.authority, latency: .seconds(5), now: .now())
            }.get()

            let first = try await world.get("/first", host: "pair.test:8080")
            #expect(first.status == 200)
            #expect(first.body == "live")
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "false", "result": "failure"]) == 1,
                    "the dead endpoint was tried first")
            for i in 0..<4 {
                let response = try await world.get("/again/\(i)", host: "pair.test:8080")
                #expect(response.status == 200)
                #expect(response.body == "live")
            }
            #expect(live.requests.count == 5)
        }
    }

    @Test("both endpoints down: 502 after trying each")
    func allEndpointsDown() async throws {
        try await withProxyWorld { world in
            let ipA = "127.0.77.76", ipB = "127.0.77.77"
            let portA = try await unusedPort(on: ipA, group: world.group)
            let portB = try await unusedPort(on: ipB, group: world.group)
            try await world.start(manifests: [M.namespace(), M.node(),
                                              M.service("gone", clusterIP: "10.96.0.76"),
                                              M.pod("gone-a", app: "gone", ip: ipA, port: portA),
                                              M.pod("gone-b", app: "gone", ip: ipB, port: portB)])
            let response = try await world.get("/", host: "gone.test:8080")
            #expect(response.status == 502)
            let error = try #require(response.header("l5d-proxy-error"))
            #expect(error.contains("2 endpoints tried"), "l5d-proxy-error: \(error)")
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "false", "result": "failure"]) == 2)
        }
    }

    @Test("a request HTTP/1 cannot parse (unknown method, broken header line): 400, then the connection is closed",
          arguments: [
              "FOO / HTTP/1.1\r\nHost: x.test:8080\r\n\r\n",
              "GET / HTTP/1.1\r\nHost: x.test:8080\r\nthis is not a header\r\n\r\n",
              // Request smuggling shapes: both framings, or two different lengths.
              "POST / HTTP/1.1\r\nHost: x.test:8080\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              "POST / HTTP/1.1\r\nHost: x.test:8080\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
          ])
    func malformedRequest(_ request: String) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("x", ip: "127.0.77.78", clusterIP: "10.96.0.78")
            let (response, client) = try await world.send(raw: request)
            #expect(response.status == 400)
            #expect(response.header("l5d-proxy-error") != nil)
            #expect(response.header("connection")?.lowercased() == "close")
            #expect(await client.waitForClose(), "the proxy closes the connection")
            #expect(backend.acceptedConnections == 0)
        }
    }

    @Test("ingress mode: a request that names no destination, or one that is not in the mesh, gets 400",
          arguments: [
              ("GET / HTTP/1.1\r\n\r\n", "Host"),
              ("GET / HTTP/1.0\r\n\r\n", "Host"),
              ("GET / HTTP/1.1\r\nHost: 127.0.77.250:8080\r\n\r\n", "127.0.77.250:8080"),
              ("GET / HTTP/1.1\r\nHost: nosuch.test:8080\r\n\r\n", "nosuch"),
              ("GET / HTTP/1.1\r\nHost: y.test:9999\r\n\r\n", "9999"),
              ("GET / HTTP/1.1\r\nHost: y.test:8080\r\nHost: y.test:8080\r\n\r\n", "Host"),
          ])
    func ingressWithoutDestination(_ request: String, mentioned: String) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("y", ip: "127.0.77.79", clusterIP: "10.96.0.79")
            let (response, _) = try await world.send(raw: request)
            #expect(response.status == 400)
            let error = try #require(response.header("l5d-proxy-error"))
            #expect(error.contains(mentioned), "l5d-proxy-error: \(error)")
            #expect(backend.acceptedConnections == 0)
        }
    }

    @Test("heads over maxHeaderBytes: a request's is refused (400/431, closed, backend untouched); a response's is a 502")
    func headerLimits() async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("limited", ip: "127.0.77.80", clusterIP: "10.96.0.80") { configuration in
                configuration.maxHeaderBytes = 4 * 1024
            }
            let big = String(repeating: "a", count: 6 * 1024)
            let (response, client) = try await world.send(raw: RawHTTPClient.request(
                "GET", "/", host: "limited.test:8080", headers: [("x-big", big)]))
            #expect([400, 431].contains(response.status), "\(response)")
            #expect(response.header("l5d-proxy-error") != nil)
            #expect(await client.waitForClose())
            #expect(backend.acceptedConnections == 0)

            let small = try await world.get("/", host: "limited.test:8080", headers: [("x-small", "ok")])
            #expect(small.status == 200, "a head within the limit passes")

            let oversized = try await world.get("/big-header", host: "limited.test:8080")
            #expect(oversized.status == 502, "\(oversized)")
            #expect(oversized.header("l5d-proxy-error") != nil)
            #expect(oversized.header("x-big") == nil)
        }
    }
}
