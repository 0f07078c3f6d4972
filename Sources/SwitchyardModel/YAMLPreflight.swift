import Yams

/// Checks that bound the work a YAML file can cause before its documents are decoded.
///
/// - Nesting depth and the number of nodes (counting every expansion of an alias) are
///   checked on each composed document with an explicit stack, so a deep or "billion laughs"
///   document is refused instead of exhausting the stack or the CPU. The node budget of a file
///   is twice its size in bytes plus 1 024: every node of an alias-free document takes at
///   least one byte, so only alias expansion can exceed it.
/// - Yams hashes mapping keys while composing; an alias used as a key would be hashed
///   expanded, so a file that defines anchors is first scanned for aliases in key position.
enum YAMLPreflight {
    /// A problem found by a preflight check.
    struct Violation: Error {
        var message: String
    }

    /// Node budget for a file of `byteCount` bytes.
    static func nodeBudget(forFileBytes byteCount: Int) -> Int { 2 * byteCount + 1024 }

    /// Walks `root`; returns a violation when it nests deeper than `maxDepth` or visits more
    /// than `budget` nodes, and otherwise subtracts the nodes it visited from `budget`.
    static func check(_ root: Yams.Node, maxDepth: Int, budget: inout Int) -> Violation? {
        var stack: [(Yams.Node, Int)] = [(root, 1)]
        while let (node, depth) = stack.popLast() {
            budget -= 1
            if budget < 0 {
                return Violation(message: "the file expands to too many YAML nodes (anchors and aliases may not expand beyond the size of the file)")
            }
            switch node {
            case .scalar, .alias:
                continue
            case .mapping(let mapping):
                if depth > maxDepth { return Violation(message: "nesting is deeper than \(maxDepth) levels") }
                for (key, value) in mapping {
                    stack.append((key, depth + 1))
                    stack.append((value, depth + 1))
                }
            case .sequence(let sequence):
                if depth > maxDepth { return Violation(message: "nesting is deeper than \(maxDepth) levels") }
                for element in sequence { stack.append((element, depth + 1)) }
            }
        }
        return nil
    }

    /// The 1-based line of the first alias used as a mapping key (`*name:` or `? *name`),
    /// when the text defines anchors at all. A lexical scan: it does not know about quoted
    /// or block scalars, so text spelling an alias key inside one is refused too.
    static func aliasKeyLine(in text: String) -> (line: Int, alias: String)? {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "&")), bytes.contains(UInt8(ascii: "*")) else { return nil }
        func isNameByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        func isBreak(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }
        var line = 1
        var i = 0
        var inComment = false
        while i < bytes.count {
            let byte = bytes[i]
            if isBreak(byte) {
                if byte == UInt8(ascii: "\n") { line += 1 }
                inComment = false
                i += 1
                continue
            }
            if inComment { i += 1; continue }
            let previous: UInt8? = i > 0 ? bytes[i - 1] : nil
            let atTokenStart = previous.map { isSpace($0) || isBreak($0) || "[{,?".utf8.contains($0) } ?? true
            if byte == UInt8(ascii: "#"), atTokenStart {
                inComment = true
                i += 1
                continue
            }
            guard byte == UInt8(ascii: "*"), atTokenStart else { i += 1; continue }
            var end = i + 1
            while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
            guard end > i + 1 else { i += 1; continue }
            let alias = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
            // `? *alias`: an explicit key.
            var back = i - 1
            while back >= 0, isSpace(bytes[back]) { back -= 1 }
            if back >= 0, bytes[back] == UInt8(ascii: "?"), back == 0 || isSpace(bytes[back - 1]) || isBreak(bytes[back - 1])
                || "[{,".utf8.contains(bytes[back - 1]) {
                return (line, alias)
            }
            // `*alias :` followed by a space, a line break, the end or a flow indicator: an implicit key.
            var next = end
            while next < bytes.count, isSpace(bytes[next]) { next += 1 }
            if next < bytes.count, bytes[next] == UInt8(ascii: ":") {
                let after = next + 1
                if after == bytes.count || isSpace(bytes[after]) || isBreak(bytes[after]) || ",]}".utf8.contains(bytes[after]) {
                    return (line, alias)
                }
            }
            i = end
        }
        return nil
    }
}
