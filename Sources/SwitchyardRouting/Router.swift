import SwitchyardModel

/// Answers a request head with a `RouteDecision`, from one snapshot's compiled table.
///
/// Immutable and `Sendable`: build one per snapshot and share it between event loops.
public struct Router: Sendable {
    public let snapshot: MeshSnapshot
    public let table: RouteTable
    /// The cluster DNS domain used for default hosts (`name.ns.svc.<clusterDomain>`).
    public let clusterDomain: String

    public init(snapshot: MeshSnapshot, clusterDomain: String = "cluster.local") {
        self.snapshot = snapshot
        self.table = RouteTable(snapshot: snapshot)
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
        guard let service = snapshot.services[parent.service], service.port(parent.port) != nil else {
            return RouteDecision(status: 500, parent: parent, request: request,
                                 reason: snapshot.services[parent.service] == nil
                                    ? "Service \(parent.service) not found" : "Service \(parent.service) has no port \(parent.port)")
        }
        guard let set = table.routeSet(for: parent, clientNamespace: clientNamespace ?? parent.service.namespace) else {
            let target = BackendTarget(service: parent.service, port: parent.port)
            return RouteDecision(status: 200, parent: parent, backend: target,
                                 candidates: [BackendCandidate(namespace: parent.service.namespace, name: parent.service.name,
                                                               port: parent.port, weight: 1)],
                                 endpoints: snapshot.endpoints(of: parent.service, port: parent.port), request: request)
        }
        guard let match = set.firstMatch(request) else {
            return RouteDecision(status: 404, parent: parent, request: request, reason: "no route matched")
        }
        let route = set.routes[match.route]
        let rule = route.rules[match.rule]
        let reference = RouteReference(group: String(route.api.rawValue.split(separator: "/")[0]),
                                       namespace: route.id.namespace, name: route.id.name,
                                       rule: match.rule, ruleName: rule.name)
        var matchedPrefix: String?
        if case .prefix(let p) = match.path { matchedPrefix = p }
        var decision = RouteDecision(status: 200, parent: parent, route: reference, request: request, timeouts: rule.timeouts)
        decision.candidates = rule.backendRefs.map { resolveCandidate($0, route: route) }

        if applyFilters(rule.filters, to: &decision, parent: parent, route: route, matchedPrefix: matchedPrefix,
                        using: &rng) {
            return decision
        }
        guard !rule.backendRefs.isEmpty else {
            decision.status = 500
            decision.reason = "rule has no backendRefs"
            return decision
        }
        let total = decision.candidates.reduce(0) { $0 + $1.weight }
        guard total > 0 else {
            decision.status = 500
            decision.reason = "every backendRef has weight 0"
            return decision
        }
        var pick = Int.random(in: 0..<total, using: &rng)
        var chosen = 0
        for (i, c) in decision.candidates.enumerated() {
            if pick < c.weight { chosen = i; break }
            pick -= c.weight
        }
        let candidate = decision.candidates[chosen]
        if let invalid = candidate.invalidReason {
            decision.status = 500
            decision.reason = invalid
            return decision
        }
        let target = BackendTarget(service: ResourceID(namespace: candidate.namespace, name: candidate.name), port: candidate.port!)
        decision.backend = target
        if applyFilters(rule.backendRefs[chosen].filters, to: &decision, parent: parent,
                        route: route, matchedPrefix: matchedPrefix, using: &rng) {
            decision.backend = nil
            return decision
        }
        decision.endpoints = snapshot.endpoints(of: target.service, port: target.port)
        return decision
    }

    /// Applies filters in order; returns true when one of them answered (a redirect).
    /// `rng` decides whether a RequestMirror with a percentage mirrors this request.
    private func applyFilters<G: RandomNumberGenerator>(_ filters: [HTTPRouteFilter], to decision: inout RouteDecision,
                                                        parent: ParentKey, route: HTTPRoute, matchedPrefix: String?,
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
                let c = resolveCandidate(mirror.backend, route: route)
                if c.invalidReason == nil, let port = c.port {
                    decision.mirrors.append(BackendTarget(service: ResourceID(namespace: c.namespace, name: c.name), port: port))
                }
            }
        }
        return false
    }

    /// Whether `service` is one of the route's Service parents.
    private static func isParent(_ service: ResourceID, of route: HTTPRoute) -> Bool {
        route.parentRefs.contains { $0.isService && $0.name == service.name && ($0.namespace ?? route.id.namespace) == service.namespace }
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
                    if let reason = resolveCandidate(ref, route: route).invalidReason {
                        problems.append((route.id, "spec.rules[\(r)].backendRefs[\(b)]", reason))
                    }
                }
                if rule.backendRefs.isEmpty && !rule.filters.contains(where: { if case .requestRedirect = $0 { return true }; return false }) {
                    problems.append((route.id, "spec.rules[\(r)]", "rule has no backendRefs: its requests get 500"))
                }
            }
        }
        return problems
    }

    /// A backendRef resolved against the snapshot, with the reason it cannot be used if so.
    ///
    /// A backend in another namespace needs a ReferenceGrant, except the route's own parent
    /// Service: a consumer route (GAMMA) sending its namespace's traffic on to the Service it
    /// is attached to exposes nothing its clients could not already reach.
    private func resolveCandidate(_ ref: HTTPBackendRef, route: HTTPRoute) -> BackendCandidate {
        let routeNamespace = route.id.namespace
        let namespace = ref.namespace ?? routeNamespace
        var c = BackendCandidate(namespace: namespace, name: ref.name, port: ref.port, weight: ref.weight)
        let id = ResourceID(namespace: namespace, name: ref.name)
        if !ref.isService {
            c.invalidReason = "backendRef \(ref.group.isEmpty ? "" : ref.group + "/")\(ref.kind) \(id) is not a Service"
        } else if !snapshot.routeMayReference(from: routeNamespace, service: id) && !Self.isParent(id, of: route) {
            c.invalidReason = "backendRef Service \(id) is in another namespace and no ReferenceGrant allows it"
        } else if let service = snapshot.services[id] {
            if let port = ref.port {
                if service.port(port) == nil { c.invalidReason = "backendRef Service \(id) has no port \(port)" }
            } else {
                c.invalidReason = "backendRef Service \(id) has no port"
            }
        } else {
            c.invalidReason = "backendRef Service \(id) not found"
        }
        return c
    }
}
