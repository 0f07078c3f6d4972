// NIOHTTP1 heads to the router's RouteRequest and back, with a real Router decision.
import NIOHTTP1
import SwitchyardModel
import SwitchyardProxy
import SwitchyardRouting
import Testing

/// A small mesh, built from model values: namespace `test` (meshed), Services
/// `backend-a-podinfo` (10.96.0.20) and `backend-b-podinfo` (10.96.0.30) on 9898 with one pod
/// each, `empty-podinfo` (10.96.0.40) with none, and a pod outside any Service.
enum HeadMappingWorld {
    static let ns = "test"
    static let parentA = ParentKey(service: ResourceID(namespace: ns, name: "backend-a-podinfo"), port: 9898)

    static func service(_ name: String, ip: String) -> Service {
        Service(id: ResourceID(namespace: ns, name: name), clusterIP: ip,
                ports: [ServicePort(name: "http", port: 9898)], selector: ["app": name])
    }

    static func pod(_ name: String, app: String, ip: String) -> Pod {
        Pod(id: ResourceID(namespace: ns, name: name), labels: ["app": app], nodeName: "node-2", podIP: ip)
    }

    static func router(rules: [HTTPRouteRule] = []) -> Router {
        let routes = rules.isEmpty ? [] : [
            HTTPRoute(id: ResourceID(namespace: ns, name: "r"), api: .gatewayV1,
                      parentRefs: [ParentReference(group: "", kind: "Service", name: "backend-a-podinfo", port: 9898)],
                      rules: rules),
        ]
        return Router(snapshot: MeshSnapshot(
            namespaces: [Namespace(name: ns, annotations: ["linkerd.io/inject": "enabled"])],
            services: [service("backend-a-podinfo", ip: "10.96.0.20"), service("backend-b-podinfo", ip: "10.96.0.30"),
                       service("empty-podinfo", ip: "10.96.0.40")],
            pods: [pod("backend-a-1", app: "backend-a-podinfo", ip: "10.244.2.20"),
                   pod("backend-b-1", app: "backend-b-podinfo", ip: "10.244.2.30"),
                   pod("loner", app: "none", ip: "10.244.2.99")],
            httpRoutes: routes))
    }
}

