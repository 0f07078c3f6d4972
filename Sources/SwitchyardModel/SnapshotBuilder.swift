/// Gathers the decoded objects of one load, refusing a second object with the same identity
/// (API group, kind, namespace and name), and builds the `MeshSnapshot` from them.
struct SnapshotBuilder {
    private(set) var namespaces: [Namespace] = []
    private(set) var services: [Service] = []
    private(set) var pods: [Pod] = []
    private(set) var nodes: [Node] = []
    private(set) var httpRoutes: [HTTPRoute] = []
    private(set) var grpcRoutes: [GRPCRoute] = []
    private(set) var referenceGrants: [ReferenceGrant] = []
    private(set) var endpointSlices: [EndpointSlice] = []
    private(set) var skipped: [SkippedDocument] = []
    private var seen: [String: ManifestSource] = [:]

    /// Adds `object`; when an object with the same identity was already added, returns where
    /// that one came from and adds nothing.
    mutating func add(_ object: DecodedObject, identity: String, source: ManifestSource) -> ManifestSource? {
        if let first = seen[identity] { return first }
        seen[identity] = source
        switch object {
        case .namespace(let value): namespaces.append(value)
        case .service(let value): services.append(value)
        case .pod(let value): pods.append(value)
        case .node(let value): nodes.append(value)
        case .httpRoute(let value): httpRoutes.append(value)
        case .grpcRoute(let value): grpcRoutes.append(value)
        case .referenceGrant(let value): referenceGrants.append(value)
        case .endpointSlice(let value): endpointSlices.append(value)
        }
        return nil
    }

    mutating func skip(_ document: SkippedDocument) {
        skipped.append(document)
    }

    func build(trustDomain: String) -> MeshSnapshot {
        MeshSnapshot(trustDomain: trustDomain, namespaces: namespaces, services: services, pods: pods, nodes: nodes,
                     httpRoutes: httpRoutes, grpcRoutes: grpcRoutes, referenceGrants: referenceGrants, endpointSlices: endpointSlices, skipped: skipped)
    }
}
