/// The switchyard part of a nat table as `iptables-save -t nat` prints it: our chains, their
/// rules, and every rule elsewhere that jumps into one of them. Parsing is pure; the text
/// comes from `IPTablesApplier`.
public struct IPTablesInstalledRules: Sendable, Hashable {
    /// One rule line as saved.
    public struct SavedRule: Sendable, Hashable, CustomStringConvertible {
        /// The chain it is in.
        public var chain: String
        /// The line as saved: `-A CHAIN ...`.
        public var description: String
        /// The words after `-A CHAIN`, unquoted.
        var words: [String]

        /// `-D CHAIN ...`: deletes this rule (iptables-restore matches it by specification).
        var deleteLine: String { "-D" + description.dropFirst(2) }
    }

    /// Our chains (`SWITCHYARD_…`), in the order iptables-save lists them.
    public var chains: [String] = []
    /// The rules in our chains.
    public var rules: [SavedRule] = []
    /// Rules in other chains (the built-in ones, normally) whose target is one of our chains.
    public var jumps: [SavedRule] = []

    /// Nothing of ours is installed.
    public var isEmpty: Bool { chains.isEmpty && rules.isEmpty && jumps.isEmpty }

    /// Nothing installed.
    public init() {}

    /// Reads the `*nat` section of `iptables-save` output (the whole output when there is no
    /// table header, as with `-t nat`). Comments, counters and other tables are ignored.
    public init(parsing saveOutput: String) {
        var table: Substring?
        for line in saveOutput.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("*") {
                table = line.dropFirst()
            } else if table != nil && table != "nat" {
                continue
            } else if line.hasPrefix(":") {
                let name = line.dropFirst().prefix { $0 != " " }
                if name.hasPrefix(IPTablesPlan.chainPrefix) { chains.append(String(name)) }
            } else if line.hasPrefix("-A ") {
                let all = IPTablesRule.words(of: line)
                guard all.count >= 2 else { continue }
                let rule = SavedRule(chain: all[1], description: String(line), words: Array(all.dropFirst(2)))
                if rule.chain.hasPrefix(IPTablesPlan.chainPrefix) {
                    rules.append(rule)
                } else if let target = Self.target(of: rule.words), target.hasPrefix(IPTablesPlan.chainPrefix) {
                    jumps.append(rule)
                }
            }
        }
    }

    /// The `iptables-restore --noflush` input that removes everything of ours: the jumps, then
    /// our chains emptied and deleted. Nil when nothing is installed.
    public var removalInput: String? {
        guard !isEmpty else { return nil }
        let lines = ["*nat"] + jumps.map(\.deleteLine) + chains.map { "-F \($0)" } + chains.map { "-X \($0)" } + ["COMMIT"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// What `show` prints: our chains as declared, the jumps into them, then their rules, in
    /// iptables-save form. Empty when nothing is installed.
    public var text: String {
        let lines = chains.map { ":\($0) - [0:0]" } + jumps.map(\.description) + rules.map(\.description)
        return lines.map { $0 + "\n" }.joined()
    }

    /// The chain a rule's last `-j` or `-g` names.
    private static func target(of words: [String]) -> String? {
        guard let index = words.lastIndex(where: { $0 == "-j" || $0 == "-g" }), index + 1 < words.count else { return nil }
        return words[index + 1]
    }
}
