import SwitchyardModel

/// One rule of one route, with everything a request needs resolved ahead of time: its
/// reference for the decision, its backendRefs resolved to Service ports and their endpoints.
final class CompiledRule: Sendable {
    let route: HTTPRoute
    let rule: HTTPRouteRule
    let reference: RouteReference
    let candidates: [BackendCandidate]
    /// Per candidate: its Service port, nil when invalid.
    let targets: [BackendTarget?]
    /// Per candidate: the endpoints of its Service port.
    let endpoints: [[Endpoint]]
    let totalWeight: Int
    /// Some backendRef carries filters of its own.
    let hasBackendFilters: Bool

    /// `kind` is `HTTPRoute`, or `GRPCRoute` for a GRPCRoute in its HTTPRoute form
    /// (`GRPCRoute.httpRouteForm`: same parents, backends and filters, no matches).
    init(route: HTTPRoute, ruleIndex: Int, resolver: BackendResolver, kind: String = "HTTPRoute") {
        self.route = route
        rule = route.rules[ruleIndex]
        let group = route.api.rawValue.split(separator: "/").first.map(String.init) ?? route.api.rawValue
        reference = RouteReference(group: group, kind: kind, namespace: route.id.namespace, name: route.id.name,
                                   rule: ruleIndex, ruleName: rule.name)
        candidates = rule.backendRefs.map { resolver.candidate($0, route: route, kind: kind) }
        targets = candidates.map(BackendResolver.target)
        endpoints = targets.map { t in t.map { resolver.snapshot.endpoints(of: $0.service, port: $0.port) } ?? [] }
        totalWeight = candidates.reduce(0) { $0 + $1.weight }
        hasBackendFilters = rule.backendRefs.contains { !$0.filters.isEmpty }
    }

    /// The candidate index for a draw in `0..<totalWeight`.
    func candidate(at draw: Int) -> Int {
        var rest = draw
        for (i, c) in candidates.enumerated() {
            if rest < c.weight { return i }
            rest -= c.weight
        }
        return candidates.count - 1
    }
}
