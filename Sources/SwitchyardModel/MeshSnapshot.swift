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
    /// GRPCRoutes, sorted by namespace/name.
    public let grpcRoutes: [GRPCRoute]
    public let referenceGrants: [ReferenceGrant]
    /// EndpointSlices (IPv4 and IPv6), sorted by namespace/name. They give the endpoints of
    /// Services without a selector.
    public let endpointSlices: [EndpointSlice]
    /// Documents the loader skipped, with the reason.
    public let skipped: [SkippedDocument]

    /// ClusterIP (each address family) -> Service.
    public let servicesByClusterIP: [String: ResourceID]
    /// Pod IP (each address family) -> pod. Only pods that have an IP.
    public let podsByIP: [String: ResourceID]
    /// Service -> Service port number -> endpoints, for TCP Service ports only (the mesh
    /// proxies TCP; a number also used for UDP or SCTP means its TCP entry).
    ///
    /// - A Service with a selector: as the endpoints controller computes them, pods in the
    ///   Service's namespace matching the selector, Running and Ready with an IP, the target
    ///   port resolved per pod (named ports through the pod's container ports). EndpointSlices
    ///   naming such a Service are ignored (the controller's own would be derived from the selector).
    /// - A Service without a selector (absent or empty): from the EndpointSlices labelled
    ///   `kubernetes.io/service-name: <service>` in its namespace, as kube-proxy reads them. A
    ///   Service port takes the slice port of the same name and protocol; each ready endpoint
    ///   (`conditions.ready` true or absent) gives its first address at that port, once per
    ///   address and port. An endpoint whose `targetRef` is a Pod of the snapshot, or whose
    ///   address is a known pod IP, is that pod (its identity, node and mesh opt-in); any
    ///   other is unmeshed and has no identity.
    public let endpoints: [ResourceID: [Int: [Endpoint]]]

    public init(trustDomain: String = "cluster.local",
                namespaces: [Namespace] = [], services: [Service] = [], pods: [Pod] = [], nodes: [Node] = [],
                httpRoutes: [HTTPRoute] = [], grpcRoutes: [GRPCRoute] = [], referenceGrants: [ReferenceGrant] = [], endpointSlices: [EndpointSlice] = [],
                skipped: [SkippedDocument] = []) {
        self.trustDomain = trustDomain
        self.namespaces = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.services = Dictionary(services.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.pods = Dictionary(pods.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.nodes = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.httpRoutes = httpRoutes.sorted { $0.id < $1.id }
        self.grpcRoutes = grpcRoutes.sorted { $0.id < $1.id }
        self.referenceGrants = referenceGrants
        self.endpointSlices = endpointSlices.filter { $0.addressType != .fqdn }.sorted { $0.id < $1.id }
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
        var slicesByService: [ResourceID: [EndpointSlice]] = [:]
        for slice in self.endpointSlices {
            if let service = slice.service { slicesByService[service, default: []].append(slice) }
        }
        let allPods = self.pods
        func endpoint(ip: String, port: Int, pod: Pod?, nodeName: String?) -> Endpoint {
            guard let pod else { return Endpoint(ip: ip, port: port, nodeName: nodeName) }
            return Endpoint(ip: ip, port: port, pod: pod.id, nodeName: pod.nodeName ?? nodeName,
                            meshed: Self.isMeshed(pod, namespace: nsByName[pod.id.namespace]),
                            identity: WorkloadIdentity(serviceAccount: pod.serviceAccountName,
                                                       namespace: pod.id.namespace, trustDomain: trustDomain))
        }
        var endpoints: [ResourceID: [Int: [Endpoint]]] = [:]
        for service in self.services.values {
            let tcpPorts = service.ports.filter { $0.protocol == "TCP" }
            var byPort: [Int: [Endpoint]] = [:]
            if let selector = service.selector, !selector.isEmpty {
                let selected = (podsByNamespace[service.id.namespace] ?? []).filter { pod in
                    selector.allSatisfy { pod.labels[$0.key] == $0.value }
                }
                for servicePort in tcpPorts {
                    byPort[servicePort.port] = selected.compactMap { pod in
                        guard let ip = pod.podIP,
                              let target = Self.resolve(servicePort.targetPort, protocol: servicePort.protocol, in: pod)
                        else { return nil }
                        return endpoint(ip: ip, port: target, pod: pod, nodeName: nil)
                    }
                }
            } else if let slices = slicesByService[service.id] {
                for servicePort in tcpPorts {
                    var list: [Endpoint] = []
                    var seen = Set<String>()
                    for slice in slices {
                        guard let target = slice.port(for: servicePort)?.port else { continue }
                        for member in slice.endpoints where member.conditions.isReady {
                            guard let ip = member.addresses.first, seen.insert("\(ip) \(target)").inserted else { continue }
                            var pod: Pod?
                            if let ref = member.targetRef, ref.kind == "Pod", let name = ref.name {
                                pod = allPods[ResourceID(namespace: ref.namespace ?? slice.id.namespace, name: name)]
                            }
                            if pod == nil { pod = byIP[ip].flatMap { allPods[$0] } }
                            list.append(endpoint(ip: ip, port: target, pod: pod, nodeName: member.nodeName))
                        }
                    }
                    byPort[servicePort.port] = list
                }
            } else {
                continue
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

    /// Whether a route of `kind` (`HTTPRoute` or `GRPCRoute`) in `routeNamespace` may send
    /// traffic to the Service `service`: same namespace, or a ReferenceGrant in the Service's
    /// namespace allows routes of that kind from there.
    public func routeMayReference(from routeNamespace: String, service: ResourceID, kind: String = "HTTPRoute") -> Bool {
        routeNamespace == service.namespace || referenceGrants.contains {
            $0.id.namespace == service.namespace && $0.allowsRoute(kind: kind, from: routeNamespace, toService: service.name)
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
