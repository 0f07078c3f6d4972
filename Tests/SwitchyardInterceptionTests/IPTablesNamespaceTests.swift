// The redirect rules applied for real: IPTablesApplier with iptables-restore inside a network
// namespace of the test's own (`sy-ipt-<pid>-<random>`, deleted when the test ends, pass or
// fail), once with the nft backend and once with legacy, IPv4 and IPv6. Every iptables command
// runs through `ip netns exec`; the root namespace's rules are never read or changed.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardInterception
import Testing
import SwitchyardTestSupport

@Suite("IPTablesApplier: install, install again, show, remove, in a network namespace", .dedicatedThread)
struct IPTablesNamespaceTests {
    static let prefix = "sy-ipt-\(getpid())"

    /// An applier whose tools run in `namespace`.
    static func applier(_ backend: IPTablesBackend, in namespace: NetworkNamespace,
                        families: [IPTablesFamily] = [.ipv4, .ipv6]) -> IPTablesApplier {
        IPTablesApplier(backend: backend, families: families,
                        runner: IPTablesCommandRunner(prefix: [NetworkNamespace.ip, "netns", "exec", namespace.name]))
    }

    /// `iptables-<backend>-save -t nat` in the namespace, without its `#` lines and counters.
    static func natTable(_ backend: IPTablesBackend, _ family: IPTablesFamily, in namespace: NetworkNamespace) throws -> String {
        try namespace.exec([backend.saveProgram(family), "-t", "nat"]).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .map { $0.hasPrefix(":") ? ($0.split(separator: " ").prefix(2).joined(separator: " ")) : String($0) }
            .joined(separator: "\n")
    }

    /// Both families' nat tables.
    static func natTables(_ backend: IPTablesBackend, in namespace: NetworkNamespace) throws -> String {
        try IPTablesFamily.allCases.map { "\($0):\n" + (try natTable(backend, $0, in: namespace)) }.joined(separator: "\n")
    }

    /// A rule that is not ours, in PREROUTING of both families: it must survive every install and remove.
    static func addForeignRule(_ backend: IPTablesBackend, in namespace: NetworkNamespace) throws {
        for family in IPTablesFamily.allCases {
            try namespace.exec(["\(family.command)-\(backend)", "-w", "5", "-t", "nat", "-A", "PREROUTING", "-p", "tcp",
                                "--dport", "9", "-m", "comment", "--comment", "not ours", "-j", "RETURN"])
        }
    }

    /// Cancels the running test (with the reason on standard error, which Swift Testing 6.3 does
    /// not print) when `backend` cannot program IPv6 nat in this kernel.
    static func requireIPv6(_ backend: IPTablesBackend, in namespace: NetworkNamespace) throws {
        let runner = IPTablesCommandRunner(prefix: [NetworkNamespace.ip, "netns", "exec", namespace.name])
        guard IPTablesApplier.ipv6Works(backend: backend, runner: runner) else {
            let reason = "IPv6 iptables test SKIPPED (\(backend)): \(backend.restoreProgram(.ipv6)) cannot program IPv6 nat here"
            FileHandle.standardError.write(Data("warning: \(reason)\n".utf8))
            try Test.cancel(Comment(rawValue: reason))
        }
    }

    /// The installed rules must read exactly as the plan renders them, chain by chain.
    static func expectInstalled(_ plan: IPTablesPlan, _ installed: IPTablesInstalledRules, _ family: IPTablesFamily,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let rules = plan.ruleSet(for: family)
        #expect(Set(installed.chains) == Set(rules.chains), "\(family)", sourceLocation: sourceLocation)
        #expect(installed.jumps.map(\.description) == rules.jumps.map(\.description), "\(family)", sourceLocation: sourceLocation)
        let byChain = Dictionary(grouping: installed.rules.map(\.description)) { $0.split(separator: " ")[1] }
        let planned = Dictionary(grouping: rules.rules.map(\.description)) { $0.split(separator: " ")[1] }
        #expect(byChain == planned, "\(family)", sourceLocation: sourceLocation)
    }

    static let nodePlan = IPTablesPlan.node(
        meshedLocalPodIPs: [IPAddress("10.244.1.10")!, IPAddress("10.244.1.20")!, IPAddress("fd00:244::10")!],
        skipInboundPorts: [22...22], skipOutboundPorts: [443...443, 8000...8100])

