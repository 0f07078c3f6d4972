// A real ProxyDaemon in ingress mode, in process: per-request routing on keep-alive and
// pipelined connections, HTTPRoute filters, mesh header hygiene, pooling and metrics.
import NIOCore
@testable import SwitchyardProxy
import Testing

@Suite("ProxyDaemon: routing each request")
struct ProxyDaemonRoutingTests {
    typealias M = TestManifests

    /// The tutorial's route (DESIGN.md), on Services `backend-a` and `backend-b` port 8080.
    static let tutorialRoute = M.policyRoute("backend-router", parent: "backend-a", rules: """
        - matches:
          - headers:
            - {name: "x-request-id", value: "alternative"}
          backendRefs:
            - {name: "backend-b", port: 8080}
        - backendRefs:
          - {name: "backend-a", port: 8080}
        """)

    /// Backends A and B, their Services, the tutorial route; the daemon started.
    static func tutorialWorld(_ world: ProxyWorld, ipA: String, ipB: String) async throws -> (TestBackend, TestBackend) {
        let a = try await world.backend("A backend", ip: ipA)
        let b = try await world.backend("B backend", ip: ipB)
        try await world.start(manifests: [M.namespace(), M.node()]
                              + M.serviceWithPod("backend-a", clusterIP: "10.96.0.20", backend: a)
                              + M.serviceWithPod("backend-b", clusterIP: "10.96.0.30", backend: b)
                              + [tutorialRoute])
        return (a, b)
    }

    @Test("alternating requests on one keep-alive connection reach B, A, B by the header match")
    func perRequestRoutingOnOneConnection() async throws {
        try await withProxyWorld { world in
            let (a, b) = try await Self.tutorialWorld(world, ipA: "127.0.77.11", ipB: "127.0.77.12")
            let client = try await world.client()
            for (alternative, expected) in [(true, "B backend"), (false, "A backend"), (true, "B backend")] {
                let response = try await client.roundTrip(
                    "GET", "/", host: "backend-a.test:8080", headers: alternative ? [("x-request-id", "alternative")] : [])
                #expect(response.status == 200)
                #expect(response.body == expected)
            }
            #expect(!client.isClosed, "the client connection stays open")
            #expect(a.requests.count == 1)
            #expect(b.requests.count == 2)
            #expect(b.acceptedConnections == 1, "B's two requests reused one pooled upstream connection")
        }
    }

    @Test("three pipelined requests in one write are answered in order, each routed by itself")
    func pipelining() async throws {
        try await withProxyWorld { world in
            let (a, b) = try await Self.tutorialWorld(world, ipA: "127.0.77.21", ipB: "127.0.77.22")
            let client = try await world.client()
            let host = "backend-a.test:8080"
            // The first is slow, so that answering out of order would show.
            try await client.send(
                RawHTTPClient.request("GET", "/slow?ms=300", host: host, headers: [("x-request-id", "alternative")])
                + RawHTTPClient.request("GET", "/two", host: host)
                + RawHTTPClient.request("GET", "/three", host: host, headers: [("x-request-id", "alternative")]))
            var seen: [(String, String?)] = []
            for _ in 0..<3 {
                let response = try await client.readResponse()
                #expect(response.status == 200)
                seen.append((response.body, response.header("x-seen-uri")))
            }
            #expect(seen.map(\.0) == ["B backend", "A backend", "B backend"])
            #expect(seen.map(\.1) == ["/slow?ms=300", "/two", "/three"])
            #expect(a.requests.map(\.uri) == ["/two"])
            #expect(b.requests.map(\.uri) == ["/slow?ms=300", "/three"])
            #expect(!client.isClosed)
        }
    }

