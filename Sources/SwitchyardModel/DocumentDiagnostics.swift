/// Collects the errors found in one object of one document while it is decoded, so that a
/// load reports every problem rather than the first. Used by one decoding pass, on one thread.
final class DocumentDiagnostics {
    let file: String
    let document: Int
    /// `Kind namespace/name`, once the object's metadata has been read.
    var object: String?
    private(set) var errors: [ManifestError] = []
    /// Errors beyond `maxErrors` are counted, not kept.
    private(set) var dropped = 0
    static let maxErrors = 100

    init(file: String, document: Int) {
        self.file = file
        self.document = document
    }

    var hasErrors: Bool { !errors.isEmpty }

    /// Records a problem at `field` (a path such as `spec.rules[0].matches[1].path.value`).
    func error(at field: String?, _ message: String) {
        guard errors.count < Self.maxErrors else {
            dropped += 1
            return
        }
        errors.append(ManifestError(file: file, document: document, object: object,
                                    field: field.flatMap { $0.isEmpty ? nil : $0 }, message: message))
    }

    /// The errors, each naming the object when it became known after the error was recorded.
    func finishedErrors() -> [ManifestError] {
        var result = errors
        if dropped > 0 {
            result.append(ManifestError(file: file, document: document, message: "\(dropped) more errors in this document not shown"))
        }
        guard let object else { return result }
        return result.map { error in
            var error = error
            if error.object == nil { error.object = object }
            return error
        }
    }
}
