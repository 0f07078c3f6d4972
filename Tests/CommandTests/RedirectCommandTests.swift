import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import SwitchyardTestSupport
#endif

/// `switchyard redirect` as a user runs it. Every run happens inside a network namespace of the
/// test's own (`sy-cmd-<pid>-<random>`, `ip netns exec`, deleted when the test ends), so that
/// not even a bug could change the root namespace's rules.
@Suite("switchyard redirect", .dedicatedThread)
struct RedirectCommandTests {
    /// A fresh namespace with `lo` up, for the length of `body`.
    static func inNamespace<T>(_ body: (String) throws -> T) throws -> T {
        try #require(geteuid() == 0, "the redirect command tests must run as root: they create network namespaces")
        let name = "sy-cmd-\(getpid())-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        _ = try program(["/usr/sbin/ip", "netns", "add", name])
        defer {
            let deleted = try? program(["/usr/sbin/ip", "netns", "delete", name])
            #expect(deleted?.status == 0, "could not delete network namespace \(name)")
        }
        _ = try program(["/usr/sbin/ip", "-n", name, "link", "set", "lo", "up"])
        return try body(name)
    }

    /// `switchyard ARGUMENTS...` inside `namespace`.
    static func redirect(_ arguments: [String], in namespace: String) throws -> CommandResult {
        try program(["/usr/sbin/ip", "netns", "exec", namespace, Switchyard.binary.path, "redirect"] + arguments)
    }