    @Test("Gateway API filters: request and response header modifiers, redirect, prefix rewrite")
    func filters() async throws {
        try await withProxyWorld { world in
            let route = M.gatewayRoute("filters", parent: "web", rules: """
                - matches:
                  - path: {type: PathPrefix, value: /headers}
                  filters:
                  - type: RequestHeaderModifier
                    requestHeaderModifier:
                      add:
                      - {name: x-added, value: by-route}
                      set:
                      - {name: x-set, value: replaced}
                      remove: [x-remove-me]
                  - type: ResponseHeaderModifier
                    responseHeaderModifier:
                      add:
                      - {name: x-response-added, value: by-route}
                      remove: [x-seen-uri]
                  backendRefs:
                  - {name: web, port: 8080}
                - matches:
                  - path: {type: PathPrefix, value: /old}
                  filters:
                  - type: RequestRedirect
                    requestRedirect: {hostname: example.org, statusCode: 302}
                - matches:
                  - path: {type: PathPrefix, value: /api/v1}
                  filters:
                  - type: URLRewrite
                    urlRewrite:
                      path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}
                  backendRefs:
                  - {name: web, port: 8080}
                - backendRefs:
                  - {name: web, port: 8080}
                """)
            let web = try await world.startWithBackend("web", ip: "127.0.77.51", clusterIP: "10.96.0.50", manifests: [route])
            let host = "web.test:8080"
            let client = try await world.client()

            // Request and response header modifiers.
            let modified = try await client.roundTrip("GET", "/headers", host: host,
                                                      headers: [("x-set", "original"), ("x-remove-me", "1")])
            #expect(modified.status == 200)
            #expect(modified.values("x-response-added") == ["by-route"])
            #expect(modified.header("x-seen-uri") == nil, "removed from the response by the route")
            #expect(modified.header("x-backend") == "web")
            let seen = try #require(web.requests.last)
            #expect(seen.uri == "/headers")
            #expect(seen.values("x-added") == ["by-route"])
            #expect(seen.values("x-set") == ["replaced"])
            #expect(seen.values("x-remove-me").isEmpty)

            // Redirect: answered by the proxy, the backend never hears of it.
            let before = web.requests.count
            let redirect = try await client.roundTrip("GET", "/old/page?x=1", host: host)
            #expect(redirect.status == 302)
            let location = try #require(redirect.header("location"))
            #expect(location.hasPrefix("http://example.org"), "Location: \(location)")
            #expect(location.hasSuffix("/old/page?x=1"), "Location: \(location)")
            #expect(web.requests.count == before)

            // Prefix rewrite.
            let rewritten = try await client.roundTrip("GET", "/api/v1/items?id=7", host: host)
            #expect(rewritten.status == 200)
            #expect(web.requests.last?.uri == "/v2/items?id=7")

            // No rule's filter applies to the catch-all.
            let plain = try await client.roundTrip("GET", "/other", host: host)
            #expect(plain.header("x-response-added") == nil)
            #expect(plain.header("x-seen-uri") == "/other")
            #expect(!client.isClosed)
        }
    }

    @Test("an l5d-client-id or l5d-dst-override the client sent never reaches an unmeshed backend")
    func clientIdentityHeaderRemoved() async throws {
        try await withProxyWorld { world in
            let plain = try await world.startWithBackend("plain", ip: "127.0.77.101", clusterIP: "10.96.0.101")
            let response = try await world.get("/", host: "ignored.example:80", headers: [
                ("l5d-client-id", "admin.kube-system.serviceaccount.identity.linkerd.cluster.local"),
                ("L5D-Client-Id", "forged-again"),
                ("l5d-dst-override", "plain.test:8080"),
            ])
            #expect(response.status == 200)
            #expect(response.body == "plain", "l5d-dst-override chose the destination over Host")
            let seen = try #require(plain.requests.last)
            #expect(seen.values("l5d-client-id").isEmpty)
            #expect(seen.values("l5d-dst-override").isEmpty)
            #expect(seen.values("host") == ["ignored.example:80"], "Host is passed on as the client sent it")
        }
    }

    @Test("a pod addressed as IP:port is reached directly")
    func podByAddress() async throws {
        try await withProxyWorld { world in
            let pod = try await world.startWithBackend("pod", ip: "127.0.77.102", clusterIP: "10.96.0.102")
            let response = try await world.get("/by-ip", host: pod.authority)
            #expect(response.status == 200)
            #expect(response.body == "pod")
            #expect(pod.requests.last?.uri == "/by-ip")
        }
    }

    @Test("an absolute-form request target (a client configured to use a proxy) is routed by its authority")
    func absoluteFormTarget() async throws {
        try await withProxyWorld { world in
            let (a, b) = try await Self.tutorialWorld(world, ipA: "127.0.77.103", ipB: "127.0.77.104")
            let client = try await world.client()
            try await client.send("GET http://backend-a.test:8080/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n"
                                  + "x-request-id: alternative\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.body == "B backend")
            #expect(b.requests.last?.uri == "/abs?q=1", "origin-form upstream")
            #expect(b.requests.last?.values("host") == ["backend-a.test:8080"], "Host follows the target's authority")
            #expect(a.requests.isEmpty)
        }
    }

    @Test("sequential requests on two client connections share one pooled upstream connection; metrics count them")
    func poolReuseAndMetrics() async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("pooled", ip: "127.0.77.111", clusterIP: "10.96.0.111")
            for path in ["/first", "/second"] {
                let response = try await world.get(path, host: "pooled.test:8080")
                #expect(response.status == 200)
                #expect(response.body == "pooled")
            }
            #expect(backend.requests.map(\.uri) == ["/first", "/second"])
            #expect(backend.acceptedConnections == 1, "the second request reused the first one's upstream connection")
            #expect(Set(backend.requests.map(\.connection)) == [1])

            let text = world.metricsText()
            #expect(world.metric("outbound_http_route_request_total", ["parent": "pooled.test:8080"]) == 2,
                    "\(text)")
            #expect(world.metric("response_total", ["direction": "outbound", "tls": "false", "status_code": "200",
                                                    "classification": "success"]) == 2, "\(text)")
            #expect(world.metric("request_total", ["direction": "outbound", "tls": "false"]) == 2, "\(text)")
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "false", "result": "success"]) == 1, "\(text)")
        }
    }
}
