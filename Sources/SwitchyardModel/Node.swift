/// A `v1 Node`: its name and `InternalIP` addresses (where its daemon's inbound port listens).
public struct Node: Hashable, Sendable {
    public var name: String
    public var internalIPs: [String]
    public var labels: [String: String]
    public var source: ManifestSource?

    public init(name: String, internalIPs: [String] = [], labels: [String: String] = [:], source: ManifestSource? = nil) {
        self.name = name
        self.internalIPs = internalIPs
        self.labels = labels
        self.source = source
    }

    /// The first InternalIP, if any.
    public var internalIP: String? { internalIPs.first }
}
