import SwitchyardModel
import SwitchyardRouting
import Testing

/// Gateway API precedence: each case has two competing rules that both match the request;
/// the winner's backend must be chosen whatever order the rules are written in.
@Suite("Gateway API precedence")
struct PrecedenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var winner: HTTPRouteMatch
        var loser: HTTPRouteMatch
        var method = "GET"
        var path = "/api/v1/users?page=2&sort=asc"
        var headers: [(String, String)] = [("x-a", "1"), ("x-b", "2")]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Exact path beats a longer prefix",
             winner: HTTPRouteMatch(path: .init(type: .exact, value: "/api/v1/users")),
             loser: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api/v1/users"))),
        Case(name: "Exact path beats a prefix with more headers",
             winner: HTTPRouteMatch(path: .init(type: .exact, value: "/api/v1/users")),
             loser: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api"), headers: [.init(name: "x-a", value: "1"), .init(name: "x-b", value: "2")])),
        Case(name: "Longer prefix beats shorter",
             winner: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api/v1")),
             loser: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api"))),
        Case(name: "Longer prefix beats a method match",
             winner: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api/v1")),
             loser: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api"), method: "GET")),
        Case(name: "Regex path sits between Exact and PathPrefix",
             winner: HTTPRouteMatch(path: .init(type: .regularExpression, value: "/api/.*")),
             loser: HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/api/v1/users"))),
        Case(name: "Exact beats regex",
             winner: HTTPRouteMatch(path: .init(type: .exact, value: "/api/v1/users")),
             loser: HTTPRouteMatch(path: .init(type: .regularExpression, value: "/api/v1/users"))),
        Case(name: "Method match beats more headers",
             winner: HTTPRouteMatch(method: "GET"),
             loser: HTTPRouteMatch(headers: [.init(name: "x-a", value: "1"), .init(name: "x-b", value: "2")])),
        Case(name: "More headers beat fewer",
             winner: HTTPRouteMatch(headers: [.init(name: "x-a", value: "1"), .init(name: "x-b", value: "2")]),
             loser: HTTPRouteMatch(headers: [.init(name: "x-a", value: "1")])),
        Case(name: "Headers beat query parameters",
             winner: HTTPRouteMatch(headers: [.init(name: "x-a", value: "1")]),
             loser: HTTPRouteMatch(queryParams: [.init(name: "page", value: "2"), .init(name: "sort", value: "asc")])),
        Case(name: "More query parameters beat fewer",
             winner: HTTPRouteMatch(queryParams: [.init(name: "page", value: "2"), .init(name: "sort", value: "asc")]),
             loser: HTTPRouteMatch(queryParams: [.init(name: "page", value: "2")])),
        Case(name: "Any condition beats the default match",
             winner: HTTPRouteMatch(queryParams: [.init(name: "page", value: "2")]),
             loser: HTTPRouteMatch()),
    ]

    @Test(arguments: cases, [false, true])
    func winnerTakesTheRequest(c: Case, winnerFirst: Bool) {
        let winRule = HTTPRouteRule(matches: [c.winner], backendRefs: [Fixtures.to("backend-b-podinfo")])
        let loseRule = HTTPRouteRule(matches: [c.loser], backendRefs: [Fixtures.to("frontend-podinfo")])
        let rules = winnerFirst ? [winRule, loseRule] : [loseRule, winRule]
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", rules)]))
        let d = Fixtures.decide(router, method: c.method, path: c.path, headers: c.headers)
        #expect(d.backend?.service.name == "backend-b-podinfo")
        #expect(d.route?.rule == (winnerFirst ? 0 : 1))
    }

    @Test("Same rank across routes: the older route wins, whatever its name")
    func olderRouteWins() {
        let rule = { (to: String) in [HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/"))], backendRefs: [Fixtures.to(to)])] }
        let older = Fixtures.route("zzz-older", created: 1_000, rule("backend-b-podinfo"))
        let newer = Fixtures.route("aaa-newer", created: 2_000, rule("frontend-podinfo"))
        let router = Router(snapshot: Fixtures.snapshot(routes: [newer, older]))
        #expect(Fixtures.decide(router).route?.name == "zzz-older")
        #expect(Fixtures.decide(router).backend?.service.name == "backend-b-podinfo")
    }

    @Test("Same age: alphabetical namespace/name wins")
    func alphabeticalRouteWins() {
        let rule = { (to: String) in [HTTPRouteRule(backendRefs: [Fixtures.to(to)])] }
        let routes = [Fixtures.route("beta", created: 1_000, rule("frontend-podinfo")),
                      Fixtures.route("alpha", created: 1_000, rule("backend-b-podinfo"))]
        let router = Router(snapshot: Fixtures.snapshot(routes: routes))
        #expect(Fixtures.decide(router).route?.name == "alpha")
    }

    @Test("A route with a timestamp is older than one without")
    func timestampBeatsNone() {
        let rule = { (to: String) in [HTTPRouteRule(backendRefs: [Fixtures.to(to)])] }
        let routes = [Fixtures.route("aaa", created: nil, rule("frontend-podinfo")),
                      Fixtures.route("zzz", created: 5_000, rule("backend-b-podinfo"))]
        #expect(Fixtures.decide(Router(snapshot: Fixtures.snapshot(routes: routes))).route?.name == "zzz")
    }

    @Test("Same rank within a route: the first rule wins")
    func firstRuleWins() {
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(matches: [HTTPRouteMatch(headers: [.init(name: "x-a", value: "1")])], backendRefs: [Fixtures.to("backend-b-podinfo")]),
            HTTPRouteRule(matches: [HTTPRouteMatch(headers: [.init(name: "x-b", value: "2")])], backendRefs: [Fixtures.to("frontend-podinfo")]),
        ])]))
        let d = Fixtures.decide(router, headers: [("x-b", "2"), ("x-a", "1")])
        #expect(d.route?.rule == 0)
        #expect(d.backend?.service.name == "backend-b-podinfo")
    }

    @Test("Precedence applies across rules of different routes before route age")
    func specificityBeatsAge() {
        let old = Fixtures.route("old", created: 1, [HTTPRouteRule(backendRefs: [Fixtures.to("frontend-podinfo")])])
        let new = Fixtures.route("new", created: 9, [HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .exact, value: "/x"))],
                                                                    backendRefs: [Fixtures.to("backend-b-podinfo")])])
        let router = Router(snapshot: Fixtures.snapshot(routes: [old, new]))
        #expect(Fixtures.decide(router, path: "/x").route?.name == "new")
        #expect(Fixtures.decide(router, path: "/y").route?.name == "old")
    }
}
