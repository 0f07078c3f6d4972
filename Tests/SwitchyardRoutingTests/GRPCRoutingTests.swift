import Foundation
import SwitchyardModel
import SwitchyardRouting
import Testing

/// GRPCRoute matching: service and method (Exact and RegularExpression) on the path
/// `/<service>/<method>`, headers, ANDed within a match and ORed across matches.
@Suite("GRPCRoute matches")
struct GRPCMatchTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var match: GRPCRouteMatch
        var path: String
        var headers: [(String, String)] = []
        var matches: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Exact service and method: the whole path, case-sensitive.
        Case(name: "exact service+method", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             path: "/helloworld.Greeter/SayHello", matches: true),
        Case(name: "exact: another method", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             path: "/helloworld.Greeter/SayHelloAgain", matches: false),
        Case(name: "exact: case-sensitive", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             path: "/helloworld.greeter/SayHello", matches: false),
        Case(name: "exact: more segments", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             path: "/helloworld.Greeter/SayHello/x", matches: false),
        // Service only: any method of that service.
        Case(name: "service only", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             path: "/helloworld.Greeter/Anything", matches: true),
        Case(name: "service only: a longer service name", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             path: "/helloworld.GreeterV2/SayHello", matches: false),
        Case(name: "service only: no method in the path", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             path: "/helloworld.Greeter/", matches: false),
        Case(name: "service only: the service alone", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             path: "/helloworld.Greeter", matches: false),
        Case(name: "service only: three segments", match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             path: "/helloworld.Greeter/a/b", matches: false),
        // Method only: that method of any service.
        Case(name: "method only", match: .init(method: GRPCFixtures.exact(nil, "Check")),
             path: "/grpc.health.v1.Health/Check", matches: true),
        Case(name: "method only: another service", match: .init(method: GRPCFixtures.exact(nil, "Check")),
             path: "/any.Service/Check", matches: true),
        Case(name: "method only: a longer method", match: .init(method: GRPCFixtures.exact(nil, "Check")),
             path: "/grpc.health.v1.Health/CheckAll", matches: false),
        Case(name: "method only: no service in the path", match: .init(method: GRPCFixtures.exact(nil, "Check")),
             path: "/Check", matches: false),
        Case(name: "method only: empty service", match: .init(method: GRPCFixtures.exact(nil, "Check")),
             path: "//Check", matches: false),
        // RegularExpression: anchored on each part.
        Case(name: "regex service", match: .init(method: GRPCFixtures.regex(#"helloworld\..*"#, nil)),
             path: "/helloworld.Greeter/SayHello", matches: true),
        Case(name: "regex service is anchored at the start", match: .init(method: GRPCFixtures.regex(#"helloworld\..*"#, nil)),
             path: "/x.helloworld.Greeter/SayHello", matches: false),
        Case(name: "regex service is anchored at the end", match: .init(method: GRPCFixtures.regex("helloworld.Greet", nil)),
             path: "/helloworld.Greeter/SayHello", matches: false),
        Case(name: "regex service and method", match: .init(method: GRPCFixtures.regex(#"helloworld\.Greeter"#, "Say.*")),
             path: "/helloworld.Greeter/SayGoodbye", matches: true),
        Case(name: "regex service and method: method fails", match: .init(method: GRPCFixtures.regex(#"helloworld\.Greeter"#, "Say.*")),
             path: "/helloworld.Greeter/Hello", matches: false),
        Case(name: "regex method only", match: .init(method: GRPCFixtures.regex(nil, "(Get|List)[A-Z].*")),
             path: "/shop.v1.Users/GetUser", matches: true),
        Case(name: "regex method only: no match", match: .init(method: GRPCFixtures.regex(nil, "(Get|List)[A-Z].*")),
             path: "/shop.v1.Users/Getuser", matches: false),
        Case(name: "regex never spans the slash", match: .init(method: GRPCFixtures.regex(".*", nil)),
             path: "/a/b/c", matches: false),
        // Headers, alone and with a method.
        Case(name: "headers only match any path", match: .init(headers: [.init(name: "x-canary", value: "true")]),
             path: "/", headers: [("X-Canary", "true")], matches: true),
        Case(name: "header value must match", match: .init(headers: [.init(name: "x-canary", value: "true")]),
             path: "/a.B/C", headers: [("x-canary", "false")], matches: false),
        Case(name: "header regex", match: .init(headers: [.init(type: .regularExpression, name: "x-user", value: "u-[0-9]+")]),
             path: "/a.B/C", headers: [("x-user", "u-42")], matches: true),
        Case(name: "header regex is anchored", match: .init(headers: [.init(type: .regularExpression, name: "x-user", value: "u-[0-9]+")]),
             path: "/a.B/C", headers: [("x-user", "u-42x")], matches: false),
        Case(name: "method and header are ANDed",
             match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil), headers: [.init(name: "x-canary", value: "true")]),
             path: "/helloworld.Greeter/SayHello", headers: [], matches: false),
        Case(name: "method and header both hold",
             match: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil), headers: [.init(name: "x-canary", value: "true")]),
             path: "/helloworld.Greeter/SayHello", headers: [("x-canary", "true")], matches: true),
        Case(name: "content-type is a header like any other",
             match: .init(headers: [.init(type: .regularExpression, name: "content-type", value: "application/grpc(\\+.*)?")]),
             path: "/a.B/C", matches: true),
        // The empty match.
        Case(name: "an empty match takes everything", match: .init(), path: "/not/grpc/at/all", matches: true),
    ]

    @Test(arguments: cases)
    func match(c: Case) {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [
            GRPCRouteRule(matches: [c.match], backendRefs: [GRPCFixtures.to("greeter-v2")]),
        ])])
        let d = GRPCFixtures.call(router, c.path, headers: c.headers)
        if c.matches {
            #expect(d.status == 200)
            #expect(d.backend?.service.name == "greeter-v2")
        } else {
            #expect(d.status == 404)
            #expect(d.reason == "no route matched")
        }
    }

    @Test("matches of one rule are ORed")
    func matchesAreORed() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [
            GRPCRouteRule(matches: [.init(method: GRPCFixtures.exact("a.A", nil)), .init(method: GRPCFixtures.exact(nil, "Check"))],
                          backendRefs: [GRPCFixtures.to("greeter-v2")]),
        ])])
        #expect(GRPCFixtures.call(router, "/a.A/Get").status == 200)
        #expect(GRPCFixtures.call(router, "/b.B/Check").status == 200)
        #expect(GRPCFixtures.call(router, "/b.B/Get").status == 404)
    }

    @Test("a rule without matches takes every request, gRPC or not")
    func ruleWithoutMatches() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1")])])])
        #expect(GRPCFixtures.call(router, "/a.B/C").backend?.service.name == "greeter-v1")
        #expect(Fixtures.decide(router, method: "GET", path: "/healthz", parent: GRPCFixtures.parent).backend?.service.name == "greeter-v1")
    }

    @Test("a GRPCRoute without rules takes the port and matches nothing")
    func routeWithoutRules() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [])])
        let d = GRPCFixtures.call(router, "/a.B/C")
        #expect(d.status == 404)
        #expect(router.table.grpcAttachments[GRPCFixtures.parent] == [ResourceID(namespace: "test", name: "r")])
    }
}

