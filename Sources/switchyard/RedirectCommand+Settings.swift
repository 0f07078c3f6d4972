#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardInterception
import SwitchyardModel

/// `switchyard redirect`'s options, checked and turned into typed values: the plan to install,
/// and the backend and families to install it with. Every problem is collected, each naming
/// its flag (`--skip-inbound-ports "22,x": ...`), as `switchyard run` reports its settings.
struct RedirectSettings {
    enum Mode: String, CaseIterable { case node, sidecar }

    var mode: Mode = .node
    var backend: IPTablesBackend = .nft
    var families: [IPTablesFamily] = [.ipv4]
    var ports = IPTablesPorts()
    var proxyUID: UInt32?
    var skipInboundPorts: [ClosedRange<UInt16>] = []
    var skipOutboundPorts: [ClosedRange<UInt16>] = []
    var socketMark = IPTablesPlan.defaultSocketMark
    /// Node mode: the meshed pods of `--node` in `--manifests`.
    var meshedPodIPs: [IPAddress] = []

    /// Every problem found, in the order of the options.
    struct Invalid: Error {
        var problems: [String]
    }

    /// The user whose uid is the default `--proxy-uid`.
    static let proxyUser = "switchyard"

    var modeName: String { mode.rawValue }

    /// The rules for these settings.
    func plan() -> IPTablesPlan {
        switch mode {
        case .node:
            .node(meshedLocalPodIPs: meshedPodIPs, ports: ports, socketMark: socketMark,
                  skipInboundPorts: skipInboundPorts, skipOutboundPorts: skipOutboundPorts)
        case .sidecar:
            .sidecar(proxyUID: proxyUID ?? 0, ports: ports,
                     skipInboundPorts: skipInboundPorts, skipOutboundPorts: skipOutboundPorts)
        }
    }

    func applier() -> IPTablesApplier {
        IPTablesApplier(backend: backend, families: families)
    }

