/// One rule of a plan: its chain, what it matches, its comment and its target, written in the
/// order `iptables-save` prints them, so that a rendered rule and the installed one read the same.
public struct IPTablesRule: Sendable, Hashable, CustomStringConvertible {
    /// The chain the rule is in (`SWITCHYARD_PREROUTING`, or a built-in chain for a jump).
    public var chain: String
    /// The match words before the comment: `["-s", "10.244.1.10/32", "-p", "tcp"]`.
    public var match: [String]
    /// The comment every rule carries (`-m comment --comment ...`).
    public var comment: String
    /// The target words: `["-j", "REDIRECT", "--to-ports", "4140"]`.
    public var target: [String]

    /// A rule in `chain`: `match` words, then the comment, then `target` words.
    public init(chain: String, match: [String] = [], comment: String, target: [String]) {
        self.chain = chain
        self.match = match
        self.comment = comment
        self.target = target
    }

    /// The rule without its chain, as iptables-save writes it (the comment quoted when needed).
    public var specification: String {
        (match + ["-m", "comment", "--comment", Self.quoted(comment)] + target).joined(separator: " ")
    }

    /// The specification as separate words, unquoted (what a tokenized `iptables-save` line gives).
    var words: [String] {
        match + ["-m", "comment", "--comment", comment] + target
    }

    /// `-A CHAIN ...`: appends the rule; also the form `iptables-save` prints.
    public var description: String { "-A \(chain) \(specification)" }

    /// The chain a `-j`/`-g` target names, if any.
    var jumpTarget: String? {
        guard target.count >= 2, target[0] == "-j" || target[0] == "-g" else { return nil }
        return target[1]
    }

    /// A word as `iptables-save` writes a string argument: bare when it is only letters, digits,
    /// `_` and `-`, otherwise in double quotes with `"`, `\` and `'` escaped by a backslash
    /// (xtables_save_string). `iptables-restore` reads either form back.
    static func quoted(_ word: String) -> String {
        let bare = !word.isEmpty && word.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        if bare { return word }
        var text = "\""
        for character in word {
            if character == "\"" || character == "\\" || character == "'" { text.append("\\") }
            text.append(character)
        }
        return text + "\""
    }

    /// Splits an `iptables-save` rule line into words as `iptables-restore` does: on blanks,
    /// with double-quoted strings (backslash escapes inside) kept whole.
    static func words(of line: Substring) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if quoted {
                switch character {
                case "\\": escaped = true
                case "\"": quoted = false
                default: current.append(character)
                }
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                inWord = true
                if character == "\"" { quoted = true } else { current.append(character) }
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
