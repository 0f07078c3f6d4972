/// One address a Service port resolves to: a serving pod's IP and its target port.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var ip: String
    public var port: Int
    public var pod: ResourceID
    public var nodeName: String?
    /// The pod opted into the mesh: the hop to it is mutual TLS.
    public var meshed: Bool
    /// The pod's workload identity (what its certificate must name when meshed).
    public var identity: WorkloadIdentity

    public init(ip: String, port: Int, pod: ResourceID, nodeName: String? = nil, meshed: Bool, identity: WorkloadIdentity) {
        self.ip = ip
        self.port = port
        self.pod = pod
        self.nodeName = nodeName
        self.meshed = meshed
        self.identity = identity
    }

    /// `IP:port`, with brackets around IPv6 addresses.
    public var description: String { ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
}