    /// A program inside `namespace` (its standard output, which must be there: exit 0).
    static func exec(_ arguments: [String], in namespace: String) throws -> String {
        let result = try program(["/usr/sbin/ip", "netns", "exec", namespace] + arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// Runs a program to completion, in the repository's root (for `examples/podinfo`).
    static func program(_ arguments: [String]) throws -> CommandResult {
        try CommandResult.run(arguments[0], Array(arguments.dropFirst()), directory: Switchyard.root)
    }

    /// Everything either backend holds in the namespace.
    static func allRules(in namespace: String) throws -> String {
        try exec(["/usr/sbin/nft", "list", "ruleset"], in: namespace) + exec(["/usr/sbin/iptables-legacy-save"], in: namespace)
            + exec(["/usr/sbin/ip6tables-legacy-save"], in: namespace)
    }

    @Test("install --mode sidecar --dry-run prints the iptables-restore input of each family and changes nothing")
    func dryRun() throws {
        try Self.inNamespace { namespace in
            let before = try Self.allRules(in: namespace)
            let r = try Self.redirect(["install", "--mode", "sidecar", "--dry-run", "--backend", "nft", "--proxy-uid", "2102",
                                       "--skip-inbound-ports", "22", "--skip-outbound-ports", "443,8000-8100"], in: namespace)
            #expect(r.status == 0, "\(r.stderr)")
            // The exact text is IPTablesPlanTests' business; here: both families, each a whole
            // iptables-restore input, with what the flags asked for.
            #expect(r.stdout.hasPrefix("# IPv4: iptables-nft-restore -w 5 --noflush\n*nat\n:SWITCHYARD_PREROUTING - [0:0]\n"), "\(r.stdout)")
            #expect(r.stdout.split(separator: "\n").count { $0 == "COMMIT" } == 2, "\(r.stdout)")
            for line in ["-A SWITCHYARD_OUTPUT -m owner --uid-owner 2102 -m comment",
                         "-A SWITCHYARD_PREROUTING -p tcp -m tcp --dport 22 -m comment --comment \"switchyard: skip inbound port 22\" -j RETURN\n",
                         "-A SWITCHYARD_OUTPUT -p tcp -m tcp --dport 8000:8100 -m comment",
                         "-A SWITCHYARD_OUTPUT -p tcp -m tcp --dport 443 -m comment",
                         "-j REDIRECT --to-ports 4140\n", "-j REDIRECT --to-ports 4143\n",
                         "-I OUTPUT 1 -m comment --comment switchyard -j SWITCHYARD_OUTPUT\n"] {
                #expect(r.stdout.contains(line), "\(line) in \(r.stdout)")
            }
            #expect(r.stdout.contains("# IPv6: ip6tables-nft-restore -w 5 --noflush\n*nat\n"), "\(r.stdout)")
            #expect(try Self.allRules(in: namespace) == before, "--dry-run must change nothing")
        }
    }

    @Test("node mode from the manifests: install (backend detected), install again, show, remove, show")
    func nodeLifecycle() throws {
        try Self.inNamespace { namespace in
            // examples/podinfo: frontend (10.244.1.10) on node-1; backend-a and -b (10.244.2.20, .30) on node-2.
            let install = ["install", "--mode", "node", "--manifests", "examples/podinfo", "--node", "node-2"]
            let dry = try Self.redirect(install + ["--dry-run"], in: namespace)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("-A SWITCHYARD_PREROUTING -s 10.244.2.20/32 -p tcp -m comment --comment \"switchyard: egress of meshed pod 10.244.2.20\" -j SWITCHYARD_NODE_OUTBOUND\n"))
            #expect(dry.stdout.contains("-A SWITCHYARD_PREROUTING -d 10.244.2.30/32 -p tcp"))
            #expect(!dry.stdout.contains("10.244.1.10"), "frontend is on node-1")

            let first = try Self.redirect(install, in: namespace)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "installed switchyard node rules, 2 meshed pod addresses (IPv4 and IPv6, iptables-nft)\n")
            #expect(first.stderr.contains("note: iptables backend nft (detected: 0 nft rules, 0 legacy rules)"))
            let once = try Self.exec(["/usr/sbin/iptables-nft-save", "-t", "nat"], in: namespace)
            let second = try Self.redirect(install, in: namespace)
            #expect(second.status == 0, "\(second.stderr)")
            let twice = try Self.exec(["/usr/sbin/iptables-nft-save", "-t", "nat"], in: namespace)
            func rules(_ save: String) -> [Substring] { save.split(separator: "\n").filter { !$0.hasPrefix("#") } }
            #expect(rules(twice) == rules(once), "install twice must leave the same rules as once")

            let show = try Self.redirect(["show"], in: namespace)
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.hasPrefix("# IPv4 nat table (iptables-nft-save)\n:SWITCHYARD_"), "\(show.stdout)")
            #expect(show.stdout.contains("-A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING\n"))
            #expect(show.stdout.contains("-s 10.244.2.30/32"))
            #expect(show.stdout.contains("# IPv6 nat table (ip6tables-nft-save)\n"))

            let dryRemove = try Self.redirect(["remove", "--dry-run"], in: namespace)
            #expect(dryRemove.status == 0, "\(dryRemove.stderr)")
            #expect(dryRemove.stdout.hasPrefix("""
                # IPv4: iptables-nft-restore -w 5 --noflush
                *nat
                -D PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING
                -F SWITCHYARD_NODE_INBOUND
                """), "\(dryRemove.stdout)")
            #expect(try Self.exec(["/usr/sbin/iptables-nft-save", "-t", "nat"], in: namespace).contains("SWITCHYARD"))

            let remove = try Self.redirect(["remove"], in: namespace)
            #expect(remove.status == 0 && remove.stdout == "removed switchyard rules (IPv4 and IPv6, iptables-nft)\n", "\(remove)")
            #expect(!(try Self.allRules(in: namespace)).contains("SWITCHYARD"))
            let empty = try Self.redirect(["show"], in: namespace)
            #expect(empty.status == 0 && empty.stdout == "no switchyard rules installed (IPv4 and IPv6, iptables-nft)\n", "\(empty)")
            let again = try Self.redirect(["remove"], in: namespace)
            #expect(again.status == 0 && again.stdout == "no switchyard rules installed (iptables-nft)\n", "\(again)")
        }
    }

    @Test("--backend auto picks legacy where the node's rules are legacy; --no-ipv6 leaves ip6tables alone")
    func detectsLegacy() throws {
        try Self.inNamespace { namespace in
            _ = try Self.exec(["/usr/sbin/iptables-legacy", "-w", "5", "-t", "nat", "-A", "OUTPUT", "-j", "RETURN"], in: namespace)
            let r = try Self.redirect(["install", "--mode", "sidecar", "--proxy-uid", "2102", "--no-ipv6"], in: namespace)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "installed switchyard sidecar rules (IPv4, iptables-legacy)\n")
            #expect(r.stderr.contains("legacy (detected: 0 nft rules, 1 legacy rules)"), "\(r.stderr)")
            #expect(try Self.exec(["/usr/sbin/iptables-legacy-save", "-t", "nat"], in: namespace).contains("-A OUTPUT -m comment --comment switchyard -j SWITCHYARD_OUTPUT"))
            #expect(!(try Self.exec(["/usr/sbin/nft", "list", "ruleset"], in: namespace)).contains("SWITCHYARD"))
            #expect(!(try Self.exec(["/usr/sbin/ip6tables-legacy-save"], in: namespace)).contains("SWITCHYARD"))
        }
    }

    @Test("an invalid option exits 1 naming the flag (every problem at once); a command line that does not parse exits 64")
    func badOptions() throws {
        try Self.inNamespace { namespace in
            let cases: [([String], [String])] = [
                (["install", "--mode", "pod", "--dry-run"], [#"--mode "pod": must be one of node, sidecar"#]),
                (["install", "--backend", "iptables", "--outbound-port", "0", "--skip-inbound-ports", "22,x", "--dry-run"],
                 [#"--backend "iptables": must be one of auto, nft, legacy"#, #"--outbound-port "0": must be a port from 1 to 65535"#,
                  #"--skip-inbound-ports "22,x": "#]),
                (["install", "--inbound-port", "4140", "--dry-run"], ["--outbound-port, --inbound-port and --admin-port must be three different ports"]),
                (["install", "--mode", "sidecar", "--proxy-uid", "me", "--dry-run"], [#"--proxy-uid "me": must be a numeric user id"#]),
                (["install", "--mode", "sidecar", "--proxy-uid", "1", "--node", "n", "--socket-mark", "0x1", "--dry-run"],
                 ["--socket-mark applies to node mode only", "--node applies to node mode only"]),
                (["install", "--proxy-uid", "1", "--dry-run"], ["--proxy-uid applies to sidecar mode only"]),
                (["install", "--manifests", "examples/podinfo", "--dry-run"], ["--manifests needs --node"]),
                (["install", "--socket-mark", "0", "--dry-run"], [#"--socket-mark "0": must be a socket mark from 1 to 0xffffffff"#]),
                (["install", "--manifests", "/nonexistent-sy-dir", "--node", "n", "--dry-run"], ["/nonexistent-sy-dir"]),
            ]
            for (arguments, messages) in cases {
                let r = try Self.redirect(arguments, in: namespace)
                #expect(r.status == 1, "\(arguments): \(r.stderr)")
                #expect(r.stdout.isEmpty, "\(arguments)")
                for message in messages {
                    #expect(r.stderr.contains("error: \(message)"), "\(arguments): \(r.stderr)")
                }
            }
            // Without --proxy-uid, sidecar mode takes the uid of user switchyard, and needs one when there is none.
            let defaultUID = try Self.redirect(["install", "--mode", "sidecar", "--dry-run", "--backend", "nft", "--no-ipv6"], in: namespace)
            if let user = getpwnam("switchyard") {
                #expect(defaultUID.status == 0 && defaultUID.stdout.contains("--uid-owner \(user.pointee.pw_uid) "), "\(defaultUID)")
            } else {
                #expect(defaultUID.status == 1, "\(defaultUID)")
                #expect(defaultUID.stderr.contains(
                    "error: --proxy-uid is required in sidecar mode (there is no user switchyard to take it from)"), "\(defaultUID)")
            }
            for arguments in [["install", "--frobnicate"], ["frobnicate"], [], ["install", "--mode"]] {
                let r = try Self.redirect(arguments, in: namespace)
                #expect(r.status == 64, "\(arguments): \(r.stderr)")
            }
            #expect(!(try Self.allRules(in: namespace)).contains("SWITCHYARD"))
        }
    }
}
