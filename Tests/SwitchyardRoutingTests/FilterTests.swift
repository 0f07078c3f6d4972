import SwitchyardModel
import SwitchyardRouting
import Testing

@Suite("Filters shape the upstream request")
struct FilterTests {
    static func decide(_ filters: [HTTPRouteFilter], backendFilters: [HTTPRouteFilter] = [],
                       match: HTTPRouteMatch = HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api")),
                       path: String = "/api/v1?x=1", headers: [(String, String)] = [("host", "backend-a-podinfo.test:9898")]) -> RouteDecision {
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(matches: [match], filters: filters,
                          backendRefs: [Fixtures.to("backend-b-podinfo", filters: backendFilters)]),
        ])]))
        return Fixtures.decide(router, path: path, headers: headers)
    }

    @Test func requestHeaderModifierSetsAddsRemoves() {
        let m = HTTPHeaderModifier(set: [HTTPHeader(name: "X-Set", value: "new")], add: [HTTPHeader(name: "x-add", value: "two")],
                                   remove: ["x-drop"])
        let d = Self.decide([.requestHeaderModifier(m)],
                            headers: [("x-set", "old"), ("x-add", "one"), ("X-Drop", "gone"), ("x-set", "older")])
        #expect(d.request.headers == [HTTPHeader(name: "X-Set", value: "new"), HTTPHeader(name: "x-add", value: "one"),
                                      HTTPHeader(name: "x-add", value: "two")])
        #expect(d.request.header("x-add") == "one,two")
    }

    @Test func backendFiltersApplyAfterRuleFilters() {
        let d = Self.decide([.requestHeaderModifier(.init(set: [HTTPHeader(name: "x-layer", value: "rule")]))],
                            backendFilters: [.requestHeaderModifier(.init(add: [HTTPHeader(name: "x-layer", value: "backend")]))])
        #expect(d.request.header("x-layer") == "rule,backend")
    }

    @Test func responseHeaderModifierIsCarried() {
        let d = Self.decide([.responseHeaderModifier(.init(set: [HTTPHeader(name: "x-served-by", value: "switchyard")], remove: ["server"]))])
        #expect(d.responseHeaders?.set == [HTTPHeader(name: "x-served-by", value: "switchyard")])
        #expect(d.responseHeaders?.remove == ["server"])
    }

    @Test("URLRewrite path", arguments: [
        (HTTPPathModifier.replaceFullPath("/new"), "/api/v1?x=1", "/new?x=1"),
        (.replacePrefixMatch("/v2"), "/api/v1?x=1", "/v2/v1?x=1"),
        (.replacePrefixMatch("/v2/"), "/api/v1", "/v2/v1"),
        (.replacePrefixMatch("/"), "/api/v1", "/v1"),
        (.replacePrefixMatch("/v2"), "/api", "/v2"),
        (.replacePrefixMatch("/v2"), "/api/", "/v2/"),
    ])
    func rewritePath(modifier: HTTPPathModifier, path: String, expected: String) {
        let d = Self.decide([.urlRewrite(.init(path: modifier))], path: path)
        #expect(d.status == 200)
        #expect(d.request.path == expected)
    }

    @Test func rewriteHostname() {
        let d = Self.decide([.urlRewrite(.init(hostname: "rewritten.example"))])
        #expect(d.request.authority == "rewritten.example")
    }

    @Test("RequestRedirect Location", arguments: [
        (HTTPRequestRedirect(), "http://backend-a-podinfo.test:9898/api/v1?x=1", 302),
        (HTTPRequestRedirect(scheme: "https"), "https://backend-a-podinfo.test/api/v1?x=1", 302),
        (HTTPRequestRedirect(scheme: "https", port: 8443), "https://backend-a-podinfo.test:8443/api/v1?x=1", 302),
        (HTTPRequestRedirect(hostname: "example.org", statusCode: 301), "http://example.org:9898/api/v1?x=1", 301),
        (HTTPRequestRedirect(path: .replaceFullPath("/moved"), port: 80), "http://backend-a-podinfo.test/moved?x=1", 302),
        (HTTPRequestRedirect(path: .replacePrefixMatch("/v9"), statusCode: 308), "http://backend-a-podinfo.test:9898/v9/v1?x=1", 308),
    ])
    func redirect(redirect: HTTPRequestRedirect, location: String, status: Int) {
        let d = Self.decide([.requestRedirect(redirect)])
        #expect(d.status == status)
        #expect(d.redirect == location)
        #expect(d.backend == nil)
    }

    @Test func redirectWithoutHostUsesTheServiceName() {
        let d = Self.decide([.requestRedirect(HTTPRequestRedirect(scheme: "https"))], headers: [])
        #expect(d.redirect == "https://backend-a-podinfo.test.svc.cluster.local/api/v1?x=1")
    }

    @Test func mirrorNamesItsBackend() {
        let d = Self.decide([.requestMirror(.init(backend: HTTPBackendRef(name: "frontend-podinfo", port: 9898)))])
        #expect(d.mirrors == [BackendTarget(service: ResourceID(namespace: "test", name: "frontend-podinfo"), port: 9898)])
        #expect(d.backend?.service.name == "backend-b-podinfo")
    }

    @Test func timeoutsComeWithTheRule() {
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(backendRefs: [Fixtures.to("backend-b-podinfo")], timeouts: .init(request: .seconds(10), backendRequest: .milliseconds(500))),
        ])]))
        #expect(Fixtures.decide(router).timeouts == HTTPRouteTimeouts(request: .seconds(10), backendRequest: .milliseconds(500)))
    }
}

@Suite("Destinations")
struct DestinationTests {
    let router = Router(snapshot: Fixtures.snapshot())

    @Test("forms of a Service destination", arguments: [
        "backend-a-podinfo.test:9898", "backend-a-podinfo.test.svc:9898", "backend-a-podinfo.test.svc.cluster.local:9898", "10.96.0.20:9898",
    ])
    func service(dest: String) throws {
        #expect(try router.resolve(destination: dest) == .service(Fixtures.parentA))
    }

    @Test func podIP() throws {
        #expect(try router.resolve(destination: "10.244.2.30:9898") == .pod(ResourceID(namespace: "test", name: "backend-b-1"), ip: "10.244.2.30", port: 9898))
    }

    @Test func unknownIPPassesThrough() throws {
        #expect(try router.resolve(destination: "192.0.2.1:80") == .address(ip: "192.0.2.1", port: 80))
        #expect(try router.resolve(destination: "[2001:db8::1]:80") == .address(ip: "2001:db8::1", port: 80))
    }

    @Test("bad destinations say what is wrong", arguments: [
        ("backend-a-podinfo.test", "HOST:PORT"), ("backend-a-podinfo.test:0", "HOST:PORT"),
        ("nope.test:9898", "not found"), ("backend-a-podinfo.test:80", "has no port 80"),
        ("backend-a-podinfo:9898", "expected name.namespace"), ("10.96.0.20:80", "has no port 80"),
    ])
    func bad(dest: String, message: String) {
        #expect {
            try router.resolve(destination: dest)
        } throws: { error in
            String(describing: error).contains(message)
        }
    }
}
