import SwitchyardModel

/// Resolves backendRefs against a snapshot: which Service port a reference names, and why it
/// cannot receive traffic when it cannot. Used when a table is compiled, never per request.
struct BackendResolver: Sendable {
    let snapshot: MeshSnapshot

    /// A backend in another namespace needs a ReferenceGrant, except the route's own parent
    /// Service: a consumer route (GAMMA) sending its namespace's traffic on to the Service it
    /// is attached to exposes nothing its clients could not already reach.
    /// `kind` (`HTTPRoute` or `GRPCRoute`) is the route's, for ReferenceGrants.
    func candidate(_ ref: HTTPBackendRef, route: HTTPRoute, kind: String = "HTTPRoute") -> BackendCandidate {
        let routeNamespace = route.id.namespace
        let namespace = ref.namespace ?? routeNamespace
        var c = BackendCandidate(namespace: namespace, name: ref.name, port: ref.port, weight: ref.weight)
        let id = ResourceID(namespace: namespace, name: ref.name)
        if !ref.isService {
            c.invalidReason = "backendRef \(ref.group.isEmpty ? "" : ref.group + "/")\(ref.kind) \(id) is not a Service"
        } else if !snapshot.routeMayReference(from: routeNamespace, service: id, kind: kind) && !Self.isParent(id, of: route) {
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

    /// The Service port a valid candidate names; nil when it is invalid.
    static func target(_ c: BackendCandidate) -> BackendTarget? {
        guard c.invalidReason == nil, let port = c.port else { return nil }
        return BackendTarget(service: ResourceID(namespace: c.namespace, name: c.name), port: port)
    }

    /// Whether `service` is one of the route's Service parents.
    static func isParent(_ service: ResourceID, of route: HTTPRoute) -> Bool {
        route.parentRefs.contains { $0.isService && $0.name == service.name && ($0.namespace ?? route.id.namespace) == service.namespace }
    }
}
