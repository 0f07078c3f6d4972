import SwitchyardModel

extension Router {
    /// Every backendRef of a GRPCRoute (rules and RequestMirror filters) that cannot receive
    /// traffic, with why, as `unresolvedBackendRefs` does for HTTPRoutes.
    public func unresolvedGRPCBackendRefs() -> [(route: ResourceID, field: String, reason: String)] {
        var problems: [(route: ResourceID, field: String, reason: String)] = []
        for grpcRoute in snapshot.grpcRoutes {
            let route = grpcRoute.httpRouteForm
            for (r, rule) in route.rules.enumerated() {
                for (b, ref) in rule.backendRefs.enumerated() {
                    if let reason = resolver.candidate(ref, route: route, kind: "GRPCRoute").invalidReason {
                        problems.append((route.id, "spec.rules[\(r)].backendRefs[\(b)]", reason))
                    }
                }
                for (f, filter) in rule.filters.enumerated() {
                    if case .requestMirror(let mirror) = filter,
                       let reason = resolver.candidate(mirror.backend, route: route, kind: "GRPCRoute").invalidReason {
                        problems.append((route.id, "spec.rules[\(r)].filters[\(f)].requestMirror.backendRef", reason + " (not mirrored)"))
                    }
                }
                if rule.backendRefs.isEmpty {
                    problems.append((route.id, "spec.rules[\(r)]", "rule has no backendRefs: its requests get 500"))
                }
            }
        }
        return problems
    }
}
