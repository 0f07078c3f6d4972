import SwitchyardModel
import SwitchyardRouting
import Testing

/// Each match kind on its own: one rule that matches goes to B, the catch-all rule to A.
@Suite("Match kinds")
struct MatchKindTests {
    static func router(_ match: HTTPRouteMatch) -> Router {
        Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(matches: [match], backendRefs: [Fixtures.to("backend-b-podinfo")]),
        ])]))
    }

    static func hits(_ match: HTTPRouteMatch, method: String = "GET", path: String, headers: [(String, String)] = []) -> Bool {
        let d = Fixtures.decide(router(match), method: method, path: path, headers: headers)
        if d.status == 404 { return false }
        #expect(d.status == 200)
        #expect(d.backend?.service.name == "backend-b-podinfo")
        return true
    }

    @Test("path Exact", arguments: [
        ("/foo", true), ("/foo/", false), ("/foo/bar", false), ("/fo", false), ("/foo?x=1", true), ("/FOO", false),
    ])
    func exactPath(path: String, hit: Bool) {
        #expect(Self.hits(HTTPRouteMatch(path: HTTPPathMatch(type: .exact, value: "/foo")), path: path) == hit)
    }

    @Test("PathPrefix matches whole segments", arguments: [
        ("/v1", "/v1", true), ("/v1", "/v1/", true), ("/v1", "/v1/users", true), ("/v1", "/v12", false),
        ("/v1", "/v", false), ("/v1/", "/v1", true), ("/v1/", "/v1/x", true), ("/v1/", "/v1x", false),
        ("/", "/anything/at/all", true), ("/", "/", true), ("/v1", "/v1?q=2", true),
    ])
    func prefixPath(prefix: String, path: String, hit: Bool) {
        #expect(Self.hits(HTTPRouteMatch(path: HTTPPathMatch(type: .pathPrefix, value: prefix)), path: path) == hit)
    }

    @Test("path RegularExpression matches the whole path", arguments: [
        ("/users/42", true), ("/users/abc", false), ("/users/42/x", false), ("/api/users/42", false),
    ])
    func regexPath(path: String, hit: Bool) {
        #expect(Self.hits(HTTPRouteMatch(path: HTTPPathMatch(type: .regularExpression, value: "/users/[0-9]+")), path: path) == hit)
    }

    @Test("header Exact and RegularExpression", arguments: [
        (StringMatchType.exact, "canary", [("X-Version", "canary")], true),
        (.exact, "canary", [("x-version", "canary")], true),
        (.exact, "canary", [("x-version", "canary-2")], false),
        (.exact, "canary", [], false),
        (.regularExpression, "v[0-9]+", [("x-version", "v12")], true),
        (.regularExpression, "v[0-9]+", [("x-version", "xv12")], false),   // whole value, not a search
        (.regularExpression, "v[0-9]+", [("x-version", "v12x")], false),
        (.exact, "canary", [("x_version", "canary")], false),                     // "_" is not "-"
        (.exact, "canary", [("X-VERSION", "canary")], true),
        (.exact, "a,b", [("x-version", "a"), ("accept", "*/*"), ("x-version", "b")], true),  // repeated fields join with ","
        (.exact, "a", [("x-version", "a"), ("x-version", "b")], false),
        (.regularExpression, "a,.*", [("x-version", "a"), ("X-Version", "b")], true),
    ])
    func header(type: StringMatchType, value: String, headers: [(String, String)], hit: Bool) {
        let m = HTTPRouteMatch(headers: [HTTPHeaderMatch(type: type, name: "x-version", value: value)])
        #expect(Self.hits(m, path: "/", headers: headers) == hit)
    }

    @Test("query parameters Exact and RegularExpression", arguments: [
        (StringMatchType.exact, "whale", "/?animal=whale", true),
        (.exact, "whale", "/?color=blue&animal=whale", true),
        (.exact, "whale", "/?animal=dolphin", false),
        (.exact, "whale", "/?animal=whale&animal=dolphin", true),   // the first value counts
        (.exact, "whale", "/?animal=dolphin&animal=whale", false),
        (.exact, "whale", "/?Animal=whale", false),                  // names are case-sensitive
        (.exact, "blue whale", "/?animal=blue%20whale", true),       // values are percent-decoded
        (.exact, "whale", "/", false),
        (.regularExpression, "wh.+", "/?animal=whale", true),
        (.regularExpression, "wh.+", "/?animal=orca-whale", false),
    ])
    func query(type: StringMatchType, value: String, path: String, hit: Bool) {
        let m = HTTPRouteMatch(queryParams: [HTTPQueryParamMatch(type: type, name: "animal", value: value)])
        #expect(Self.hits(m, path: path) == hit)
    }

    @Test("method", arguments: [("GET", true), ("POST", false), ("get", false)])
    func method(method: String, hit: Bool) {
        #expect(Self.hits(HTTPRouteMatch(method: "GET"), method: method, path: "/") == hit)
    }

    @Test("conditions within one match are ANDed", arguments: [
        ("POST", "/api/x", [("x-env", "prod")], true),
        ("GET", "/api/x", [("x-env", "prod")], false),
        ("POST", "/web", [("x-env", "prod")], false),
        ("POST", "/api/x", [], false),
    ])
    func andWithinMatch(method: String, path: String, headers: [(String, String)], hit: Bool) {
        let m = HTTPRouteMatch(path: HTTPPathMatch(type: .pathPrefix, value: "/api"),
                               headers: [HTTPHeaderMatch(name: "x-env", value: "prod")], method: "POST")
        #expect(Self.hits(m, method: method, path: path, headers: headers) == hit)
    }

    @Test("matches of one rule are ORed", arguments: [
        ([("color", "blue")], true), ([("color", "green")], true), ([("color", "red")], false),
    ])
    func orAcrossMatches(headers: [(String, String)], hit: Bool) {
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(matches: [HTTPRouteMatch(headers: [HTTPHeaderMatch(name: "color", value: "blue")]),
                                    HTTPRouteMatch(headers: [HTTPHeaderMatch(name: "color", value: "green")])],
                          backendRefs: [Fixtures.to("backend-b-podinfo")]),
        ])]))
        #expect((Fixtures.decide(router, headers: headers).status == 200) == hit)
    }

    @Test func noMatchIs404() {
        let d = Fixtures.decide(Self.router(HTTPRouteMatch(path: HTTPPathMatch(type: .exact, value: "/only"))), path: "/other")
        #expect(d.status == 404)
        #expect(d.backend == nil)
        #expect(d.reason == "no route matched")
    }
}
