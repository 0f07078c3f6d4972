// Answers the proxy makes itself: statuses, the l5d-proxy-error header, bytes on the wire.
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SwitchyardModel
import SwitchyardProxy
import SwitchyardRouting
import Testing

@Suite("Proxy error responses")
struct ProxyErrorTests {
    /// The response as NIOHTTP1's encoder writes it.
    static func wire(_ error: ProxyError, closeConnection: Bool? = nil) throws -> String {
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        let (head, body) = ProxyErrorResponse.make(error, closeConnection: closeConnection)
        try channel.writeOutbound(HTTPServerResponsePart.head(head))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(body)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        _ = try channel.finish()
        return text
    }

    @Test("each case has its status", arguments: [
        (ProxyError.malformedRequest("bad target"), 400, "malformed_request"),
        (.noRoute("no route matched"), 404, "no_route"),
        (.invalidBackend("Service test/x not found"), 500, "invalid_backend"),
        (.upstreamFailed("connection refused"), 502, "upstream_failed"),
        (.noEndpoints("no endpoints"), 503, "no_endpoints"),
        (.timeout("request timeout 1s"), 504, "timeout"),
    ])
    func statuses(_ error: ProxyError, _ code: Int, _ label: String) throws {
        #expect(Int(error.status.code) == code)
        #expect(error.label == label)
        #expect(error.requiresClose == (code == 400))
        let (head, body) = ProxyErrorResponse.make(error)
        #expect(head.status == error.status)
        #expect(head.headers["l5d-proxy-error"] == [error.reason])
        #expect(String(buffer: body) == error.reason + "\n")
    }

    @Test("404 on the wire: keep-alive, no connection field")
    func notFoundBytes() throws {
        #expect(try Self.wire(.noRoute("no route matched")) == """
            HTTP/1.1 404 Not Found\r
            l5d-proxy-error: no route matched\r
            content-type: text/plain\r
            content-length: 17\r
            \r
            no route matched

            """)
    }

    @Test("400 on the wire: the connection closes")
    func badRequestBytes() throws {
        #expect(try Self.wire(.malformedRequest("HTTP/1.1 request without a Host header")) == """
            HTTP/1.1 400 Bad Request\r
            l5d-proxy-error: HTTP/1.1 request without a Host header\r
            content-type: text/plain\r
            content-length: 39\r
            connection: close\r
            \r
            HTTP/1.1 request without a Host header

            """)
    }

    @Test("502 closing because the caller says so; 400 kept open when the caller says so")
    func callerDecidesClose() throws {
        #expect(try Self.wire(.upstreamFailed("connect to 10.244.2.20:9898: connection refused"), closeConnection: true) == """
            HTTP/1.1 502 Bad Gateway\r
            l5d-proxy-error: connect to 10.244.2.20:9898: connection refused\r
            content-type: text/plain\r
            content-length: 48\r
            connection: close\r
            \r
            connect to 10.244.2.20:9898: connection refused

            """)
        let (head, _) = ProxyErrorResponse.make(.malformedRequest("x"), closeConnection: false)
        #expect(!head.headers.contains(name: "connection"))
    }

    @Test("a reason cannot inject fields: control bytes and non-ASCII are replaced, length is capped")
    func sanitised() throws {
        let error = ProxyError.upstreamFailed("\tbad\r\nx-evil: 1\u{0} café ")
        #expect(error.headerValue == "bad??x-evil: 1? caf?")
        #expect(try Self.wire(error).hasPrefix("HTTP/1.1 502 Bad Gateway\r\nl5d-proxy-error: bad??x-evil: 1? caf?\r\n"))
        #expect(ProxyError.timeout("").headerValue == "Gateway Timeout")
        let long = ProxyError.noRoute(String(repeating: "x", count: 2000)).headerValue
        #expect(long.utf8.count == ProxyError.maxHeaderValueLength && long.hasSuffix("..."))
    }

    // MARK: - From router decisions

    @Test("router decisions: 404, 500, no endpoints, forward, redirect")
    func fromDecisions() {
        let world = HeadMappingWorld.self
        let router = world.router(rules: [
            HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api"))],
                          backendRefs: [HTTPBackendRef(name: "backend-b-podinfo", port: 9898)]),
            HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/missing"))],
                          backendRefs: [HTTPBackendRef(name: "nowhere", port: 9898)]),
            HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/empty"))],
                          backendRefs: [HTTPBackendRef(name: "empty-podinfo", port: 9898)]),
            HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/old"))],
                          filters: [.requestRedirect(HTTPRequestRedirect(path: .replaceFullPath("/new")))]),
        ])
        func decide(_ path: String) -> RouteDecision {
            var rng = SystemRandomNumberGenerator()
            return router.decide(RouteRequest(path: path, headers: [HTTPHeader(name: "host", value: "x")]),
                                 parent: world.parentA, using: &rng)
        }
        #expect(ProxyError(decision: decide("/other")) == .noRoute("no route matched"))
        guard case .invalidBackend(let reason)? = ProxyError(decision: decide("/missing")) else {
            Issue.record("expected invalidBackend")
            return
        }
        #expect(reason.contains("nowhere"))
        #expect(ProxyError(decision: decide("/empty")) == .noEndpoints("Service test/empty-podinfo port 9898 has no endpoints"))
        #expect(ProxyError(decision: decide("/api/x")) == nil)
        #expect(ProxyError(decision: decide("/old")) == nil)

        var rng = SystemRandomNumberGenerator()
        let toAddress = router.decide(RouteRequest(), destination: .address(ip: "192.0.2.1", port: 80), using: &rng)
        #expect(ProxyError(decision: toAddress) == nil)  // passed through as addressed
        let toMissing = router.decide(RouteRequest(), parent: ParentKey(service: ResourceID(namespace: "test", name: "gone"), port: 1), using: &rng)
        #expect(ProxyError(decision: toMissing) == .invalidBackend("Service test/gone not found"))
    }
}
