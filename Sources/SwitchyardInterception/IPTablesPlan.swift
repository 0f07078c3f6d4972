/// The redirect rules as data: what `switchyard redirect install` puts in the nat table, for one
/// mode, before anything is run. Pure: building a plan and rendering it touch nothing.
///
/// Every rule lives in chains of our own (`SWITCHYARD_…`), each reached from a built-in chain
/// by one jump rule commented `switchyard`, inserted first so that it runs before kube-proxy's
/// DNAT of ClusterIPs. Every rule carries a comment. docs/interception.md ("Redirect rules")
/// shows the rules of both modes.
///
/// ```swift
/// let plan = IPTablesPlan.node(meshedLocalPodIPs: [IPAddress("10.244.1.10")!])
/// print(plan.render(family: .ipv4))   // iptables-restore --noflush input
/// try IPTablesApplier(backend: .nft).install(plan)
/// ```
public struct IPTablesPlan: Sendable, Hashable {
    /// What the rules redirect, and what they leave alone.
    public enum Mode: Sendable, Hashable {
        /// On the node (the default): TCP from the meshed local pods (by source address) to the
        /// outbound port, then TCP to them (by destination address) to the inbound port; packets
        /// carrying `socketMark` (the daemon's upstream sockets) are never redirected.
        case node(meshedLocalPodIPs: [IPAddress], socketMark: UInt32)
        /// In one pod's network namespace (Linkerd's proxy-init): all inbound TCP to the inbound
        /// port, all outbound TCP to the outbound port, except the proxy's own sockets (owner
        /// `proxyUID`) and loopback.
        case sidecar(proxyUID: UInt32)
    }

    /// The mode and what it depends on. A node plan keeps its pod addresses sorted, without
    /// repeats, IPv4-mapped ones as IPv4, so equal pod sets give equal plans.
    public let mode: Mode
    /// Where redirected traffic goes; the admin port is never redirected.
    public let ports: IPTablesPorts
    /// Destination ports of inbound traffic that is left alone (`--skip-inbound-ports`).
    public let skipInboundPorts: [ClosedRange<UInt16>]
    /// Destination ports of outbound traffic that is left alone (`--skip-outbound-ports`).
    public let skipOutboundPorts: [ClosedRange<UInt16>]

    /// The socket mark the daemon puts on its upstream sockets in node mode
    /// (`ProxyConfiguration.upstreamSocketMark`).
    public static let defaultSocketMark: UInt32 = 0x5359

    /// Every chain of ours starts with this.
    public static let chainPrefix = "SWITCHYARD_"
    /// Reached from `PREROUTING`: traffic arriving on an interface (both modes).
    public static let preroutingChain = "SWITCHYARD_PREROUTING"
    /// Reached from `OUTPUT`: traffic of local processes (sidecar mode).
    public static let outputChain = "SWITCHYARD_OUTPUT"
    /// Node mode: egress of a meshed pod, to the outbound port unless skipped.
    public static let nodeOutboundChain = "SWITCHYARD_NODE_OUTBOUND"
    /// Node mode: traffic for a meshed pod, to the inbound port unless skipped.
    public static let nodeInboundChain = "SWITCHYARD_NODE_INBOUND"
    /// The comment of the jump rules in the built-in chains.
    public static let jumpComment = "switchyard"

    /// A plan for node mode: `meshedLocalPodIPs` are the addresses of the meshed pods on this
    /// node (both families; each family's rules take its own). No pods gives empty dispatch
    /// (only the mark rule) with the jumps in place, ready for the next snapshot.
    public static func node(
        meshedLocalPodIPs: [IPAddress], ports: IPTablesPorts = IPTablesPorts(), socketMark: UInt32 = defaultSocketMark,
        skipInboundPorts: [ClosedRange<UInt16>] = [], skipOutboundPorts: [ClosedRange<UInt16>] = []
    ) -> IPTablesPlan {
        let pods = Set(meshedLocalPodIPs.map(\.unmapped)).sorted(by: Self.addressOrder)
        return IPTablesPlan(mode: .node(meshedLocalPodIPs: pods, socketMark: socketMark), ports: ports,
                            skipInboundPorts: skipInboundPorts, skipOutboundPorts: skipOutboundPorts)
    }

    /// A plan for sidecar mode, inside the pod's network namespace; `proxyUID` owns the
    /// proxy's sockets, whose traffic is never redirected.
    public static func sidecar(
        proxyUID: UInt32, ports: IPTablesPorts = IPTablesPorts(),
        skipInboundPorts: [ClosedRange<UInt16>] = [], skipOutboundPorts: [ClosedRange<UInt16>] = []
    ) -> IPTablesPlan {
        IPTablesPlan(mode: .sidecar(proxyUID: proxyUID), ports: ports,
                     skipInboundPorts: skipInboundPorts, skipOutboundPorts: skipOutboundPorts)
    }

    /// The chains and rules of one family's nat table.
    public func ruleSet(for family: IPTablesFamily) -> IPTablesRuleSet {
        switch mode {
        case .node(let pods, let mark):
            nodeRules(pods: pods.filter { IPTablesFamily(of: $0) == family }, mark: mark)
        case .sidecar(let uid):
            sidecarRules(proxyUID: uid)
        }
    }

    /// The `iptables-restore --noflush` input that installs this plan in a nat table holding no
    /// switchyard rules yet: declare (and so empty) our chains, fill them, insert the jumps.
    /// `IPTablesApplier` renders against what is installed instead (`IPTablesRuleSet.restoreInput(over:)`),
    /// so that a second install adds no second jump.
    public func render(family: IPTablesFamily) -> String {
        ruleSet(for: family).restoreInput(over: IPTablesInstalledRules())
    }

    /// IPv4 addresses first, then IPv6, each in numeric order.
    static func addressOrder(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x < y
        case (.v6(let x), .v6(let y)): x < y
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
