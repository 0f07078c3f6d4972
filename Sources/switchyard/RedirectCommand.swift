import ArgumentParser
import Foundation
import SwitchyardInterception

/// `switchyard redirect install|remove|show`: the iptables REDIRECT rules that send pod traffic
/// to the proxy, in the nat table, in chains of our own (`SWITCHYARD_…`). The rules are an
/// `IPTablesPlan` (`RedirectCommand+Settings.swift` builds it from the flags and, in node mode,
/// the manifests); `IPTablesApplier` applies it with iptables-restore. docs/interception.md
/// ("Redirect rules") is the reference.
///
/// Options are read as text and checked together, so every bad value is reported at once,
/// naming its flag, with exit status 1 (as `switchyard run` does); 64 is ArgumentParser's, for a
/// command line that cannot be parsed at all.
struct RedirectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redirect",
        abstract: "Install, remove or show the iptables rules that redirect pod traffic to the proxy.",
        discussion: """
            node mode (the default, run on the node): TCP from the meshed pods of --node (from --manifests) goes to \
            the outbound port, plaintext for them from elsewhere to the inbound port; the daemon's upstream sockets \
            (--socket-mark) are left alone. sidecar mode (run in the pod's network namespace): inbound TCP goes to \
            the inbound port, outbound TCP to the outbound port, except the proxy's own (--proxy-uid) and loopback. \
            The admin port and the --skip-*-ports are never redirected.

            Rules go in the nat table, in SWITCHYARD_* chains, with one iptables-restore --noflush per family \
            (IPv4, IPv6). install twice leaves the same rules as once; remove leaves no trace; --dry-run prints \
            the iptables-restore input and changes nothing.

            Exit status: 0 on success (show: whether or not rules are installed); 1 when an option is invalid or \
            iptables fails; 64 when the command line cannot be parsed.
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case install, remove, show
    }

    @Argument(help: ArgumentHelp("What to do with the rules.", valueName: "action"))
    var action: Action

    @Option(help: ArgumentHelp("node (on the node) or sidecar (in the pod's network namespace). Default: node.",
                               valueName: "mode"))
    var mode: String?

    @Flag(help: "Print the iptables-restore input for each family; change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("auto, nft or legacy. Default: auto (the backend that holds the node's rules; nft when none).",
                               valueName: "backend"))
    var backend: String?

    @Option(help: ArgumentHelp("Where outbound traffic is redirected. Default: 4140.", valueName: "port"))
    var outboundPort: String?

    @Option(help: ArgumentHelp("Where inbound traffic is redirected. Default: 4143.", valueName: "port"))
    var inboundPort: String?

    @Option(help: ArgumentHelp("The admin port, never redirected. Default: 4191.", valueName: "port"))
    var adminPort: String?

    @Option(name: .customLong("proxy-uid"),
            help: ArgumentHelp("Sidecar mode: the proxy's user id, whose traffic is not redirected. "
                               + "Default: the uid of user switchyard (required when there is none).", valueName: "uid"))
    var proxyUID: String?

    @Option(help: ArgumentHelp("Destination ports of inbound traffic not redirected: 22,8000-8100.", valueName: "list"))
    var skipInboundPorts: String?

    @Option(help: ArgumentHelp("Destination ports of outbound traffic not redirected: 443,6443.", valueName: "list"))
    var skipOutboundPorts: String?

    @Option(help: ArgumentHelp("Node mode: the SO_MARK of the daemon's upstream sockets, never redirected. Default: 0x5359.",
                               valueName: "mark"))
    var socketMark: String?

    @Option(help: ArgumentHelp("Node mode: the manifests directory, which says which pods are meshed (with --node).",
                               valueName: "dir"))
    var manifests: String?

    @Option(help: ArgumentHelp("Node mode: this node's name; its meshed pods are redirected (with --manifests).",
                               valueName: "name"))
    var node: String?

    @Flag(inversion: .prefixedNo, help: "Also program IPv6 (ip6tables). Default: when ip6tables-restore works here.")
    var ipv6: Bool?

    func run() throws {
        let settings: RedirectSettings
        do {
            settings = try RedirectSettings.resolve(self)
        } catch {
            for problem in error.problems { printError("error: \(problem)") }
            throw ExitCode(1)
        }
        do {
            try perform(settings)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// Runs the action with valid settings; iptables failures are thrown.
    private func perform(_ settings: RedirectSettings) throws(IPTablesError) {
        let applier = settings.applier()
        switch action {
        case .install:
            let plan = settings.plan()
            if dryRun {
                print(Self.dryRunText(Self.dryRunInputs(plan, applier)), terminator: "")
            } else {
                try applier.install(plan)
                let pods = settings.mode == .node ? ", \(settings.meshedPodIPs.count) meshed pod addresses" : ""
                print("installed switchyard \(settings.modeName) rules\(pods) (\(Self.familyList(applier.families)), iptables-\(applier.backend))")
            }
        case .remove:
            if dryRun {
                print(Self.dryRunText(try applier.removalInputs()), terminator: "")
            } else {
                let removed = try applier.remove()
                print(removed.isEmpty
                      ? "no switchyard rules installed (iptables-\(applier.backend))"
                      : "removed switchyard rules (\(Self.familyList(removed)), iptables-\(applier.backend))")
            }
        case .show:
            let shown = try applier.show()
            if shown.isEmpty {
                print("no switchyard rules installed (\(Self.familyList(applier.families)), iptables-\(applier.backend))")
            }
            for (family, rules) in shown {
                print("# \(family) nat table (\(applier.backend.saveProgram(family)))")
                print(rules.text, terminator: "")
            }
        }
    }

    /// The restore inputs, each under a comment naming its command (still valid
    /// iptables-restore input); a line saying so when there are none.
    static func dryRunText(_ inputs: [IPTablesApplier.RestoreInput]) -> String {
        if inputs.isEmpty { return "# nothing to do: no switchyard rules installed\n" }
        return inputs.map { "# \($0.family): \($0.command.joined(separator: " "))\n\($0.text)" }.joined()
    }

    /// What `install` would run now. When the installed rules cannot be read (not root), the
    /// input for a table without switchyard rules, with a note saying so.
    static func dryRunInputs(_ plan: IPTablesPlan, _ applier: IPTablesApplier) -> [IPTablesApplier.RestoreInput] {
        applier.families.map { family in
            var installed = IPTablesInstalledRules()
            do {
                installed = try applier.installed(family)
            } catch {
                printError("note: \(family): could not read the installed rules (\(error)); "
                           + "showing the input for a nat table without switchyard rules")
            }
            return applier.restoreInput(installing: plan, family: family, over: installed)
        }
    }

    static func familyList(_ families: [IPTablesFamily]) -> String {
        families.map(\.description).joined(separator: " and ")
    }
}
