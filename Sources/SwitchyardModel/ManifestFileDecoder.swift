import Yams

/// Decodes one manifest file: its YAML documents (and the items of `List` documents) into
/// objects added to a `SnapshotBuilder`, or errors naming the file, document and field.
struct ManifestFileDecoder {
    /// The file as named in messages.
    let path: String
    let limits: ManifestLimits
    /// Errors beyond this many in one file are summarised in one last error.
    static let maxErrorsPerFile = 200

    /// Decodes `text`, appending objects and skipped documents to `builder` and problems to `errors`.
    func decode(_ text: String, into builder: inout SnapshotBuilder, errors: inout [ManifestError]) {
        // libyaml, told the input is UTF-8, reads a leading byte order mark as part of the first
        // key and then silently drops the rest of that mapping: strip it.
        var text = text
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        var fileErrors: [ManifestError] = []
        defer { errors.append(contentsOf: Self.capped(fileErrors, file: path)) }

        let byteCount = text.utf8.count
        guard byteCount <= limits.maxFileBytes else {
            fileErrors.append(ManifestError(file: path, message: Self.sizeMessage(byteCount, limit: limits.maxFileBytes)))
            return
        }
        if let (line, alias) = YAMLPreflight.aliasKeyLine(in: text) {
            fileErrors.append(ManifestError(file: path, message: "line \(line): the alias *\(alias) is used as a mapping key, which is not supported"))
            return
        }
        let parser: Parser
        do {
            parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
        } catch {
            fileErrors.append(ManifestError(file: path, message: Self.describe(yamlError: error, in: text)))
            return
        }
        var budget = YAMLPreflight.nodeBudget(forFileBytes: byteCount)
        var index = 0
        while true {
            let root: Yams.Node
            do {
                guard let next = try parser.nextRoot() else { break }
                root = next
            } catch {
                fileErrors.append(ManifestError(file: path, message: Self.describe(yamlError: error, in: text)))
                return
            }
            defer { index += 1 }
            if index >= limits.maxDocumentsPerFile {
                fileErrors.append(ManifestError(file: path, message: "more than \(limits.maxDocumentsPerFile) YAML documents (the limit)"))
                return
            }
            if let violation = YAMLPreflight.check(root, maxDepth: limits.maxYAMLDepth, budget: &budget) {
                fileErrors.append(ManifestError(file: path, document: index, message: violation.message))
                if budget < 0 { return }
                continue
            }
            decodeDocument(root, index: index, into: &builder, errors: &fileErrors)
            if fileErrors.count > Self.maxErrorsPerFile { return }
        }
    }

    private func decodeDocument(_ root: Yams.Node, index: Int, into builder: inout SnapshotBuilder,
                                errors: inout [ManifestError]) {
        if case .scalar(let scalar) = root, YAMLScalarValue(scalar) == .null { return }
        let diagnostics = DocumentDiagnostics(file: path, document: index)
        defer { errors.append(contentsOf: diagnostics.finishedErrors()) }
        let cursor = YAMLCursor(root, path: "", diagnostics: diagnostics)
        guard case .mapping = root else {
            diagnostics.error(at: nil, "a manifest document must be a mapping (a Kubernetes object), got \(YAMLCursor.describe(root))")
            return
        }
        let apiVersion = cursor["apiVersion"].string(required: true)
        let kind = cursor["kind"].string(required: true)
        guard let apiVersion, let kind else { return }
        let source = ManifestSource(file: path, document: index)

        if kind == "List" || (kind.hasSuffix("List") && cursor["items"].isPresent) {
            // `kubectl get -o yaml` prints `v1 List`; the API's typed lists (`PodList`) leave
            // the items' apiVersion and kind out.
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            for item in cursor["items"].sequence(required: true) ?? [] {
                if item.isNull { continue }
                let itemDiagnostics = DocumentDiagnostics(file: path, document: index)
                let itemCursor = YAMLCursor(item.node, path: item.path, diagnostics: itemDiagnostics)
                guard itemCursor.mapping(required: true) != nil else {
                    errors.append(contentsOf: itemDiagnostics.finishedErrors())
                    continue
                }
                let itemAPIVersion = itemCursor["apiVersion"].isNull && itemKind != nil
                    ? apiVersion : itemCursor["apiVersion"].string(required: true)
                let itemKindName = itemCursor["kind"].isNull && itemKind != nil
                    ? itemKind : itemCursor["kind"].string(required: true)
                if let itemAPIVersion, let itemKindName {
                    if itemKindName == "List" {
                        itemCursor["kind"].error("a List inside a List is not supported")
                    } else {
                        decodeObject(itemCursor, apiVersion: itemAPIVersion, kind: itemKindName, source: source, into: &builder)
                    }
                }
                errors.append(contentsOf: itemDiagnostics.finishedErrors())
            }
            return
        }
        decodeObject(cursor, apiVersion: apiVersion, kind: kind, source: source, into: &builder)
    }

