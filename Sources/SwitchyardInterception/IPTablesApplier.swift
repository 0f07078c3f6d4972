import Foundation

/// Puts an `IPTablesPlan` into the nat table, takes it out, and shows what is there, with one
/// backend's `iptables-save` and `iptables-restore --noflush` per family.
///
/// Each change is one `iptables-restore` transaction per family, computed from what
/// `iptables-save -t nat` shows just before (`IPTablesRuleSet.restoreInput(over:)`): installing
/// twice leaves the same rules as once, a new plan replaces the old one (chains of ours it no
/// longer has are deleted), and `remove` leaves nothing whose name starts with `SWITCHYARD`.
/// Rules that are not ours are never touched. The daemon calls `install` again whenever the
/// snapshot changes the plan.
///
/// Two families are two transactions: if the IPv6 one fails, the IPv4 one stays applied and the
/// error says which failed; running `install` again converges.
public struct IPTablesApplier: Sendable {
    /// The tools used: `iptables-<backend>-save`, `iptables-<backend>-restore` and the ip6tables ones.
    public var backend: IPTablesBackend
    /// The families changed and shown, in this order.
    public var families: [IPTablesFamily]
    /// How the tools are run (tests aim them at a network namespace).
    public var runner: IPTablesCommandRunner

    /// An applier for `backend`, changing `families` (both unless told), running the tools with `runner`.
    public init(backend: IPTablesBackend, families: [IPTablesFamily] = [.ipv4, .ipv6],
                runner: IPTablesCommandRunner = IPTablesCommandRunner()) {
        self.backend = backend
        self.families = families
        self.runner = runner
    }

    /// One `iptables-restore` run: which family, the command, and its exact input.
    public struct RestoreInput: Sendable, Hashable {
        /// The nat table it changes.
        public var family: IPTablesFamily
        /// `iptables-nft-restore --noflush` (without the runner's prefix).
        public var command: [String]
        /// The standard input given to it.
        public var text: String

        /// An input for `family`, run as `command`, reading `text`.
        public init(family: IPTablesFamily, command: [String], text: String) {
            self.family = family
            self.command = command
            self.text = text
        }
    }

    /// What `iptables-<backend>-save -t nat` shows of ours in `family`'s nat table.
    public func installed(_ family: IPTablesFamily) throws(IPTablesError) -> IPTablesInstalledRules {
        IPTablesInstalledRules(parsing: try runner.run(backend.saveProgram(family), ["-t", "nat"]))
    }

    /// The inputs `install(plan)` would give iptables-restore now, one per family; reads the
    /// installed rules but changes nothing (`--dry-run`).
    public func restoreInputs(installing plan: IPTablesPlan) throws(IPTablesError) -> [RestoreInput] {
        var inputs: [RestoreInput] = []
        for family in families {
            inputs.append(restoreInput(installing: plan, family: family, over: try installed(family)))
        }
        return inputs
    }

    /// The input that installs `plan` in `family`'s nat table when it holds `installed`. Pure.
    public func restoreInput(installing plan: IPTablesPlan, family: IPTablesFamily,
                             over installed: IPTablesInstalledRules) -> RestoreInput {
        RestoreInput(family: family, command: restoreCommand(family), text: plan.ruleSet(for: family).restoreInput(over: installed))
    }

    /// The inputs `remove()` would give iptables-restore now (none for a family with nothing of
    /// ours); changes nothing.
    public func removalInputs() throws(IPTablesError) -> [RestoreInput] {
        var inputs: [RestoreInput] = []
        for family in families {
            if let text = try installed(family).removalInput {
                inputs.append(RestoreInput(family: family, command: restoreCommand(family), text: text))
            }
        }
        return inputs
    }

    /// Makes each family's nat table hold exactly `plan`'s rules (and the jumps to them).
    public func install(_ plan: IPTablesPlan) throws(IPTablesError) {
        for input in try restoreInputs(installing: plan) {
            try apply(input)
        }
    }

    /// Removes every jump into a `SWITCHYARD_` chain and every such chain. Returns the families
    /// that had something to remove.
    @discardableResult
    public func remove() throws(IPTablesError) -> [IPTablesFamily] {
        let inputs = try removalInputs()
        for input in inputs {
            try apply(input)
        }
        return inputs.map(\.family)
    }

    /// What is installed, per family in `families` order; a family with nothing of ours is
    /// left out, so an empty answer means nothing is installed.
    public func show() throws(IPTablesError) -> [(family: IPTablesFamily, rules: IPTablesInstalledRules)] {
        var shown: [(family: IPTablesFamily, rules: IPTablesInstalledRules)] = []
        for family in families {
            let rules = try installed(family)
            if !rules.isEmpty { shown.append((family, rules)) }
        }
        return shown
    }

    /// Runs one restore input.
    public func apply(_ input: RestoreInput) throws(IPTablesError) {
        _ = try runner.run(input.command[0], Array(input.command.dropFirst()), input: input.text)
    }

    private func restoreCommand(_ family: IPTablesFamily) -> [String] {
        // -w: wait for the xtables lock (legacy) rather than fail when kube-proxy holds it.
        [backend.restoreProgram(family), "-w", "5", "--noflush"]
    }

    /// Whether this backend can program IPv6 nat here: the kernel has IPv6, the ip6tables tools
    /// are installed, and `ip6tables-<backend>-save -t nat` succeeds.
    public static func ipv6Works(backend: IPTablesBackend, runner: IPTablesCommandRunner = IPTablesCommandRunner()) -> Bool {
        guard FileManager.default.fileExists(atPath: "/proc/net/if_inet6"),
              IPTablesCommandRunner.exists(backend.restoreProgram(.ipv6))
        else { return false }
        return (try? runner.run(backend.saveProgram(.ipv6), ["-t", "nat"])) != nil
    }
}
