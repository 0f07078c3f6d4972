import Foundation

/// A `GRPCRoute` (gateway.networking.k8s.io/v1, and the older v1alpha2).
///
/// Its parents, hostnames and backends have the same shapes as an HTTPRoute's; its rules
/// match on the gRPC service and method (the request path `/<service>/<method>`) and on
/// headers. Backends reuse `HTTPBackendRef` and filters reuse `HTTPRouteFilter`, of which a
/// GRPCRoute only ever holds RequestHeaderModifier, ResponseHeaderModifier and RequestMirror.
public struct GRPCRoute: Hashable, Sendable {
    public var id: ResourceID
    public var api: GRPCRouteAPIVersion
    /// `metadata.creationTimestamp`; older routes win precedence ties. Nil sorts as newest.
    public var creationTimestamp: Date?
    public var parentRefs: [ParentReference]
    /// `spec.hostnames`. Ignored for Service parents, as GAMMA says.
    public var hostnames: [String]
    /// Unlike an HTTPRoute's, an absent `rules` stays empty: the route matches no request.
    public var rules: [GRPCRouteRule]
    public var source: ManifestSource?

    public init(id: ResourceID, api: GRPCRouteAPIVersion = .gatewayV1, creationTimestamp: Date? = nil,
                parentRefs: [ParentReference] = [], hostnames: [String] = [], rules: [GRPCRouteRule] = [],
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

/// The `apiVersion`s of GRPCRoute that Switchyard reads.
public enum GRPCRouteAPIVersion: String, Hashable, Sendable, CaseIterable {
    case gatewayV1 = "gateway.networking.k8s.io/v1"
    case gatewayV1alpha2 = "gateway.networking.k8s.io/v1alpha2"

    /// The API group, `gateway.networking.k8s.io`.
    public var group: String { String(rawValue.prefix { $0 != "/" }) }
}

/// One `spec.rules[]` entry of a GRPCRoute.
public struct GRPCRouteRule: Hashable, Sendable {
    public var name: String?
    /// OR across matches; an empty list matches every request.
    public var matches: [GRPCRouteMatch]
    /// RequestHeaderModifier, ResponseHeaderModifier and RequestMirror only.
    public var filters: [HTTPRouteFilter]
    public var backendRefs: [HTTPBackendRef]

    public init(name: String? = nil, matches: [GRPCRouteMatch] = [], filters: [HTTPRouteFilter] = [],
                backendRefs: [HTTPBackendRef] = []) {
        self.name = name
        self.matches = matches
        self.filters = filters
        self.backendRefs = backendRefs
    }
}