    private func decodeObject(_ cursor: YAMLCursor, apiVersion: String, kind: String, source: ManifestSource,
                              into builder: inout SnapshotBuilder) {
        let decoder = ManifestObjectDecoder(root: cursor, apiVersion: apiVersion, kind: kind, source: source)
        switch decoder.decode() {
        case .object(let object, let identity):
            if let first = builder.add(object, identity: identity, source: source) {
                let what = cursor.diagnostics.object ?? kind
                cursor.diagnostics.error(at: YAMLCursor.join(cursor.path, "metadata").appending(".name"),
                                         "duplicate \(what): also defined in \(first)")
            }
        case .skipped(let name, let reason):
            builder.skip(SkippedDocument(source: source, apiVersion: apiVersion, kind: kind, name: name, reason: reason))
        case .failed:
            break
        }
    }

    static func sizeMessage(_ size: Int, limit: Int) -> String {
        "file is \(size) bytes, over the limit of \(limit) bytes"
    }

    /// At most `maxErrorsPerFile` errors, then one saying how many more there were.
    static func capped(_ errors: [ManifestError], file: String) -> [ManifestError] {
        guard errors.count > maxErrorsPerFile else { return errors }
        return Array(errors.prefix(maxErrorsPerFile))
            + [ManifestError(file: file, message: "too many errors; the rest of this file was not reported")]
    }

    /// A one-line message for an error Yams threw, with the line and column it names
    /// (never the whole text, which some Yams errors carry).
    static func describe(yamlError error: Error, in text: String) -> String {
        guard let error = error as? YamlError else { return "cannot parse YAML: \(error)" }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            if problem.hasPrefix("Maximum nesting level reached") {
                return "YAML nesting is too deep at line \(mark.line), column \(mark.column) (the parser stops at 1000 levels)"
            }
            var message = "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return message
        case .reader(let problem, let offset, let value, _):
            var message = "cannot read YAML"
            if let offset, let (line, column) = lineAndColumn(ofCharacterOffset: offset, in: text) {
                message += " at line \(line), column \(column)"
            }
            message += ": \(problem)"
            if value >= 0 { message += " (character U+\(String(value, radix: 16, uppercase: true)))" }
            return message
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { YAMLCursor.quote($0) }.joined(separator: ", ")
            return "YAML error at line \(context.mark.line), column \(context.mark.column): duplicate key \(keys) in a mapping"
        case .memory:
            return "out of memory while parsing YAML"
        default:
            let description = String(describing: error)
            return "cannot parse YAML: " + (description.split(whereSeparator: \.isNewline).first.map(String.init) ?? description)
        }
    }

    /// 1-based line and column of the character at `offset`.
    private static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (Int, Int)? {
        var line = 1
        var column = 1
        var remaining = offset
        for character in text {
            if remaining == 0 { return (line, column) }
            remaining -= 1
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return remaining == 0 ? (line, column) : nil
    }
}