/// GRPCRoute precedence (the GRPCRoute spec): more characters in the service, then in the
/// method, then more header matches; then the older route, then namespace/name, then rule
/// order. Each case has two rules that both match the call; the winner's backend must be
/// chosen whatever order they are written in.
@Suite("GRPCRoute precedence")
struct GRPCPrecedenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var winner: GRPCRouteMatch
        var loser: GRPCRouteMatch
        var path = "/helloworld.Greeter/SayHello"
        var headers: [(String, String)] = [("x-a", "1"), ("x-b", "2")]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "service and method beat the service alone",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             loser: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil))),
        Case(name: "a service beats a method alone",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             loser: .init(method: GRPCFixtures.exact(nil, "SayHello"))),
        Case(name: "more service characters beat more method characters",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             loser: .init(method: GRPCFixtures.regex(".*", "SayHello"))),
        Case(name: "a longer service beats a shorter one (regex)",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             loser: .init(method: GRPCFixtures.regex(#"hello.*\..*"#, nil))),
        Case(name: "a method beats more headers",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello")),
             loser: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil),
                          headers: [.init(name: "x-a", value: "1"), .init(name: "x-b", value: "2")])),
        Case(name: "more headers beat fewer",
             winner: .init(method: GRPCFixtures.exact(nil, "SayHello"),
                           headers: [.init(name: "x-a", value: "1"), .init(name: "x-b", value: "2")]),
             loser: .init(method: GRPCFixtures.exact(nil, "SayHello"), headers: [.init(name: "x-a", value: "1")])),
        Case(name: "Exact beats a RegularExpression of the same length",
             winner: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil)),
             loser: .init(method: GRPCFixtures.regex("helloworld.Greete.", nil))),
        Case(name: "a RegularExpression counts the characters of its pattern",
             winner: .init(method: GRPCFixtures.regex(#"helloworld\.Greeter"#, nil)),
             loser: .init(method: GRPCFixtures.exact("helloworld.Greeter", nil))),
        Case(name: "any condition beats the empty match",
             winner: .init(headers: [.init(name: "x-a", value: "1")]),
             loser: .init()),
    ]

    @Test(arguments: cases, [false, true])
    func winnerTakesTheCall(c: Case, winnerFirst: Bool) {
        let win = GRPCRouteRule(matches: [c.winner], backendRefs: [GRPCFixtures.to("greeter-v2")])
        let lose = GRPCRouteRule(matches: [c.loser], backendRefs: [GRPCFixtures.to("greeter-v1")])
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", winnerFirst ? [win, lose] : [lose, win])])
        let d = GRPCFixtures.call(router, c.path, headers: c.headers)
        #expect(d.backend?.service.name == "greeter-v2")
        #expect(d.route?.rule == (winnerFirst ? 0 : 1))
    }

    @Test("same rank across routes: the older route wins, then namespace/name")
    func routeAgeThenName() {
        let rule = { (to: String) in [GRPCRouteRule(matches: [.init(method: GRPCFixtures.exact("helloworld.Greeter", nil))],
                                                    backendRefs: [GRPCFixtures.to(to)])] }
        let older = GRPCFixtures.route("zzz-older", created: 1_000, rule("greeter-v1"))
        let newer = GRPCFixtures.route("aaa-newer", created: 2_000, rule("greeter-v2"))
        #expect(GRPCFixtures.call(GRPCFixtures.router(grpc: [newer, older]), "/helloworld.Greeter/SayHello").route?.name == "zzz-older")
        let alpha = GRPCFixtures.route("alpha", created: 1_000, rule("greeter-v1"))
        let beta = GRPCFixtures.route("beta", created: 1_000, rule("greeter-v2"))
        #expect(GRPCFixtures.call(GRPCFixtures.router(grpc: [beta, alpha]), "/helloworld.Greeter/SayHello").route?.name == "alpha")
    }

    @Test("specificity across routes comes before route age")
    func specificityBeatsAge() {
        let old = GRPCFixtures.route("old", created: 1, [GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1")])])
        let new = GRPCFixtures.route("new", created: 9, [GRPCRouteRule(matches: [.init(method: GRPCFixtures.exact(nil, "SayHello"))],
                                                                       backendRefs: [GRPCFixtures.to("greeter-v2")])])
        let router = GRPCFixtures.router(grpc: [old, new])
        #expect(GRPCFixtures.call(router, "/helloworld.Greeter/SayHello").route?.name == "new")
        #expect(GRPCFixtures.call(router, "/helloworld.Greeter/SayGoodbye").route?.name == "old")
    }
}

/// What a GRPCRoute decision carries: kind, backends and weights, filters, errors.
@Suite("GRPCRoute decisions")
struct GRPCDecisionTests {
    @Test("the decision names the route as a GRPCRoute")
    func kind() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("greeter-route", [
            GRPCRouteRule(name: "hello", matches: [.init(method: GRPCFixtures.exact("helloworld.Greeter", "SayHello"))],
                          backendRefs: [GRPCFixtures.to("greeter-v2")]),
        ])])
        let d = GRPCFixtures.call(router, "/helloworld.Greeter/SayHello")
        #expect(d.status == 200)
        #expect(d.route == RouteReference(group: "gateway.networking.k8s.io", kind: "GRPCRoute", namespace: "test",
                                          name: "greeter-route", rule: 0, ruleName: "hello"))
        #expect(d.route?.description == "gateway.networking.k8s.io GRPCRoute test/greeter-route rule 0")
        #expect(d.backend == BackendTarget(service: ResourceID(namespace: "test", name: "greeter-v2"), port: 50051))
        #expect(d.endpoints.map(\.description) == ["10.244.5.3:50051"])
        #expect(d.request.method == "POST" && d.request.path == "/helloworld.Greeter/SayHello")
        #expect(d.timeouts == nil)
        // An HTTPRoute decision still says HTTPRoute.
        let http = Router(snapshot: Fixtures.snapshot())
        #expect(Fixtures.decide(http).route?.kind == "HTTPRoute")
    }

    @Test("weights split calls in proportion")
    func weights() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [
            GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1", weight: 90), GRPCFixtures.to("greeter-v2", weight: 10)]),
        ])])
        var counts: [String: Int] = [:]
        var rng = SplitMix64(seed: 7)
        let samples = 20_000
        let request = RouteRequest(method: "POST", path: "/helloworld.Greeter/SayHello",
                                   headers: [HTTPHeader(name: "content-type", value: "application/grpc")])
        for _ in 0..<samples {
            counts[router.decide(request, parent: GRPCFixtures.parent, using: &rng).backend?.service.name ?? "none", default: 0] += 1
        }
        #expect(abs(Double(counts["greeter-v1"] ?? 0) / Double(samples) - 0.9) < 0.02)
        #expect(abs(Double(counts["greeter-v2"] ?? 0) / Double(samples) - 0.1) < 0.02)
        #expect(counts["none"] == nil)
        let d = GRPCFixtures.call(router, "/a.B/C")
        #expect(d.candidates.map(\.weight) == [90, 10])
    }

    @Test("weight 0 is never chosen; all zero is a 500")
    func zeroWeights() {
        let some = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [
            GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1", weight: 0), GRPCFixtures.to("greeter-v2", weight: 1)]),
        ])])
        for seed in UInt64(1)...50 { #expect(GRPCFixtures.call(some, "/a.B/C", seed: seed).backend?.service.name == "greeter-v2") }
        let none = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1", weight: 0)])])])
        let d = GRPCFixtures.call(none, "/a.B/C")
        #expect(d.status == 500)
        #expect(d.reason == "every backendRef has weight 0")
    }

    @Test("rule and backend filters shape the request; response modifiers are carried")
    func filters() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [
            GRPCRouteRule(filters: [
                .requestHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "x-route", value: "grpc")], remove: ["x-drop"])),
                .responseHeaderModifier(HTTPHeaderModifier(add: [HTTPHeader(name: "x-served-by", value: "greeter")])),
                .requestMirror(HTTPRequestMirror(backend: GRPCFixtures.to("greeter-v1"))),
            ], backendRefs: [
                GRPCFixtures.to("greeter-v2", filters: [.requestHeaderModifier(HTTPHeaderModifier(add: [HTTPHeader(name: "x-backend", value: "v2")]))]),
            ]),
        ])])
        let d = GRPCFixtures.call(router, "/a.B/C", headers: [("x-drop", "1"), ("x-route", "old")])
        #expect(d.status == 200)
        #expect(d.request.header("x-route") == "grpc")
        #expect(d.request.header("x-drop") == nil)
        #expect(d.request.header("x-backend") == "v2")
        #expect(d.request.header("content-type") == "application/grpc")
        #expect(d.responseHeaders == HTTPHeaderModifier(add: [HTTPHeader(name: "x-served-by", value: "greeter")]))
        #expect(d.mirrors == [BackendTarget(service: ResourceID(namespace: "test", name: "greeter-v1"), port: 50051)])
    }

    @Test("backends that cannot be used answer 500 with the reason", arguments: [
        (GRPCFixtures.to("missing"), "backendRef Service test/missing not found"),
        (GRPCFixtures.to("greeter-v1", port: 1), "backendRef Service test/greeter-v1 has no port 1"),
        (GRPCFixtures.to("remote", ns: "other"), "backendRef Service other/remote is in another namespace and no ReferenceGrant allows it"),
    ])
    func invalidBackends(ref: HTTPBackendRef, reason: String) {
        let remote = Fixtures.service("remote", ns: "other", ip: "10.96.9.9", ports: [50051])
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [GRPCRouteRule(backendRefs: [ref])])], extraServices: [remote])
        let d = GRPCFixtures.call(router, "/a.B/C")
        #expect(d.status == 500)
        #expect(d.reason == reason)
        #expect(router.unresolvedGRPCBackendRefs().map(\.reason) == [reason])
        #expect(router.unresolvedGRPCBackendRefs().map(\.field) == ["spec.rules[0].backendRefs[0]"])
    }

    @Test("a ReferenceGrant must name GRPCRoute for a GRPCRoute's backend in another namespace")
    func referenceGrantKind() {
        let remote = Fixtures.service("remote", ns: "other", ip: "10.96.9.9", ports: [50051])
        let route = GRPCFixtures.route("r", [GRPCRouteRule(backendRefs: [GRPCFixtures.to("remote", ns: "other")])])
        func grant(_ kind: String) -> ReferenceGrant {
            ReferenceGrant(id: ResourceID(namespace: "other", name: "g"),
                           from: [.init(group: "gateway.networking.k8s.io", kind: kind, namespace: "test")],
                           to: [.init(group: "", kind: "Service")])
        }
        let forHTTP = GRPCFixtures.router(grpc: [route], grants: [grant("HTTPRoute")], extraServices: [remote])
        #expect(GRPCFixtures.call(forHTTP, "/a.B/C").status == 500)
        let forGRPC = GRPCFixtures.router(grpc: [route], grants: [grant("GRPCRoute")], extraServices: [remote])
        #expect(GRPCFixtures.call(forGRPC, "/a.B/C").backend?.service == ResourceID(namespace: "other", name: "remote"))
        #expect(forGRPC.unresolvedGRPCBackendRefs().isEmpty)
    }

    @Test("a rule without backendRefs is a 500, and check is told")
    func noBackends() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", [GRPCRouteRule()])])
        let d = GRPCFixtures.call(router, "/a.B/C")
        #expect(d.status == 500)
        #expect(d.reason == "rule has no backendRefs")
        #expect(router.unresolvedGRPCBackendRefs().map(\.field) == ["spec.rules[0]"])
    }

    @Test("parents that do not attach are noted as GRPCRoute's")
    func notes() {
        let router = GRPCFixtures.router(grpc: [
            GRPCFixtures.route("a", parent: "nowhere", []),
            GRPCFixtures.route("b", port: 1234, []),
            GRPCRoute(id: ResourceID(namespace: "test", name: "c"), parentRefs: [ParentReference(name: "gw")]),
        ])
        #expect(router.table.notes.map(\.description) == [
            "GRPCRoute test/a spec.parentRefs[0]: parent Service test/nowhere not found",
            "GRPCRoute test/b spec.parentRefs[0]: Service test/greeter has no port 1234",
            "GRPCRoute test/c spec.parentRefs[0]: parent kind gateway.networking.k8s.io/Gateway is not a Service; ignored by the mesh",
        ])
    }

    @Test("a GRPCRoute without a parent port applies to every port of the Service")
    func everyPort() {
        let router = GRPCFixtures.router(grpc: [GRPCFixtures.route("r", port: nil, [GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter-v1")])])])
        #expect(GRPCFixtures.call(router, "/a.B/C", parent: GRPCFixtures.httpParent).route?.name == "r")
        #expect(Set(router.table.grpcAttachments.keys) == [GRPCFixtures.parent, GRPCFixtures.httpParent])
    }
}

/// HTTPRoutes and GRPCRoutes on one Service port: the GRPCRoutes take it (Linkerd, GEP-1426).
@Suite("GRPCRoute and HTTPRoute on one parent")
struct GRPCHTTPInteractionTests {
    static func httpRoute(_ name: String, ns: String = "test", port: Int? = 50051, to backend: String = "greeter-v1") -> HTTPRoute {
        HTTPRoute(id: ResourceID(namespace: ns, name: name),
                  parentRefs: [ParentReference(group: "", kind: "Service", name: "greeter", port: port)]
                      .map { var p = $0; if ns != "test" { p.namespace = "test" }; return p },
                  rules: [HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/"))],
                                        backendRefs: [HTTPBackendRef(name: backend, namespace: ns == "test" ? nil : "test", port: 50051)])])
    }

    static let grpcRoute = GRPCFixtures.route("grpc", [
        GRPCRouteRule(matches: [.init(method: GRPCFixtures.exact("helloworld.Greeter", nil))], backendRefs: [GRPCFixtures.to("greeter-v2")]),
    ])

    @Test("the GRPCRoute takes the port; the HTTPRoute is not applied there, with a note")
    func grpcWins() {
        let router = GRPCFixtures.router(grpc: [Self.grpcRoute], http: [Self.httpRoute("http")])
        let call = GRPCFixtures.call(router, "/helloworld.Greeter/SayHello")
        #expect(call.route?.kind == "GRPCRoute")
        #expect(call.backend?.service.name == "greeter-v2")
        // What only the HTTPRoute would have matched now gets no route.
        let plain = Fixtures.decide(router, method: "GET", path: "/index.html", parent: GRPCFixtures.parent)
        #expect(plain.status == 404)
        #expect(router.table.attachments[GRPCFixtures.parent] == nil)
        #expect(router.table.notes.map(\.displacedByGRPCRoutes) == [true])
        #expect(router.table.grpcAttachments[GRPCFixtures.parent] == [ResourceID(namespace: "test", name: "grpc")])
        #expect(router.table.notes.map(\.description) == [
            "HTTPRoute test/http spec.parentRefs[0]: not applied to greeter.test:50051: GRPCRoute test/grpc attached there too, "
                + "and a GRPCRoute takes a Service port from HTTPRoutes (as Linkerd does, GEP-1426)",
        ])
    }

    @Test("the HTTPRoute still serves the ports the GRPCRoute does not attach to")
    func otherPortsStayHTTP() {
        let router = GRPCFixtures.router(grpc: [Self.grpcRoute], http: [Self.httpRoute("http", port: nil)])
        #expect(Fixtures.decide(router, path: "/index.html", parent: GRPCFixtures.httpParent).route?.kind == "HTTPRoute")
        #expect(GRPCFixtures.call(router, "/helloworld.Greeter/SayHello").route?.kind == "GRPCRoute")
        #expect(router.table.attachments[GRPCFixtures.httpParent] == [ResourceID(namespace: "test", name: "http")])
        #expect(router.table.notes.count == 1)
    }

    @Test("a consumer GRPCRoute replaces producer HTTPRoutes for its namespace only")
    func consumerGRPCRoute() {
        let consumer = GRPCFixtures.route("grpc", ns: "client", parentNamespace: "test", [
            GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter", ns: "test")]),
        ])
        let router = GRPCFixtures.router(grpc: [consumer], http: [Self.httpRoute("http")])
        #expect(GRPCFixtures.call(router, "/a.B/C", from: "client").route?.kind == "GRPCRoute")
        #expect(GRPCFixtures.call(router, "/a.B/C", from: "client").backend?.service.name == "greeter")
        #expect(GRPCFixtures.call(router, "/a.B/C", from: "test").route?.kind == "HTTPRoute")
        #expect(GRPCFixtures.call(router, "/a.B/C", from: "elsewhere").route?.kind == "HTTPRoute")
        // Different audiences: no conflict.
        #expect(router.table.notes.isEmpty)
    }

    @Test("a consumer HTTPRoute replaces producer GRPCRoutes for its namespace")
    func consumerHTTPRoute() {
        let router = GRPCFixtures.router(grpc: [Self.grpcRoute], http: [Self.httpRoute("http", ns: "client")])
        #expect(GRPCFixtures.call(router, "/helloworld.Greeter/SayHello", from: "client").route?.kind == "HTTPRoute")
        #expect(GRPCFixtures.call(router, "/helloworld.Greeter/SayHello").route?.kind == "GRPCRoute")
        #expect(router.table.notes.isEmpty)
    }

    @Test("consumer routes of both kinds in one namespace: the GRPCRoute wins there")
    func consumerConflict() {
        let consumer = GRPCFixtures.route("grpc", ns: "client", parentNamespace: "test", [
            GRPCRouteRule(backendRefs: [GRPCFixtures.to("greeter", ns: "test")]),
        ])
        let router = GRPCFixtures.router(grpc: [consumer], http: [Self.httpRoute("http", ns: "client")])
        #expect(GRPCFixtures.call(router, "/a.B/C", from: "client").route?.kind == "GRPCRoute")
        #expect(router.table.notes.map(\.description) == [
            "HTTPRoute client/http spec.parentRefs[0]: not applied to greeter.test:50051 for clients in client: GRPCRoute client/grpc "
                + "attached there too, and a GRPCRoute takes a Service port from HTTPRoutes (as Linkerd does, GEP-1426)",
        ])
    }
}
