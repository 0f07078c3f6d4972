/// One problem in the manifests, naming the file, the document's index and the field path
/// (`spec.rules[0].matches[1].path.value`), so that a user can find and fix it.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// Zero-based index of the YAML document in the file; nil when the whole file is at fault.
    public var document: Int?
    /// `kind namespace/name` of the object when known.
    public var object: String?
    /// Field path inside the document, e.g. `spec.rules[0].matches[1].path.value`.
    public var field: String?
    public var message: String

    public init(file: String, document: Int? = nil, object: String? = nil, field: String? = nil, message: String) {
        self.file = file
        self.document = document
        self.object = object
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let document { s += ": document \(document)" }
        if let object { s += " (\(object))" }
        if let field { s += ": \(field)" }
        return s + ": " + message
    }
}

/// Every problem found in one load; a load either yields a whole snapshot or these.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ManifestError]

    public init(_ errors: [ManifestError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
