/// A `discovery.k8s.io/v1 EndpointSlice`: addresses and ports that back a Service.
///
/// Switchyard reads them for Services without a selector, whose endpoints are managed by hand
/// (or by another controller), as Kubernetes does: a slice belongs to the Service named by its
/// `kubernetes.io/service-name` label in the same namespace. For a Service with a selector the
/// endpoints are computed from the selector and its slices are ignored. Slices whose
/// `addressType` is `FQDN` are skipped when loading (the proxy dials IP endpoints only).
public struct EndpointSlice: Hashable, Sendable {
    /// `addressType`: the one family every address of the slice is in.
    public enum AddressType: String, Hashable, Sendable, CaseIterable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
        case fqdn = "FQDN"
    }

    /// One `ports[]` entry: the port number endpoints listen on for the Service port of the
    /// same name and protocol.
    public struct Port: Hashable, Sendable {
        /// Matches the Service port of this name; nil (or `""` in the manifest) matches the
        /// Service's unnamed port.
        public var name: String?
        /// Nil when absent: such a port cannot be used (kube-proxy ignores it too).
        public var port: Int?
        /// `TCP` (the default), `UDP` or `SCTP`.
        public var `protocol`: String
        public var appProtocol: String?

        public init(name: String? = nil, port: Int?, protocol: String = "TCP", appProtocol: String? = nil) {
            self.name = name.flatMap { $0.isEmpty ? nil : $0 }
            self.port = port
            self.protocol = `protocol`
            self.appProtocol = appProtocol
        }
    }

    /// `endpoints[].conditions`. Absent conditions are nil; an absent `ready` counts as ready.
    public struct Conditions: Hashable, Sendable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?

        public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
        }

        /// Whether the endpoint receives traffic: `ready` is true or absent.
        public var isReady: Bool { ready ?? true }
    }

    /// `endpoints[].targetRef`: the object the endpoint stands for (usually a Pod).
    public struct TargetReference: Hashable, Sendable {
        public var kind: String?
        /// Nil when absent (the slice's namespace is meant).
        public var namespace: String?
        public var name: String?

        public init(kind: String? = nil, namespace: String? = nil, name: String? = nil) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }
    }

    /// One `endpoints[]` entry (the API's `Endpoint`; not to be confused with the snapshot's
    /// resolved `SwitchyardModel.Endpoint`).
    public struct Endpoint: Hashable, Sendable {
        /// At least one, all of the slice's `addressType`. Like kube-proxy, Switchyard uses
        /// the first: the API says the addresses are fungible.
        public var addresses: [String]
        public var conditions: Conditions
        public var targetRef: TargetReference?
        public var nodeName: String?

        public init(addresses: [String], conditions: Conditions = .init(), targetRef: TargetReference? = nil,
                    nodeName: String? = nil) {
            self.addresses = addresses
            self.conditions = conditions
            self.targetRef = targetRef
            self.nodeName = nodeName
        }
    }

    /// The label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    public var id: ResourceID
    public var addressType: AddressType
    public var ports: [Port]
    public var endpoints: [Endpoint]
    public var labels: [String: String]
    public var source: ManifestSource?

    public init(id: ResourceID, addressType: AddressType = .ipv4, ports: [Port] = [], endpoints: [Endpoint] = [],
                labels: [String: String] = [:], source: ManifestSource? = nil) {
        self.id = id
        self.addressType = addressType
        self.ports = ports
        self.endpoints = endpoints
        self.labels = labels
        self.source = source
    }

    /// The Service this slice belongs to (`kubernetes.io/service-name` in the same namespace),
    /// nil when the label is absent or empty.
    public var service: ResourceID? {
        guard let name = labels[Self.serviceNameLabel], !name.isEmpty else { return nil }
        return ResourceID(namespace: id.namespace, name: name)
    }

    /// The slice port a Service port maps to, as kube-proxy maps them: the same name (an
    /// unnamed Service port matches an unnamed slice port) and the same protocol.
    public func port(for servicePort: ServicePort) -> Port? {
        ports.first { ($0.name ?? "") == (servicePort.name ?? "") && $0.protocol == servicePort.protocol }
    }
}
