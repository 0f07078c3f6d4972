import Foundation
import Yams

/// A position in a composed YAML document: the node there (nil when the field is absent),
/// its field path (`spec.rules[0].backendRefs[1].port`) and where to report problems.
///
/// The typed accessors return nil both when a field is absent and when it has the wrong type;
/// in the second case (and when a required field is absent) they record an error at this path,
/// so the caller simply carries on and every problem in a document is reported.
/// `null` counts as absent, as it does for Kubernetes. Unknown fields are never looked at.
/// Merge keys (`<<: *anchor`) are honoured, as `kubectl` does.
struct YAMLCursor {
    let node: Yams.Node?
    let path: String
    let diagnostics: DocumentDiagnostics

    init(_ node: Yams.Node?, path: String, diagnostics: DocumentDiagnostics) {
        self.node = node
        self.path = path
        self.diagnostics = diagnostics
    }

    // MARK: - Navigation

    /// The field `key` of this mapping (absent when this is not a mapping).
    subscript(key: String) -> YAMLCursor {
        YAMLCursor(Self.lookup(key, in: node, depth: 0), path: Self.join(path, key), diagnostics: diagnostics)
    }

    /// Absent, or an explicit null.
    var isNull: Bool {
        guard let node else { return true }
        if case .scalar(let scalar) = node, YAMLScalarValue(scalar) == .null { return true }
        return false
    }

    /// Present and not null.
    var isPresent: Bool { !isNull }

    /// Records a problem at this field.
    func error(_ message: String) {
        diagnostics.error(at: path, message)
    }

    /// Records a problem at a sub-path of this field (`suffix` starts with `.` or `[`).
    func error(at suffix: String, _ message: String) {
        diagnostics.error(at: path + suffix, message)
    }

    // MARK: - Typed accessors

    /// This node as a mapping (returns `self`), nil when absent or not a mapping.
    func mapping(required: Bool = false) -> YAMLCursor? {
        guard checkPresence(required: required), let node else { return nil }
        guard case .mapping = node else {
            error("expected a mapping, got \(Self.describe(node))")
            return nil
        }
        return self
    }

    /// The elements of this sequence, each with its `[i]` path. `maxItems`/`minItems` are
    /// checked (all elements are still returned, so each is validated too).
    func sequence(required: Bool = false, minItems: Int = 0, maxItems: Int? = nil) -> [YAMLCursor]? {
        guard checkPresence(required: required), let node else { return nil }
        guard case .sequence(let sequence) = node else {
            error("expected a sequence, got \(Self.describe(node))")
            return nil
        }
        if let maxItems, sequence.count > maxItems {
            error("must have at most \(maxItems) items (has \(sequence.count))")
        }
        if sequence.count < minItems {
            error("must have at least \(minItems) item\(minItems == 1 ? "" : "s")")
        }
        return sequence.enumerated().map { index, element in
            YAMLCursor(element, path: "\(path)[\(index)]", diagnostics: diagnostics)
        }
    }

    /// A string. Numbers and booleans are not strings (`kubectl` refuses them too): quote them.
    func string(required: Bool = false) -> String? {
        guard checkPresence(required: required), let node else { return nil }
        if case .scalar(let scalar) = node, case .string(let value) = YAMLScalarValue(scalar) {
            return value
        }
        if case .scalar = node {
            error("expected a string, got \(Self.describe(node)) (quote it to make it a string)")
        } else {
            error("expected a string, got \(Self.describe(node))")
        }
        return nil
    }

    /// An integer.
    func int(required: Bool = false) -> Int? {
        guard checkPresence(required: required), let node else { return nil }
        if case .scalar(let scalar) = node {
            switch YAMLScalarValue(scalar) {
            case .int(let value): return value
            case .bigInt(let text):
                error("integer \(text) is out of range")
                return nil
            default: break
            }
        }
        error("expected an integer, got \(Self.describe(node))")
        return nil
    }

