import SwitchyardModel
import Yams

/// A test's manifest file split into its YAML documents, kept byte for byte.
struct ManifestFile {
    struct Document {
        /// The `---` line that opens it (with its newline), or "" for the first document.
        var separator: String
        var text: String
        /// The composed tree; nil for an empty document or one that does not parse (the loader
        /// then reports it).
        var node: Yams.Node?
        var kind: String? { node?[key: "kind"]?.text }
        var apiVersion: String? { node?[key: "apiVersion"]?.text }
    }

    var path: String
    var documents: [Document]

    init(path: String, yaml: String) {
        self.path = path
        var docs: [Document] = []
        var separator = ""
        var current = ""
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty() {
            if line == "---" || line.hasPrefix("--- ") || line.hasPrefix("---\t") {
                docs.append(Document(separator: separator, text: current))
                separator = line + "\n"
                current = ""
            } else {
                current += line + "\n"
            }
        }
        docs.append(Document(separator: separator, text: current))
        if !yaml.hasSuffix("\n"), !docs.isEmpty, docs[docs.count - 1].text.hasSuffix("\n") {
            docs[docs.count - 1].text.removeLast()
        }
        for i in docs.indices { docs[i].node = try? Yams.compose(yaml: docs[i].text) }
        documents = docs
    }

    /// The file again; identical to the input until documents are edited.
    var text: String { documents.map { $0.separator + $0.text }.joined() }

    /// The namespaces of the objects in the file.
    var namespaces: Set<String> {
        Set(documents.compactMap { $0.node?[key: "metadata"]?[key: "namespace"]?.text })
    }

    /// The Gateways the file defines.
    var gateways: [GatewayInfo] { documents.compactMap { $0.node.flatMap(GatewayInfo.init(document:)) } }

    /// Every HTTPRoute with the Gateways its parentRefs name (namespace defaulted to the route's).
    var routes: [RouteSummary] {
        documents.compactMap { doc in
            guard doc.kind == "HTTPRoute", let node = doc.node,
                  let name = node[key: "metadata"]?[key: "name"]?.text else { return nil }
            let ns = node[key: "metadata"]?[key: "namespace"]?.text ?? "default"
            let spec = node[key: "spec"]
            let refs = spec?[key: "parentRefs"]?.items.map { ParentRefSummary($0, routeNamespace: ns) } ?? []
            return RouteSummary(id: ResourceID(namespace: ns, name: name), parentRefs: refs,
                                hostnames: spec?[key: "hostnames"]?.stringList ?? [])
        }
    }
}

/// What the runner needs to know about a route before loading it.
struct RouteSummary {
    var id: ResourceID
    var parentRefs: [ParentRefSummary]
    var hostnames: [String]
}

struct ParentRefSummary {
    var group: String?
    var kind: String?
    var parent: ResourceID
    var port: Int?
    var sectionName: String?

    init(_ node: Yams.Node, routeNamespace: String) {
        group = node[key: "group"]?.scalar?.string
        kind = node[key: "kind"]?.text
        parent = ResourceID(namespace: node[key: "namespace"]?.text ?? routeNamespace, name: node[key: "name"]?.text ?? "")
        port = node[key: "port"]?.integer
        sectionName = node[key: "sectionName"]?.text
    }

    /// Gateway API defaults: group gateway.networking.k8s.io, kind Gateway.
    var isGateway: Bool {
        (kind ?? "Gateway") == "Gateway" && (group ?? "gateway.networking.k8s.io") == "gateway.networking.k8s.io"
    }
}

private extension Array where Element == String {
    /// `"a\n".split("\n")` yields a trailing ""; it is the file's final newline, not a line.
    func dropLastIfEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}

