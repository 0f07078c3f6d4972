/// A `v1 Pod`, as far as the mesh cares: labels, service account, node, IP, readiness.
public struct Pod: Hashable, Sendable {
    public var id: ResourceID
    public var labels: [String: String]
    public var annotations: [String: String]
    /// `spec.serviceAccountName`, `default` when absent.
    public var serviceAccountName: String
    public var nodeName: String?
    /// `status.podIP`.
    public var podIP: String?
    /// `status.podIPs[].ip` (dual stack); includes `podIP` when set.
    public var podIPs: [String]
    /// `status.phase` (`Running`, `Pending`, ...).
    public var phase: String?
    /// The `Ready` condition of `status.conditions` is `True`.
    public var ready: Bool
    public var containerPorts: [ContainerPort]
    public var source: ManifestSource?

    public init(id: ResourceID, labels: [String: String] = [:], annotations: [String: String] = [:],
                serviceAccountName: String = "default", nodeName: String? = nil, podIP: String? = nil,
                podIPs: [String] = [], phase: String? = "Running", ready: Bool = true,
                containerPorts: [ContainerPort] = [], source: ManifestSource? = nil) {
        self.id = id
        self.labels = labels
        self.annotations = annotations
        self.serviceAccountName = serviceAccountName
        self.nodeName = nodeName
        self.podIP = podIP
        self.podIPs = podIPs.isEmpty ? (podIP.map { [$0] } ?? []) : podIPs
        self.phase = phase
        self.ready = ready
        self.containerPorts = containerPorts
        self.source = source
    }

    /// What the endpoints controller requires of a pod to list it: Running, Ready, with an IP.
    public var isServing: Bool { phase == "Running" && ready && podIP != nil }
}

/// One `spec.containers[].ports[]` entry, used to resolve named target ports.
public struct ContainerPort: Hashable, Sendable {
    public var name: String?
    public var containerPort: Int
    public var `protocol`: String

    public init(name: String? = nil, containerPort: Int, protocol: String = "TCP") {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }
}
