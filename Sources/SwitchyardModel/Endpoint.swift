/// One address a Service port resolves to: an IP and a port, with the pod behind it when the
/// snapshot knows it.
///
/// Endpoints computed from a selector always have a pod. Endpoints from a hand-managed
/// EndpointSlice have one when their `targetRef` names a Pod of the snapshot or their address
/// is a known pod IP; otherwise they are outside the mesh: no pod, no identity, never meshed.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var ip: String
    public var port: Int
    /// The pod serving at this address; nil when the snapshot knows none (a manual endpoint).
    public var pod: ResourceID?
    public var nodeName: String?
    /// The pod opted into the mesh: the hop to it is mutual TLS. Always false without a pod.
    public var meshed: Bool
    /// The pod's workload identity (what its certificate must name when meshed); nil when
    /// there is no pod.
    public var identity: WorkloadIdentity?

    public init(ip: String, port: Int, pod: ResourceID? = nil, nodeName: String? = nil, meshed: Bool = false,
                identity: WorkloadIdentity? = nil) {
        self.ip = ip
        self.port = port
        self.pod = pod
        self.nodeName = nodeName
        self.meshed = meshed
        self.identity = identity
    }

    /// `IP:port`, with brackets around IPv6 addresses.
    public var description: String { Self.format(ip: ip, port: port) }

    /// `IP:port`, with brackets around IPv6 addresses.
    public static func format(ip: String, port: Int) -> String {
        ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