@Suite("Request head mapping")
struct RequestHeadMappingTests {
    static func head(_ method: HTTPMethod = .GET, _ uri: String, _ headers: [(String, String)],
                     version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    static func fields(_ headers: HTTPHeaders) -> [String] { headers.map { "\($0.name): \($0.value)" } }

    @Test("origin-form: method, path with query, headers in order, scheme http")
    func originForm() throws {
        let head = Self.head(.POST, "/api/v1?x=1&y", [("Host", "backend-a-podinfo.test:9898"), ("X-Request-Id", "alternative"),
                                                      ("x-request-id", "second")])
        let request = try RequestHeadMapping.routeRequest(from: head).get()
        #expect(request.method == "POST")
        #expect(request.path == "/api/v1?x=1&y")
        #expect(request.scheme == "http")
        #expect(request.headers == [HTTPHeader(name: "Host", value: "backend-a-podinfo.test:9898"),
                                    HTTPHeader(name: "X-Request-Id", value: "alternative"),
                                    HTTPHeader(name: "x-request-id", value: "second")])
        #expect(try RequestHeadMapping.routeRequest(from: Self.head(.RAW(value: "PURGE"), "/", [("Host", "a")])).get().method == "PURGE")
    }

    @Test("absolute-form: the target's authority replaces Host", arguments: [
        ("http://backend-a-podinfo.test:9898/api?q=1", [("host", "ignored"), ("a", "1"), ("Host", "also-ignored")],
         "/api?q=1", "http", ["host: backend-a-podinfo.test:9898", "a: 1"]),
        ("HTTP://10.96.0.20:9898", [], "/", "http", ["Host: 10.96.0.20:9898"]),
        ("https://[fd00::1]:8443?x#frag", [("a", "1")], "/?x", "https", ["Host: [fd00::1]:8443", "a: 1"]),
    ])
    func absoluteForm(_ uri: String, _ headers: [(String, String)], _ path: String, _ scheme: String, _ expected: [String]) throws {
        let request = try RequestHeadMapping.routeRequest(from: Self.head(.GET, uri, headers)).get()
        #expect(request.path == path)
        #expect(request.scheme == scheme)
        #expect(request.headers.map { "\($0.name): \($0.value)" } == expected)
    }

    @Test("refused with 400", arguments: [
        ("example.com:443", HTTPMethod.CONNECT, [("Host", "example.com:443")], HTTPVersion.http1_1, "not origin-form"),
        ("api/v1", .GET, [("Host", "a")], .http1_1, "not origin-form"),
        ("ftp://a/b", .GET, [("Host", "a")], .http1_1, "not origin-form"),
        ("http://user@a/b", .GET, [], .http1_1, "not origin-form"),
        ("http:///b", .GET, [], .http1_1, "not origin-form"),
        ("", .GET, [("Host", "a")], .http1_1, "not origin-form"),
        ("*", .GET, [("Host", "a")], .http1_1, "only allowed with OPTIONS"),
        ("/", .GET, [], .http1_1, "without a Host header"),
        ("/", .GET, [("Host", "a"), ("host", "b")], .http1_1, "several Host headers"),
        ("/", .GET, [("Host", "a"), ("host", "b")], .http1_0, "several Host headers"),
    ])
    func refused(_ uri: String, _ method: HTTPMethod, _ headers: [(String, String)], _ version: HTTPVersion, _ words: String) {
        let result = RequestHeadMapping.routeRequest(from: Self.head(method, uri, headers, version: version))
        guard case .failure(let error) = result, case .malformedRequest(let reason) = error else {
            Issue.record("expected malformedRequest, got \(result)")
            return
        }
        #expect(reason.contains(words), "\(reason)")
        #expect(error.status == .badRequest)
    }

    @Test("HTTP/1.0 without Host, and OPTIONS *, are accepted")
    func lenientForms() throws {
        #expect(try RequestHeadMapping.routeRequest(from: Self.head(.GET, "/", [], version: .http1_0)).get().path == "/")
        #expect(try RequestHeadMapping.routeRequest(from: Self.head(.OPTIONS, "*", [("Host", "a")])).get().path == "*")
    }

    @Test("round trip through a real decision: rewrite and request header modifiers land on the head, version kept")
    func roundTripWithFilters() throws {
        let router = HeadMappingWorld.router(rules: [
            HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api"),
                                                   headers: [HTTPHeaderMatch(name: "x-request-id", value: "alternative")])],
                          filters: [
                              .urlRewrite(HTTPURLRewrite(hostname: "b.internal", path: .replacePrefixMatch("/v2"))),
                              .requestHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "X-Tier", value: "gold")],
                                                                        add: [HTTPHeader(name: "x-via", value: "switchyard")],
                                                                        remove: ["x-drop"])),
                              .responseHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "x-served-by", value: "b")],
                                                                         add: [HTTPHeader(name: "x-trace", value: "2")],
                                                                         remove: ["server"])),
                          ],
                          backendRefs: [HTTPBackendRef(name: "backend-b-podinfo", port: 9898)]),
            HTTPRouteRule(backendRefs: [HTTPBackendRef(name: "backend-a-podinfo", port: 9898)]),
        ])
        var head = Self.head(.PUT, "/api/users?id=7", [
            ("Host", "backend-a-podinfo.test:9898"), ("x-tier", "bronze"), ("x-request-id", "alternative"),
            ("X-Drop", "secret"), ("Connection", "keep-alive, x-hop"), ("x-hop", "1"), ("Content-Length", "3"),
        ], version: .http1_0)
        OutboundHeaders.prepare(&head.headers)
        let request = try RequestHeadMapping.routeRequest(from: head).get()
        var rng = SystemRandomNumberGenerator()
        let decision = router.decide(request, destination: .service(HeadMappingWorld.parentA), using: &rng)
        #expect(decision.status == 200)
        #expect(decision.backend?.service.name == "backend-b-podinfo")

        let outgoing = RequestHeadMapping.outgoingHead(for: decision, from: head)
        #expect(outgoing.version == .http1_0)
        #expect(outgoing.method == .PUT)
        #expect(outgoing.uri == "/v2/users?id=7")
        #expect(Self.fields(outgoing.headers) == ["host: b.internal", "X-Tier: gold", "x-request-id: alternative",
                                                  "Content-Length: 3", "x-via: switchyard"])

        var response = HTTPHeaders([("Server", "podinfo"), ("x-served-by", "a"), ("X-Served-By", "a2"), ("x-trace", "1")])
        RequestHeadMapping.applyResponseHeaders(decision, to: &response)
        #expect(Self.fields(response) == ["x-trace: 1", "x-served-by: b", "x-trace: 2"])
    }

    @Test("a decision without filters leaves the head as it was (origin-form); absolute-form goes out origin-form")
    func roundTripUnchanged() throws {
        let router = HeadMappingWorld.router(rules: [HTTPRouteRule(backendRefs: [HTTPBackendRef(name: "backend-a-podinfo", port: 9898)])])
        var rng = SystemRandomNumberGenerator()

        let head = Self.head(.GET, "/x?y=1", [("Host", "backend-a-podinfo.test:9898"), ("Accept", "*/*")])
        let decision = router.decide(try RequestHeadMapping.routeRequest(from: head).get(), parent: HeadMappingWorld.parentA, using: &rng)
        #expect(ProxyError(decision: decision) == nil)
        #expect(RequestHeadMapping.outgoingHead(for: decision, from: head) == head)
        var response = HTTPHeaders([("Server", "podinfo")])
        RequestHeadMapping.applyResponseHeaders(decision, to: &response)
        #expect(Self.fields(response) == ["Server: podinfo"])

        let absolute = Self.head(.GET, "http://backend-a-podinfo.test:9898/x", [("Host", "stale"), ("Accept", "*/*")])
        let d2 = router.decide(try RequestHeadMapping.routeRequest(from: absolute).get(), parent: HeadMappingWorld.parentA, using: &rng)
        let out = RequestHeadMapping.outgoingHead(for: d2, from: absolute)
        #expect(out.uri == "/x")
        #expect(Self.fields(out.headers) == ["Host: backend-a-podinfo.test:9898", "Accept: */*"])
    }

    @Test("response modifier: set replaces every copy, add appends, remove is case-insensitive; nil is a no-op")
    func responseModifier() {
        var headers = HTTPHeaders([("A", "1"), ("b", "2"), ("a", "3"), ("C", "4")])
        RequestHeadMapping.apply(HTTPHeaderModifier(set: [HTTPHeader(name: "a", value: "x")], add: [HTTPHeader(name: "b", value: "5")],
                                                    remove: ["c"]), toResponse: &headers)
        #expect(Self.fields(headers) == ["b: 2", "a: x", "b: 5"])
        RequestHeadMapping.apply(nil, toResponse: &headers)
        #expect(Self.fields(headers) == ["b: 2", "a: x", "b: 5"])
    }
}
