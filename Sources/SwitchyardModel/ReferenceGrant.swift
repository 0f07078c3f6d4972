/// A `ReferenceGrant` (gateway.networking.k8s.io/v1beta1): lets routes in the `from`
/// namespaces refer to backends in the grant's own namespace.
public struct ReferenceGrant: Hashable, Sendable {
    public struct From: Hashable, Sendable {
        public var group: String
        public var kind: String
        public var namespace: String
        public init(group: String, kind: String, namespace: String) {
            self.group = group
            self.kind = kind
            self.namespace = namespace
        }
    }

    public struct To: Hashable, Sendable {
        public var group: String
        public var kind: String
        /// Nil allows every object of that kind.
        public var name: String?
        public init(group: String, kind: String, name: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
        }
    }

    public var id: ResourceID
    public var from: [From]
    public var to: [To]
    public var source: ManifestSource?

    public init(id: ResourceID, from: [From], to: [To], source: ManifestSource? = nil) {
        self.id = id
        self.from = from
        self.to = to
        self.source = source
    }

    /// The API groups whose HTTPRoutes a `from` entry can name: the Gateway API's and
    /// Linkerd's (`policy.linkerd.io`), since Switchyard reads HTTPRoutes of both.
    public static let httpRouteGroups: Set<String> = ["gateway.networking.k8s.io", "policy.linkerd.io"]

    /// Whether an HTTPRoute in `routeNamespace` may refer to the Service `name` in this namespace.
    /// A `from` entry counts when its kind is `HTTPRoute` and its group one of `httpRouteGroups`,
    /// whatever the group of the route itself.
    public func allowsHTTPRoute(from routeNamespace: String, toService name: String) -> Bool {
        allowsRoute(kind: "HTTPRoute", from: routeNamespace, toService: name)
    }

    /// Whether a route of `kind` in `routeNamespace` may refer to the Service `name` in this
    /// namespace. HTTPRoutes: as `allowsHTTPRoute`. GRPCRoutes: a `from` entry of kind
    /// `GRPCRoute` in the Gateway API group (the only GRPCRoute Switchyard reads).
    public func allowsRoute(kind: String, from routeNamespace: String, toService name: String) -> Bool {
        let groups = kind == "HTTPRoute" ? Self.httpRouteGroups : ["gateway.networking.k8s.io"]
        return from.contains { groups.contains($0.group) && $0.kind == kind && $0.namespace == routeNamespace }
            && to.contains { ($0.group.isEmpty || $0.group == "core") && $0.kind == "Service" && ($0.name == nil || $0.name == name) }
    }
}
