import SwitchyardModel

/// Answers a request head with a `RouteDecision`, from one snapshot's compiled table.
///
/// Immutable and `Sendable`: build one per snapshot and share it between event loops.
public struct Router: Sendable {
    public let snapshot: MeshSnapshot
    public let table: RouteTable
    /// The cluster DNS domain used for default hosts (`name.ns.svc.<clusterDomain>`).
    public let clusterDomain: String

    let resolver: BackendResolver

    public init(snapshot: MeshSnapshot, clusterDomain: String = "cluster.local") {
        self.snapshot = snapshot
        self.table = RouteTable(snapshot: snapshot)
        self.resolver = BackendResolver(snapshot: snapshot)
        self.clusterDomain = clusterDomain
    }

    /// Decides with the system random number generator (for the weighted pick).
    public func decide(_ request: RouteRequest, parent: ParentKey, clientNamespace: String? = nil) -> RouteDecision {
        var rng = SystemRandomNumberGenerator()
        return decide(request, parent: parent, clientNamespace: clientNamespace, using: &rng)
    }

    /// Routes `request`, addressed to `parent`, from a client in `clientNamespace` (default:
    /// the parent's namespace). Randomness for the weighted pick comes from `rng`.
    public func decide<G: RandomNumberGenerator>(_ request: RouteRequest, parent: ParentKey,
                                                 clientNamespace: String? = nil, using rng: inout G) -> RouteDecision {
        guard let entry = table.parents[parent] else {
            let reason = snapshot.services[parent.service] == nil
                ? "Service \(parent.service) not found" : "Service \(parent.service) has no TCP port \(parent.port)"
            return RouteDecision(status: 500, parent: parent, request: request, reason: reason)
        }
        guard let set = table.routeSet(in: entry, parent: parent, clientNamespace: clientNamespace ?? parent.service.namespace) else {
            return RouteDecision(status: 200, parent: parent, backend: entry.direct, unroutedCandidates: entry.directCandidates,
                                 endpoints: entry.directEndpoints, request: request)
        }
        guard let matchIndex = set.firstMatch(request) else {
            return RouteDecision(status: 404, parent: parent, request: request, reason: "no route matched")
        }
        let compiled = set.rules[set.matches[matchIndex].rule]
        if compiled.rule.filters.isEmpty && !compiled.hasBackendFilters {
            // The common case, built in one expression: no filter can change the request.
            switch pick(compiled, using: &rng) {
            case .success(let chosen):
                return RouteDecision(status: 200, parent: parent, matched: compiled, backend: compiled.targets[chosen],
                                     endpoints: compiled.endpoints[chosen], request: request)
            case .failure(let failure):
                return RouteDecision(status: 500, parent: parent, matched: compiled, request: request, reason: failure.reason)
            }
        }
        return decideWithFilters(request, parent: parent, compiled: compiled, match: set.matches[matchIndex], using: &rng)
    }

    /// Why a rule cannot send the request anywhere (a 500).
    struct NoBackend: Error {
        var reason: String
    }

    /// The weighted pick: the index of a valid candidate, or why there is none.
    private func pick<G: RandomNumberGenerator>(_ compiled: CompiledRule, using rng: inout G) -> Result<Int, NoBackend> {
        guard !compiled.candidates.isEmpty else { return .failure(NoBackend(reason: "rule has no backendRefs")) }
        guard compiled.totalWeight > 0 else { return .failure(NoBackend(reason: "every backendRef has weight 0")) }
        let chosen = compiled.candidates.count == 1 ? 0 : compiled.candidate(at: Int.random(in: 0..<compiled.totalWeight, using: &rng))
        if let invalid = compiled.candidates[chosen].invalidReason { return .failure(NoBackend(reason: invalid)) }
        return .success(chosen)
    }

