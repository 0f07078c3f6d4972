/// A document the loader did not turn into an object, and why (unknown kind, empty document).
public struct SkippedDocument: Hashable, Sendable, CustomStringConvertible {
    public var source: ManifestSource
    public var apiVersion: String?
    public var kind: String?
    public var name: String?
    public var reason: String

    public init(source: ManifestSource, apiVersion: String?, kind: String?, name: String?, reason: String) {
        self.source = source
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.reason = reason
    }

    public var description: String {
        let what = [apiVersion, kind, name].compactMap { $0 }.joined(separator: " ")
        return "\(source)\(what.isEmpty ? "" : " (\(what))"): \(reason)"
    }
}