/// Rewrites a Gateway parentRef into the Service that stands in for that Gateway, in the text:
/// `group` -> `core`, `kind` -> `Service`, `port` -> the listener port, `sectionName` dropped.
/// Everything outside the rewritten parentRef mappings stays byte for byte.
///
/// The parentRef is located on the composed tree (line and column marks) and its mapping is
/// replaced by a new one that keeps its other keys (`name`, `namespace`) as written.
enum ParentRefRewriter {
    struct RewriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Rewrites every Gateway parentRef of every HTTPRoute in `file`. `listenerPort` answers the
    /// port for a parentRef (nil: leave it without a port, attaching to every Service port).
    static func rewrite(_ file: inout ManifestFile, listenerPort: (ParentRefSummary) -> Int?) throws {
        for d in file.documents.indices where file.documents[d].kind == "HTTPRoute" {
            guard let node = file.documents[d].node else { continue }
            let ns = node[key: "metadata"]?[key: "namespace"]?.text ?? "default"
            var edits: [(range: Range<Int>, text: String)] = []
            let source = Array(file.documents[d].text.unicodeScalars)
            let lines = lineStarts(source)
            for ref in node[key: "spec"]?[key: "parentRefs"]?.items ?? [] {
                let summary = ParentRefSummary(ref, routeNamespace: ns)
                guard summary.isGateway else { continue }
                edits.append(try replacement(for: ref, source: source, lines: lines, port: listenerPort(summary)))
            }
            guard !edits.isEmpty else { continue }
            var out = source
            for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
                out.replaceSubrange(edit.range, with: Array(edit.text.unicodeScalars))
            }
            var s = ""
            s.unicodeScalars.append(contentsOf: out)
            file.documents[d].text = s
            file.documents[d].node = try? Yams.compose(yaml: s)
        }
    }

    private static func lineStarts(_ source: [Unicode.Scalar]) -> [Int] {
        var starts = [0]
        for (i, c) in source.enumerated() where c == "\n" { starts.append(i + 1) }
        return starts
    }

    private static func offset(_ mark: Mark?, _ lines: [Int]) throws -> Int {
        guard let mark, mark.line - 1 < lines.count else { throw RewriteError(description: "no source position for a parentRef") }
        return lines[mark.line - 1] + mark.column - 1
    }

    /// The end (exclusive) of the scalar that starts at `start`.
    private static func scalarEnd(_ node: Yams.Node, start: Int, source: [Unicode.Scalar], inFlow: Bool) -> Int {
        var i = start
        switch node.scalar?.style {
        case .singleQuoted?:
            i += 1
            while i < source.count {
                if source[i] == "'" {
                    if i + 1 < source.count, source[i + 1] == "'" { i += 2; continue }
                    return i + 1
                }
                i += 1
            }
            return i
        case .doubleQuoted?:
            i += 1
            while i < source.count {
                if source[i] == "\\" { i += 2; continue }
                if source[i] == "\"" { return i + 1 }
                i += 1
            }
            return i
        default:
            while i < source.count, source[i] != "\n" {
                if source[i] == "#", i > start, source[i - 1] == " " || source[i - 1] == "\t" { break }
                if inFlow, source[i] == "," || source[i] == "}" { break }
                i += 1
            }
            while i > start, source[i - 1] == " " || source[i - 1] == "\t" { i -= 1 }
            return i
        }
    }

    private static func replacement(for ref: Yams.Node, source: [Unicode.Scalar], lines: [Int],
                                     port: Int?) throws -> (range: Range<Int>, text: String) {
        guard let mapping = ref.mapping else { throw RewriteError(description: "a parentRef that is not a mapping") }
        let start = try offset(mapping.mark, lines)
        let flow = mapping.style == .flow || source[start] == "{"
        var entries: [String] = []
        var end = start
        var seen = Set<String>()
        for (key, value) in mapping {
            guard let name = key.scalar?.string, value.scalar != nil else {
                throw RewriteError(description: "a parentRef with a non-scalar field")
            }
            seen.insert(name)
            let keyStart = try offset(key.mark, lines)
            let valueStart = try offset(value.mark, lines)
            let valueEnd = value.scalar!.string.isEmpty && value.scalar!.style == .plain
                ? valueStart : scalarEnd(value, start: valueStart, source: source, inFlow: flow)
            end = max(end, valueEnd)
            switch name {
            case "group": entries.append("group: core")
            case "kind": entries.append("kind: Service")
            case "port": entries.append("port: \(port.map(String.init) ?? (value.scalar?.string ?? ""))")
            case "sectionName": break
            default:
                var original = ""
                original.unicodeScalars.append(contentsOf: source[keyStart..<valueEnd])
                entries.append(original)
            }
        }
        if !seen.contains("group") { entries.append("group: core") }
        if !seen.contains("kind") { entries.append("kind: Service") }
        if !seen.contains("port"), let port { entries.append("port: \(port)") }
        if flow {
            var close = end
            while close < source.count, source[close] != "}" { close += 1 }
            return (start..<min(close + 1, source.count), "{" + entries.joined(separator: ", ") + "}")
        }
        let column = start - (lines.last { $0 <= start } ?? 0)
        let indent = String(repeating: " ", count: column)
        return (start..<end, entries.joined(separator: "\n" + indent))
    }
}