    /// A matched rule with filters: they shape the request, may answer (a redirect), and
    /// the chosen backendRef may carry filters of its own.
    private func decideWithFilters<G: RandomNumberGenerator>(_ request: RouteRequest, parent: ParentKey, compiled: CompiledRule,
                                                             match: CompiledMatch, using rng: inout G) -> RouteDecision {
        let matchedPrefix = match.matchedPrefix
        var decision = RouteDecision(status: 200, parent: parent, matched: compiled, request: request)
        if applyFilters(compiled.rule.filters, to: &decision, parent: parent, route: compiled.route, kind: compiled.reference.kind,
                        matchedPrefix: matchedPrefix, using: &rng) {
            return decision
        }
        let chosen: Int
        switch pick(compiled, using: &rng) {
        case .success(let c): chosen = c
        case .failure(let failure):
            decision.status = 500
            decision.reason = failure.reason
            return decision
        }
        decision.backend = compiled.targets[chosen]
        if applyFilters(compiled.rule.backendRefs[chosen].filters, to: &decision, parent: parent, route: compiled.route,
                        kind: compiled.reference.kind, matchedPrefix: matchedPrefix, using: &rng) {
            decision.backend = nil
            return decision
        }
        decision.endpoints = compiled.endpoints[chosen]
        return decision
    }

    /// Applies filters in order; returns true when one of them answered (a redirect).
    /// `rng` decides whether a RequestMirror with a percentage mirrors this request.
    private func applyFilters<G: RandomNumberGenerator>(_ filters: [HTTPRouteFilter], to decision: inout RouteDecision,
                                                        parent: ParentKey, route: HTTPRoute, kind: String, matchedPrefix: String?,
                                                        using rng: inout G) -> Bool {
        for filter in filters {
            switch filter {
            case .requestHeaderModifier(let m):
                RequestFilters.apply(m, to: &decision.request)
            case .responseHeaderModifier(let m):
                decision.responseHeaders = RequestFilters.merge(m, into: decision.responseHeaders)
            case .urlRewrite(let rewrite):
                if let host = rewrite.hostname { decision.request.setHeader("host", host) }
                if let path = rewrite.path {
                    let newPath = RequestFilters.rewrite(path: decision.request.pathOnly, with: path, matchedPrefix: matchedPrefix)
                    RequestFilters.setPath(newPath, of: &decision.request)
                }
            case .requestRedirect(let redirect):
                decision.status = redirect.statusCode
                decision.redirect = RequestFilters.location(redirect, request: decision.request,
                                                            defaultHost: defaultHost(parent), listenerPort: parent.port,
                                                            matchedPrefix: matchedPrefix)
                return true
            case .requestMirror(let mirror):
                // `percent` (a `fraction` is read as a percentage): mirror only that share of requests.
                if let percent = mirror.percent, percent < 100, !(Double.random(in: 0..<100, using: &rng) < percent) { continue }
                if let target = BackendResolver.target(resolver.candidate(mirror.backend, route: route, kind: kind)) {
                    decision.mirrors.append(target)
                }
            }
        }
        return false
    }

    /// `name.ns.svc.<clusterDomain>:port`, the host a request to `parent` carries by default.
    public func defaultHost(_ parent: ParentKey) -> String {
        "\(parent.service.name).\(parent.service.namespace).svc.\(clusterDomain):\(parent.port)"
    }

    /// Every backendRef (rules and RequestMirror filters) that cannot receive traffic, with why:
    /// requests routed to one get a 500. `switchyard check` reports these.
    public func unresolvedBackendRefs() -> [(route: ResourceID, field: String, reason: String)] {
        var problems: [(route: ResourceID, field: String, reason: String)] = []
        for route in snapshot.httpRoutes {
            for (r, rule) in route.rules.enumerated() {
                for (b, ref) in rule.backendRefs.enumerated() {
                    if let reason = resolver.candidate(ref, route: route).invalidReason {
                        problems.append((route.id, "spec.rules[\(r)].backendRefs[\(b)]", reason))
                    }
                }
                for (f, filter) in rule.filters.enumerated() {
                    if case .requestMirror(let mirror) = filter, let reason = resolver.candidate(mirror.backend, route: route).invalidReason {
                        problems.append((route.id, "spec.rules[\(r)].filters[\(f)].requestMirror.backendRef", reason + " (not mirrored)"))
                    }
                }
                if rule.backendRefs.isEmpty && !rule.filters.contains(where: { if case .requestRedirect = $0 { return true }; return false }) {
                    problems.append((route.id, "spec.rules[\(r)]", "rule has no backendRefs: its requests get 500"))
                }
            }
        }
        return problems
    }
}
