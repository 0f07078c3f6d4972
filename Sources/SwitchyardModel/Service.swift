/// A `v1 Service`: a ClusterIP, ports with target ports, and a selector over pods.
public struct Service: Hashable, Sendable {
    public var id: ResourceID
    /// `spec.clusterIP`; nil when absent or `None` (headless).
    public var clusterIP: String?
    /// `spec.clusterIPs` (dual stack); includes `clusterIP` when set.
    public var clusterIPs: [String]
    public var type: String
    public var ports: [ServicePort]
    /// `spec.selector`; nil when the Service has none (its endpoints are managed elsewhere).
    public var selector: [String: String]?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var source: ManifestSource?

    public init(id: ResourceID, clusterIP: String? = nil, clusterIPs: [String] = [], type: String = "ClusterIP",
                ports: [ServicePort] = [], selector: [String: String]? = nil,
                labels: [String: String] = [:], annotations: [String: String] = [:], source: ManifestSource? = nil) {
        self.id = id
        self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs.isEmpty ? (clusterIP.map { [$0] } ?? []) : clusterIPs
        self.type = type
        self.ports = ports
        self.selector = selector
        self.labels = labels
        self.annotations = annotations
        self.source = source
    }

    /// The TCP port entry with this Service port number, nil when there is none.
    ///
    /// A Service may use one number for several protocols (`53/TCP` and `53/UDP`); the mesh
    /// proxies TCP only, so a port number always means the TCP entry. Routes attach to it, and
    /// only TCP ports have endpoints in `MeshSnapshot`.
    public func port(_ number: Int) -> ServicePort? { ports.first { $0.port == number && $0.protocol == "TCP" } }
}

/// One entry of a Service's `spec.ports`.
public struct ServicePort: Hashable, Sendable {
    public var name: String?
    public var port: Int
    public var targetPort: TargetPort
    public var `protocol`: String
    public var appProtocol: String?

    public init(name: String? = nil, port: Int, targetPort: TargetPort? = nil, protocol: String = "TCP", appProtocol: String? = nil) {
        self.name = name
        self.port = port
        self.targetPort = targetPort ?? .number(port)
        self.protocol = `protocol`
        self.appProtocol = appProtocol
    }
}

/// `targetPort`: a number, or the name of a container port resolved per pod.
public enum TargetPort: Hashable, Sendable, CustomStringConvertible {
    case number(Int)
    case name(String)

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .name(let s): return s
        }
    }
}