    /// An integer within `range`.
    func int(required: Bool = false, in range: ClosedRange<Int>) -> Int? {
        guard let value = int(required: required) else { return nil }
        guard range.contains(value) else {
            error("must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    /// A boolean (`true`/`false`).
    func bool(required: Bool = false) -> Bool? {
        guard checkPresence(required: required), let node else { return nil }
        if case .scalar(let scalar) = node, case .bool(let value) = YAMLScalarValue(scalar) { return value }
        error("expected a boolean, got \(Self.describe(node))")
        return nil
    }

    /// An integer or a string (`targetPort`, an `IntOrString`).
    func intOrString(required: Bool = false) -> TargetPort? {
        guard checkPresence(required: required), let node else { return nil }
        if case .scalar(let scalar) = node {
            switch YAMLScalarValue(scalar) {
            case .int(let value): return .number(value)
            case .string(let value): return .name(value)
            case .bigInt(let text):
                error("integer \(text) is out of range")
                return nil
            default: break
            }
        }
        error("expected an integer or a string, got \(Self.describe(node))")
        return nil
    }

    /// A sequence of strings.
    func stringList(required: Bool = false, minItems: Int = 0, maxItems: Int? = nil) -> [String]? {
        guard let elements = sequence(required: required, minItems: minItems, maxItems: maxItems) else { return nil }
        var ok = true
        let values = elements.compactMap { element -> String? in
            let value = element.string(required: true)
            if value == nil { ok = false }
            return value
        }
        return ok ? values : nil
    }

    /// The entries of this mapping in document order (merge keys expanded), each key as written.
    func entries(required: Bool = false) -> [(key: String, value: YAMLCursor)]? {
        guard let map = mapping(required: required), case .mapping(let mapping)? = map.node else { return nil }
        var seen = Set<String>()
        var result: [(key: String, value: YAMLCursor)] = []
        Self.collectEntries(of: mapping, depth: 0, seen: &seen) { keyNode, value in
            guard case .scalar(let scalar) = keyNode else {
                error("expected string keys, got \(Self.describe(keyNode)) as a key")
                return
            }
            result.append((scalar.string, YAMLCursor(value, path: Self.join(path, scalar.string), diagnostics: diagnostics)))
        }
        return result
    }

    /// A mapping of strings to strings (labels, annotations, selectors).
    func stringMap(required: Bool = false) -> [String: String]? {
        guard let entries = entries(required: required) else { return nil }
        var result: [String: String] = [:]
        for (key, value) in entries {
            // Kubernetes turns null values in these maps into empty strings.
            if value.isNull { result[key] = ""; continue }
            if let string = value.string() { result[key] = string }
        }
        return result
    }

    // MARK: - Helpers

    private func checkPresence(required: Bool) -> Bool {
        if isNull {
            if required { error("required field is missing") }
            return false
        }
        return true
    }

    /// `path.key`, or `path["key"]` when the key is not a plain identifier.
    static func join(_ path: String, _ key: String) -> String {
        let simple = !key.isEmpty && key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if simple { return path.isEmpty ? key : "\(path).\(key)" }
        let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\(path)[\"\(escaped)\"]"
    }

    /// How a node appears in a type error: `a string "abc"`, `an integer 5`, `a mapping`.
    static func describe(_ node: Yams.Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch YAMLScalarValue(scalar) {
            case .null: return "null"
            case .bool(let value): return "a boolean \(value)"
            case .int(let value): return "an integer \(value)"
            case .bigInt(let text): return "an integer \(text)"
            case .float(let text): return "a number \(text)"
            case .string(let text): return "a string \(quote(text))"
            }
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .alias: return "an alias"
        }
    }

    /// `text` in double quotes, shortened to 64 characters, with control characters escaped.
    static func quote(_ text: String) -> String {
        var shown = text.count > 64 ? String(text.prefix(61)) + "..." : text
        shown = shown.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { return "\\u{\(String(scalar.value, radix: 16))}" }
                return String(scalar)
            }
        }.joined()
        return "\"\(shown)\""
    }

    private static let maxMergeDepth = 32

    private static func isMergeKey(_ node: Yams.Node) -> Bool {
        if case .scalar(let scalar) = node, scalar.string == "<<", scalar.style == .plain || scalar.style == .any {
            return true
        }
        return false
    }

    /// The value of `key` in a mapping: its own entries first, then those of merged mappings.
    private static func lookup(_ key: String, in node: Yams.Node?, depth: Int) -> Yams.Node? {
        guard case .mapping(let mapping)? = node else { return nil }
        var merges: [Yams.Node] = []
        for (keyNode, value) in mapping {
            if case .scalar(let scalar) = keyNode, scalar.string == key, !isMergeKey(keyNode) { return value }
            if isMergeKey(keyNode) { merges.append(value) }
        }
        guard depth < maxMergeDepth else { return nil }
        for merge in merges {
            switch merge {
            case .mapping:
                if let found = lookup(key, in: merge, depth: depth + 1) { return found }
            case .sequence(let sources):
                for source in sources {
                    if let found = lookup(key, in: source, depth: depth + 1) { return found }
                }
            default:
                break
            }
        }
        return nil
    }

    private static func collectEntries(of mapping: Yams.Node.Mapping, depth: Int, seen: inout Set<String>,
                                       _ body: (Yams.Node, Yams.Node) -> Void) {
        var merges: [Yams.Node] = []
        for (keyNode, value) in mapping {
            if isMergeKey(keyNode) { merges.append(value); continue }
            if case .scalar(let scalar) = keyNode {
                guard seen.insert(scalar.string).inserted else { continue }
            }
            body(keyNode, value)
        }
        guard depth < maxMergeDepth else { return }
        for merge in merges {
            switch merge {
            case .mapping(let source):
                collectEntries(of: source, depth: depth + 1, seen: &seen, body)
            case .sequence(let sources):
                for case .mapping(let source) in sources {
                    collectEntries(of: source, depth: depth + 1, seen: &seen, body)
                }
            default:
                break
            }
        }
    }
}
