import SwitchyardModel

/// What the router decided for one request.
///
/// Cheap to make: what comes from the matched rule (route, candidates, timeouts) is read
/// through one reference to the compiled rule rather than copied per request.
public struct RouteDecision: Sendable {
    /// 200 forward; 404 no rule matched; 500 invalid or missing backend; 3xx redirect.
    public var status: Int
    /// The Service port the request was addressed to; nil when addressed to a pod or unknown IP.
    public var parent: ParentKey?
    /// The chosen backend; nil for 404, redirects and errors.
    public var backend: BackendTarget?
    /// Endpoints of the chosen backend.
    public var endpoints: [Endpoint]
    /// The request as it would be sent upstream, after filters.
    public var request: RouteRequest
    /// Header changes for the response (rule, then backend ResponseHeaderModifiers).
    public var responseHeaders: HTTPHeaderModifier?
    /// Location of a redirect.
    public var redirect: String?
    /// Backends that receive a copy of the request (RequestMirror), answers dropped.
    public var mirrors: [BackendTarget]
    /// Why the router answered by itself (404, 500), for `l5d-proxy-error` and logs.
    public var reason: String?

    /// The matched rule, compiled; nil when no route is attached or none matched.
    let matched: CompiledRule?
    /// The candidates when no rule matched (the parent itself, when no route is attached).
    let unroutedCandidates: [BackendCandidate]

    /// The route and rule that matched; nil when no route is attached or none matched.
    public var route: RouteReference? { matched?.reference }
    /// The matched rule's backendRefs with their weights (or the parent itself with no route).
    public var candidates: [BackendCandidate] { matched?.candidates ?? unroutedCandidates }
    /// The matched rule's timeouts.
    public var timeouts: HTTPRouteTimeouts? { matched?.rule.timeouts }

    init(status: Int, parent: ParentKey?, matched: CompiledRule? = nil, backend: BackendTarget? = nil,
         unroutedCandidates: [BackendCandidate] = [], endpoints: [Endpoint] = [], request: RouteRequest, reason: String? = nil) {
        self.status = status
        self.parent = parent
        self.matched = matched
        self.backend = backend
        self.unroutedCandidates = unroutedCandidates
        self.endpoints = endpoints
        self.request = request
        self.responseHeaders = nil
        self.redirect = nil
        self.mirrors = []
        self.reason = reason
    }
}

/// Which route and rule matched.
public struct RouteReference: Hashable, Sendable, CustomStringConvertible {
    /// API group, e.g. `policy.linkerd.io`.
    public var group: String
    /// `HTTPRoute` or `GRPCRoute`.
    public var kind: String
    public var namespace: String
    public var name: String
    /// Index of the rule in `spec.rules`.
    public var rule: Int
    public var ruleName: String?

    public init(group: String, kind: String = "HTTPRoute", namespace: String, name: String, rule: Int, ruleName: String? = nil) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.rule = rule
        self.ruleName = ruleName
    }

    public var description: String { "\(group) \(kind) \(namespace)/\(name) rule \(rule)" }
}

/// A Service port traffic is sent to.
public struct BackendTarget: Hashable, Sendable, CustomStringConvertible {
    public var service: ResourceID
    public var port: Int

    public init(service: ResourceID, port: Int) {
        self.service = service
        self.port = port
    }

    public var description: String { "\(service.name).\(service.namespace):\(port)" }
}

/// One backendRef of the matched rule, with its weight and whether it resolves.
public struct BackendCandidate: Hashable, Sendable {
    public var namespace: String
    public var name: String
    public var port: Int?
    public var weight: Int
    /// Why this backendRef cannot receive traffic (not found, wrong kind, not allowed); nil when valid.
    public var invalidReason: String?

    public init(namespace: String, name: String, port: Int?, weight: Int, invalidReason: String? = nil) {
        self.namespace = namespace
        self.name = name
        self.port = port
        self.weight = weight
        self.invalidReason = invalidReason
    }
}
