/// One family's part of a plan: our chains in the order they are declared, their rules in
/// order, and the jumps from the built-in chains into them.
public struct IPTablesRuleSet: Sendable, Hashable {
    /// Our chains (`SWITCHYARD_…`), declared (and so emptied) by every install.
    public var chains: [String]
    /// The rules of our chains, chain by chain, each in its order.
    public var rules: [IPTablesRule]
    /// One rule per built-in chain, commented `switchyard`, jumping to our chain for it;
    /// inserted at the top of the built-in chain when missing.
    public var jumps: [IPTablesRule]

    /// A rule set from its parts (plans build theirs with `IPTablesPlan.ruleSet(for:)`).
    public init(chains: [String], rules: [IPTablesRule], jumps: [IPTablesRule]) {
        self.chains = chains
        self.rules = rules
        self.jumps = jumps
    }

    /// The `iptables-restore --noflush` input that leaves the nat table holding exactly this
    /// rule set (and whatever else it holds that is not ours), given what is `installed`:
    ///
    /// 1. `:CHAIN - [0:0]` for each of our chains (creates it, or empties an existing one);
    /// 2. `-D` for every jump into a `SWITCHYARD_` chain that is not one of ours, or repeats one;
    /// 3. `-F` then `-X` for every `SWITCHYARD_` chain this rule set does not have (left by
    ///    another mode or version);
    /// 4. the rules;
    /// 5. `-I BUILTIN 1 ...` for each of our jumps not installed yet.
    ///
    /// iptables-restore applies it in one transaction, so the table is never half done.
    public func restoreInput(over installed: IPTablesInstalledRules) -> String {
        var lines = ["*nat"]
        lines += chains.map { ":\($0) - [0:0]" }
        var missing = jumps
        for jump in installed.jumps {
            if let index = missing.firstIndex(where: { $0.chain == jump.chain && $0.words == jump.words }) {
                missing.remove(at: index)
            } else {
                lines.append(jump.deleteLine)
            }
        }
        let stale = installed.chains.filter { !chains.contains($0) }
        lines += stale.map { "-F \($0)" }
        lines += stale.map { "-X \($0)" }
        lines += rules.map(\.description)
        lines += missing.map { "-I \($0.chain) 1 \($0.specification)" }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }
}
