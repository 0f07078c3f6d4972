/// Everything the daemon knows about the mesh at one instant, immutable once built.
///
/// Built whole from validated objects; readers never see a half-applied change. Indexes
/// (Services by ClusterIP, pods by IP) and Service endpoints are computed here, once.
public struct MeshSnapshot: Sendable {
    /// The trust domain workload identities are named in.
    public let trustDomain: String
    public let namespaces: [String: Namespace]
    public let services: [ResourceID: Service]
    public let pods: [ResourceID: Pod]
    public let nodes: [String: Node]
    /// HTTPRoutes, sorted by namespace/name.
    public let httpRoutes: [HTTPRoute]
    public let referenceGrants: [ReferenceGrant]
    /// Documents the loader skipped, with the reason.
    public let skipped: [SkippedDocument]

    /// ClusterIP (each address family) -> Service.
    public let servicesByClusterIP: [String: ResourceID]
    /// Pod IP (each address family) -> pod. Only pods that have an IP.
    public let podsByIP: [String: ResourceID]
    /// Service -> Service port number -> endpoints, as the endpoints controller computes them:
    /// pods in the Service's namespace matching its selector, Running and Ready with an IP,
    /// the target port resolved per pod (named ports through the pod's container ports).
    public let endpoints: [ResourceID: [Int: [Endpoint]]]

    public init(trustDomain: String = "cluster.local",
                namespaces: [Namespace] = [], services: [Service] = [], pods: [Pod] = [], nodes: [Node] = [],
                httpRoutes: [HTTPRoute] = [], referenceGrants: [ReferenceGrant] = [], skipped: [SkippedDocument] = []) {
        self.trustDomain = trustDomain
        self.namespaces = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.services = Dictionary(services.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.pods = Dictionary(pods.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.nodes = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.httpRoutes = httpRoutes.sorted { $0.id < $1.id }
        self.referenceGrants = referenceGrants
        self.skipped = skipped

        var byClusterIP: [String: ResourceID] = [:]
        for service in self.services.values.sorted(by: { $0.id < $1.id }) {
            for ip in service.clusterIPs where byClusterIP[ip] == nil { byClusterIP[ip] = service.id }
        }
        servicesByClusterIP = byClusterIP

        var byIP: [String: ResourceID] = [:]
        for pod in self.pods.values.sorted(by: { $0.id < $1.id }) where pod.podIP != nil {
            for ip in pod.podIPs where byIP[ip] == nil { byIP[ip] = pod.id }
        }
        podsByIP = byIP

        let nsByName = self.namespaces
        let podsByNamespace = Dictionary(grouping: self.pods.values.filter(\.isServing), by: \.id.namespace)
            .mapValues { $0.sorted { $0.id < $1.id } }
        var endpoints: [ResourceID: [Int: [Endpoint]]] = [:]
        for service in self.services.values {
            guard let selector = service.selector, !selector.isEmpty else { continue }
            let selected = (podsByNamespace[service.id.namespace] ?? []).filter { pod in
                selector.allSatisfy { pod.labels[$0.key] == $0.value }
            }
            var byPort: [Int: [Endpoint]] = [:]
            for servicePort in service.ports {
                byPort[servicePort.port] = selected.compactMap { pod in
                    guard let ip = pod.podIP,
                          let target = Self.resolve(servicePort.targetPort, protocol: servicePort.protocol, in: pod)
                    else { return nil }
                    return Endpoint(ip: ip, port: target, pod: pod.id, nodeName: pod.nodeName,
                                    meshed: Self.isMeshed(pod, namespace: nsByName[pod.id.namespace]),
                                    identity: WorkloadIdentity(serviceAccount: pod.serviceAccountName,
                                                               namespace: pod.id.namespace, trustDomain: trustDomain))
                }
            }
            endpoints[service.id] = byPort
        }
        self.endpoints = endpoints
    }

    /// An empty snapshot (no objects).
    public static let empty = MeshSnapshot()

    /// The endpoints of one Service port; empty when the Service or port is unknown.
    public func endpoints(of service: ResourceID, port: Int) -> [Endpoint] {
        endpoints[service]?[port] ?? []
    }

    /// The Service whose ClusterIP is `ip`.
    public func service(clusterIP ip: String) -> Service? {
        servicesByClusterIP[ip].flatMap { services[$0] }
    }

    /// The pod whose IP is `ip`.
    public func pod(ip: String) -> Pod? {
        podsByIP[ip].flatMap { pods[$0] }
    }

    /// Whether the pod opted into the mesh: `linkerd.io/inject: enabled` on it, or on its
    /// namespace unless the pod says `disabled`.
    public func isMeshed(_ pod: Pod) -> Bool {
        Self.isMeshed(pod, namespace: namespaces[pod.id.namespace])
    }

    /// The pod's workload identity in this snapshot's trust domain.
    public func identity(of pod: Pod) -> WorkloadIdentity {
        WorkloadIdentity(serviceAccount: pod.serviceAccountName, namespace: pod.id.namespace, trustDomain: trustDomain)
    }

    /// Whether an HTTPRoute in `routeNamespace` may send traffic to the Service `service`:
    /// same namespace, or a ReferenceGrant in the Service's namespace allows it.
    public func routeMayReference(from routeNamespace: String, service: ResourceID) -> Bool {
        routeNamespace == service.namespace || referenceGrants.contains {
            $0.id.namespace == service.namespace && $0.allowsHTTPRoute(from: routeNamespace, toService: service.name)
        }
    }

    /// The annotation that opts a pod or namespace into the mesh.
    public static let injectAnnotation = "linkerd.io/inject"

    static func isMeshed(_ pod: Pod, namespace: Namespace?) -> Bool {
        switch pod.annotations[injectAnnotation] {
        case "enabled": return true
        case "disabled": return false
        default: return namespace?.annotations[injectAnnotation] == "enabled"
        }
    }

    static func resolve(_ target: TargetPort, protocol proto: String, in pod: Pod) -> Int? {
        switch target {
        case .number(let n): return n
        case .name(let name):
            return pod.containerPorts.first { $0.name == name && $0.protocol == proto }?.containerPort
        }
    }
}
