import Foundation

/// An `HTTPRoute`, in any of the API versions Switchyard reads.
public struct HTTPRoute: Hashable, Sendable {
    public var id: ResourceID
    public var api: RouteAPIVersion
    /// `metadata.creationTimestamp`; older routes win precedence ties. Nil sorts as newest.
    public var creationTimestamp: Date?
    public var parentRefs: [ParentReference]
    /// `spec.hostnames`. Ignored for Service parents, as GAMMA says.
    public var hostnames: [String]
    public var rules: [HTTPRouteRule]
    public var source: ManifestSource?

    public init(id: ResourceID, api: RouteAPIVersion = .gatewayV1, creationTimestamp: Date? = nil,
                parentRefs: [ParentReference] = [], hostnames: [String] = [], rules: [HTTPRouteRule] = [],
                source: ManifestSource? = nil) {
        self.id = id
        self.api = api
        self.creationTimestamp = creationTimestamp
        self.parentRefs = parentRefs
        self.hostnames = hostnames
        self.rules = rules
        self.source = source
    }
}

/// The `apiVersion`s of HTTPRoute that Switchyard reads.
public enum RouteAPIVersion: String, Hashable, Sendable, CaseIterable {
    case linkerdV1beta2 = "policy.linkerd.io/v1beta2"
    case linkerdV1beta3 = "policy.linkerd.io/v1beta3"
    case gatewayV1 = "gateway.networking.k8s.io/v1"
    case gatewayV1beta1 = "gateway.networking.k8s.io/v1beta1"

    /// Whether `spec.rules[].timeouts` exists in this version.
    public var hasTimeouts: Bool { self != .linkerdV1beta2 }
}

/// `spec.parentRefs[]`. Switchyard attaches routes to Services (`group: core` or `""`, `kind: Service`).
public struct ParentReference: Hashable, Sendable {
    public var group: String
    public var kind: String
    /// Defaults to the route's namespace.
    public var namespace: String?
    public var name: String
    /// The Service port; nil attaches to every port of the Service.
    public var port: Int?
    public var sectionName: String?

    public init(group: String = "gateway.networking.k8s.io", kind: String = "Gateway", namespace: String? = nil,
                name: String, port: Int? = nil, sectionName: String? = nil) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.port = port
        self.sectionName = sectionName
    }

    /// `group` is `core` or empty and `kind` is `Service`.
    public var isService: Bool { (group.isEmpty || group == "core") && kind == "Service" }
}

/// One `spec.rules[]` entry.
public struct HTTPRouteRule: Hashable, Sendable {
    public var name: String?
    /// OR across matches; an empty list matches every request (path prefix `/`).
    public var matches: [HTTPRouteMatch]
    public var filters: [HTTPRouteFilter]
    public var backendRefs: [HTTPBackendRef]
    public var timeouts: HTTPRouteTimeouts?

    public init(name: String? = nil, matches: [HTTPRouteMatch] = [], filters: [HTTPRouteFilter] = [],
                backendRefs: [HTTPBackendRef] = [], timeouts: HTTPRouteTimeouts? = nil) {
        self.name = name
        self.matches = matches
        self.filters = filters
        self.backendRefs = backendRefs
        self.timeouts = timeouts
    }
}

/// `rules[].timeouts` (policy.linkerd.io/v1beta3 and gateway.networking.k8s.io/v1).
///
/// For each timeout, nil means unset (the proxy's default applies) and `Duration.zero` means
/// explicitly no timeout (`0s`, which the Gateway API defines as disabling it).
public struct HTTPRouteTimeouts: Hashable, Sendable {
    /// Whole request, from the first byte received to the last byte of the response.
    /// Nil: unset, the proxy's default; zero: explicitly no timeout.
    public var request: Duration?
    /// Each attempt to the backend. Nil: unset, the proxy's default; zero: explicitly no timeout.
    public var backendRequest: Duration?

    public init(request: Duration? = nil, backendRequest: Duration? = nil) {
        self.request = request
        self.backendRequest = backendRequest
    }
}

/// `rules[].backendRefs[]`.
public struct HTTPBackendRef: Hashable, Sendable {
    public var group: String
    public var kind: String
    public var name: String
    /// Defaults to the route's namespace.
    public var namespace: String?
    /// Required for Services.
    public var port: Int?
    /// 0...1_000_000; 0 is never chosen. Default 1.
    public var weight: Int
    /// Filters applied only when this backend is chosen.
    public var filters: [HTTPRouteFilter]

    public init(group: String = "", kind: String = "Service", name: String, namespace: String? = nil,
                port: Int? = nil, weight: Int = 1, filters: [HTTPRouteFilter] = []) {
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.port = port
        self.weight = weight
        self.filters = filters
    }

    /// `group` is `core` or empty and `kind` is `Service`.
    public var isService: Bool { (group.isEmpty || group == "core") && kind == "Service" }
}
