import Yams

/// Small, order-preserving accessors over a composed YAML tree (`Yams.Node`).
///
/// The case file is read as a node tree rather than decoded into dictionaries so that the
/// order of header maps survives (it is the order the harness sends them in) and so that
/// manifests can be located by line and column when their parent references are rewritten.
extension Yams.Node {
    /// The value under `key` when this is a mapping (keys compared as plain strings).
    subscript(key key: String) -> Yams.Node? {
        guard let mapping else { return nil }
        for (k, v) in mapping where k.scalar?.string == key { return v }
        return nil
    }

    /// The scalar's text, or nil for mappings, sequences and nulls written as `~`/`null`/nothing.
    var text: String? {
        guard let scalar else { return nil }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
        return scalar.string
    }

    /// The scalar as an integer.
    var integer: Int? { scalar.flatMap { Int($0.string) } }

    /// The elements when this is a sequence; empty otherwise.
    var items: [Yams.Node] { sequence.map(Array.init) ?? [] }

    /// The key/value pairs, in document order, when this is a mapping; empty otherwise.
    var pairs: [(key: String, value: Yams.Node)] {
        mapping.map { $0.map { (key: $0.key.scalar?.string ?? "", value: $0.value) } } ?? []
    }

    /// A mapping of strings to strings, in document order.
    var stringPairs: [(name: String, value: String)] {
        pairs.map { (name: $0.key, value: $0.value.scalar?.string ?? "") }
    }

    /// A scalar or a sequence of scalars, as strings.
    var stringList: [String] {
        if let s = text { return [s] }
        return items.compactMap(\.text)
    }
}
