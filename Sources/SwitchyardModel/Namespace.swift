/// A `v1 Namespace`. Its `linkerd.io/inject: enabled` annotation meshes every pod in it.
public struct Namespace: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var source: ManifestSource?

    public init(name: String, labels: [String: String] = [:], annotations: [String: String] = [:], source: ManifestSource? = nil) {
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.source = source
    }
}