    /// Checks `command`'s options. What only `install` needs (the proxy uid, the manifests) is
    /// required and read only for `install`. Runs the iptables tools to detect the backend
    /// (`--backend auto`) and whether IPv6 works (no `--ipv6`/`--no-ipv6`), with a note on
    /// standard error for each choice made.
    static func resolve(_ command: RedirectCommand) throws(Invalid) -> RedirectSettings {
        var settings = RedirectSettings()
        var problems: [String] = []
        var notes: [String] = []
        func parse<T>(_ flag: String, _ text: String?, _ parser: (String) throws(RunSettings.Refusal) -> T) -> T? {
            guard let text else { return nil }
            do {
                return try parser(text)
            } catch {
                problems.append("\(flag) \"\(text)\": \(error.reason)")
                return nil
            }
        }

        settings.mode = parse("--mode", command.mode, parseMode) ?? .node
        let backend: IPTablesBackend? = parse("--backend", command.backend, parseBackend) ?? nil
        settings.ports = IPTablesPorts(
            outbound: parse("--outbound-port", command.outboundPort, RunSettings.parsePort) ?? settings.ports.outbound,
            inbound: parse("--inbound-port", command.inboundPort, RunSettings.parsePort) ?? settings.ports.inbound,
            admin: parse("--admin-port", command.adminPort, RunSettings.parsePort) ?? settings.ports.admin)
        if Set([settings.ports.outbound, settings.ports.inbound, settings.ports.admin]).count < 3 {
            problems.append("--outbound-port, --inbound-port and --admin-port must be three different ports "
                            + "(got \(settings.ports.outbound), \(settings.ports.inbound), \(settings.ports.admin))")
        }
        settings.proxyUID = parse("--proxy-uid", command.proxyUID, parseUID)
        settings.skipInboundPorts = parse("--skip-inbound-ports", command.skipInboundPorts, parsePorts) ?? []
        settings.skipOutboundPorts = parse("--skip-outbound-ports", command.skipOutboundPorts, parsePorts) ?? []
        settings.socketMark = parse("--socket-mark", command.socketMark, parseMark) ?? settings.socketMark

        if command.action == .install {
            problems += settings.checkModeOptions(command, notes: &notes)
            if problems.isEmpty, settings.mode == .node, let manifests = command.manifests, let node = command.node {
                do {
                    let snapshot = try ManifestLoader().load(directory: manifests)
                    settings.meshedPodIPs = snapshot.meshedPodIPs(onNode: node)
                    if settings.meshedPodIPs.isEmpty { notes.append("no meshed pod on node \(node) in \(manifests)") }
                } catch let errors as ManifestErrors {
                    problems += errors.errors.map { "\($0)" }
                    problems.append("\(manifests): \(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s"); nothing installed")
                } catch {
                    problems.append("--manifests \"\(manifests)\": \(error)")
                }
            }
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        for note in notes { printError("note: \(note)") }

        if let backend {
            settings.backend = backend
        } else {
            let detection = IPTablesBackend.detect()
            settings.backend = detection.backend
            printError("note: iptables backend \(detection)")
        }
        let ipv6Works = IPTablesApplier.ipv6Works(backend: settings.backend)
        switch command.ipv6 {
        case true?:
            guard ipv6Works else {
                throw Invalid(problems: ["--ipv6: \(settings.backend.restoreProgram(.ipv6)) cannot program an IPv6 nat table here "
                                         + "(no IPv6 in the kernel, the tool missing, or `\(settings.backend.saveProgram(.ipv6)) -t nat` failing)"])
            }
            settings.families = [.ipv4, .ipv6]
        case false?:
            settings.families = [.ipv4]
        case nil:
            settings.families = ipv6Works ? [.ipv4, .ipv6] : [.ipv4]
            if !ipv6Works { printError("note: IPv6 left out: \(settings.backend.restoreProgram(.ipv6)) does not work here") }
        }
        return settings
    }

    /// What `install` requires of each mode, and the options the other mode does not take.
    /// Adds to `notes` what is worth saying when nothing is wrong.
    private mutating func checkModeOptions(_ command: RedirectCommand, notes: inout [String]) -> [String] {
        var problems: [String] = []
        switch mode {
        case .node:
            if command.proxyUID != nil { problems.append("--proxy-uid applies to sidecar mode only") }
            switch (command.manifests, command.node) {
            case (nil, nil):
                notes.append("no --manifests and --node: no pod is meshed, so nothing is redirected yet")
            case (_?, nil): problems.append("--manifests needs --node (which node's meshed pods to redirect)")
            case (nil, _?): problems.append("--node needs --manifests (where the pods are found)")
            case (_?, _?): break
            }
        case .sidecar:
            let nodeOnly = [("--socket-mark", command.socketMark), ("--manifests", command.manifests), ("--node", command.node)]
            for case (let flag, _?) in nodeOnly { problems.append("\(flag) applies to node mode only") }
            if proxyUID == nil && command.proxyUID == nil {
                if let uid = Self.uid(ofUser: Self.proxyUser) {
                    proxyUID = uid
                } else {
                    problems.append("--proxy-uid is required in sidecar mode (there is no user \(Self.proxyUser) to take it from)")
                }
            }
        }
        return problems
    }

    static func uid(ofUser name: String) -> UInt32? {
        getpwnam(name).map { UInt32($0.pointee.pw_uid) }
    }

    static func parseMode(_ text: String) throws(RunSettings.Refusal) -> Mode {
        guard let mode = Mode(rawValue: text) else {
            throw RunSettings.Refusal("must be one of \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    /// `auto` (nil: detect), `nft` or `legacy`.
    static func parseBackend(_ text: String) throws(RunSettings.Refusal) -> IPTablesBackend? {
        if text == "auto" { return nil }
        guard let backend = IPTablesBackend(rawValue: text) else {
            throw RunSettings.Refusal("must be one of auto, \(IPTablesBackend.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return backend
    }

    /// A numeric user id (not a name: a sidecar image may lack the user).
    static func parseUID(_ text: String) throws(RunSettings.Refusal) -> UInt32 {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let uid = UInt32(text), uid != UInt32.max
        else { throw RunSettings.Refusal("must be a numeric user id from 0 to \(UInt32.max - 1)") }
        return uid
    }

    /// `22,8000-8100`, as `--opaque-ports` is written; empty for none.
    static func parsePorts(_ text: String) throws(RunSettings.Refusal) -> [ClosedRange<UInt16>] {
        try RunSettings.parseOpaquePorts(text).ranges
    }

    /// `0x5359` or decimal; not 0 (which every unmarked packet has).
    static func parseMark(_ text: String) throws(RunSettings.Refusal) -> UInt32 {
        let lower = text.lowercased()
        let mark = lower.hasPrefix("0x") ? UInt32(lower.dropFirst(2), radix: 16) : UInt32(lower, radix: 10)
        guard let mark, mark != 0, !lower.contains("+"), !lower.contains("-") else {
            throw RunSettings.Refusal("must be a socket mark from 1 to 0xffffffff, in hexadecimal (0x5359) or decimal")
        }
        return mark
    }
}
