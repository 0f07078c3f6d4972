import SwitchyardModel

/// What the router decided for one request.
public struct RouteDecision: Sendable {
    /// 200 forward; 404 no rule matched; 500 invalid or missing backend; 3xx redirect.
    public var status: Int
    /// The Service port the request was addressed to; nil when addressed to a pod or unknown IP.
    public var parent: ParentKey?
    /// The route and rule that matched; nil when no route is attached or none matched.
    public var route: RouteReference?
    /// The chosen backend; nil for 404, redirects and errors.
    public var backend: BackendTarget?
    /// The matched rule's backendRefs with their weights (or the parent itself with no route).
    public var candidates: [BackendCandidate]
    /// Endpoints of the chosen backend.
    public var endpoints: [Endpoint]
    /// The request as it would be sent upstream, after filters.
    public var request: RouteRequest
    /// Header changes for the response (rule, then backend ResponseHeaderModifiers).
    public var responseHeaders: HTTPHeaderModifier?
    /// Location of a redirect.
    public var redirect: String?
    /// The matched rule's timeouts.
    public var timeouts: HTTPRouteTimeouts?
    /// Backends that receive a copy of the request (RequestMirror), answers dropped.
    public var mirrors: [BackendTarget]
    /// Why the router answered by itself (404, 500), for `l5d-proxy-error` and logs.
    public var reason: String?

    public init(status: Int, parent: ParentKey?, route: RouteReference? = nil, backend: BackendTarget? = nil,
                candidates: [BackendCandidate] = [], endpoints: [Endpoint] = [], request: RouteRequest,
                responseHeaders: HTTPHeaderModifier? = nil, redirect: String? = nil,
                timeouts: HTTPRouteTimeouts? = nil, mirrors: [BackendTarget] = [], reason: String? = nil) {
        self.status = status
        self.parent = parent
        self.route = route
        self.backend = backend
        self.candidates = candidates
        self.endpoints = endpoints
        self.request = request
        self.responseHeaders = responseHeaders
        self.redirect = redirect
        self.timeouts = timeouts
        self.mirrors = mirrors
        self.reason = reason
    }
}

/// Which route and rule matched.
public struct RouteReference: Hashable, Sendable, CustomStringConvertible {
    /// API group, e.g. `policy.linkerd.io`.
    public var group: String
    public var namespace: String
    public var name: String
    /// Index of the rule in `spec.rules`.
    public var rule: Int
    public var ruleName: String?

    public init(group: String, namespace: String, name: String, rule: Int, ruleName: String? = nil) {
        self.group = group
        self.namespace = namespace
        self.name = name
        self.rule = rule
        self.ruleName = ruleName
    }

    public var description: String { "\(group) HTTPRoute \(namespace)/\(name) rule \(rule)" }
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