    @Test("node plan: install → rules as rendered, jump first; again → identical; show; remove → no trace; remove again → nothing to do",
          arguments: IPTablesBackend.allCases)
    func installTwiceRemove(backend: IPTablesBackend) async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { namespace in
            try Self.requireIPv6(backend, in: namespace)
            try Self.addForeignRule(backend, in: namespace)
            let before = try Self.natTables(backend, in: namespace)
            let applier = Self.applier(backend, in: namespace)

            try applier.install(Self.nodePlan)
            let once = try Self.natTables(backend, in: namespace)
            for family in IPTablesFamily.allCases {
                Self.expectInstalled(Self.nodePlan, try applier.installed(family), family)
                let table = try Self.natTable(backend, family, in: namespace)
                // Inserted before the rules already there (kube-proxy's, on a node).
                let prerouting = table.split(separator: "\n").filter { $0.hasPrefix("-A PREROUTING ") }
                #expect(prerouting == ["-A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING",
                                       "-A PREROUTING -p tcp -m tcp --dport 9 -m comment --comment \"not ours\" -j RETURN"])
            }
            #expect(once.contains("-A SWITCHYARD_PREROUTING -s fd00:244::10/128 -p tcp"))

            try applier.install(Self.nodePlan)
            #expect(try Self.natTables(backend, in: namespace) == once, "install twice must leave the same rules as once")

            let shown = try applier.show()
            #expect(shown.map(\.family) == [.ipv4, .ipv6])
            #expect(shown.first?.rules.text.contains("-A SWITCHYARD_PREROUTING -s 10.244.1.20/32 -p tcp") == true)

            #expect(try applier.remove() == [.ipv4, .ipv6])
            let after = try Self.natTables(backend, in: namespace)
            #expect(!after.contains("SWITCHYARD") && !after.contains("switchyard"), "\(after)")
            #expect(after == before, "remove must leave the table as it was")
            #expect(try applier.remove() == [])
            #expect(try applier.show().isEmpty)
        }
    }

    @Test("a changed plan replaces the old one: a new pod set (snapshot change), then sidecar mode (node chains deleted)",
          arguments: IPTablesBackend.allCases)
    func replace(backend: IPTablesBackend) async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { namespace in
            let applier = Self.applier(backend, in: namespace, families: [.ipv4])
            try applier.install(Self.nodePlan)
            let changed = IPTablesPlan.node(meshedLocalPodIPs: [IPAddress("10.244.1.30")!])
            try applier.install(changed)
            Self.expectInstalled(changed, try applier.installed(.ipv4), .ipv4)
            let table = try Self.natTable(backend, .ipv4, in: namespace)
            #expect(!table.contains("10.244.1.10") && table.contains("10.244.1.30/32"))

            let sidecar = IPTablesPlan.sidecar(proxyUID: 2102)
            try applier.install(sidecar)
            let installed = try applier.installed(.ipv4)
            Self.expectInstalled(sidecar, installed, .ipv4)
            #expect(installed.chains.sorted() == ["SWITCHYARD_OUTPUT", "SWITCHYARD_PREROUTING"])
            #expect(try applier.remove() == [.ipv4])
            #expect(!(try Self.natTable(backend, .ipv4, in: namespace)).contains("SWITCHYARD"))
        }
    }

    @Test("a failed restore throws with iptables-restore's own message and changes nothing")
    func failure() async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { namespace in
            let applier = Self.applier(.nft, in: namespace, families: [.ipv4])
            let input = IPTablesApplier.RestoreInput(
                family: .ipv4, command: ["iptables-nft-restore", "--noflush"],
                text: "*nat\n:SWITCHYARD_PREROUTING - [0:0]\n-A SWITCHYARD_PREROUTING -j SWITCHYARD_MISSING\nCOMMIT\n")
            do throws(IPTablesError) {
                try applier.apply(input)
                Issue.record("a jump to a missing chain must fail")
            } catch {
                let message = error.description
                #expect(message.contains("iptables-nft-restore"), "\(message)")
                #expect(message.contains("SWITCHYARD_MISSING"), "\(message)")
            }
            let shown = try applier.show()
            #expect(shown.isEmpty, "one transaction: the chain declared on line 2 was not created either")
        }
    }

    @Test("backend detection: nft when neither has rules; legacy when only legacy has some; the one with more rules wins")
    func detection() async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { namespace in
            let runner = IPTablesCommandRunner(prefix: [NetworkNamespace.ip, "netns", "exec", namespace.name])
            #expect(IPTablesBackend.detect(runner: runner) == IPTablesBackendDetection(nftRules: 0, legacyRules: 0))
            try namespace.exec(["iptables-legacy", "-w", "5", "-t", "nat", "-A", "OUTPUT", "-j", "RETURN"])
            #expect(IPTablesBackend.detect(runner: runner).backend == .legacy)
            try Self.addForeignRule(.nft, in: namespace)
            let both = IPTablesBackend.detect(runner: runner)
            #expect(both == IPTablesBackendDetection(nftRules: 2, legacyRules: 1))
            #expect(both.backend == .nft)
        }
    }
}
