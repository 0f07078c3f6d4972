/// Where an object came from: the file and the zero-based index of the YAML document in it.
public struct ManifestSource: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var document: Int

    public init(file: String, document: Int) {
        self.file = file
        self.document = document
    }

    public var description: String { "\(file): document \(document)" }
}
