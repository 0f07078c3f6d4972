/// The rules of each mode (docs/interception.md, "Redirect rules").
extension IPTablesPlan {
    /// Node mode: `SWITCHYARD_PREROUTING` sends marked packets back, then dispatches by pod
    /// address: egress of each meshed pod to `SWITCHYARD_NODE_OUTBOUND`, then traffic for each
    /// meshed pod to `SWITCHYARD_NODE_INBOUND` (so a pod-to-pod connection on one node goes
    /// through the outbound side first). Nothing hooks `OUTPUT`: the node's own processes,
    /// the daemon included, are never redirected.
    func nodeRules(pods: [IPAddress], mark: UInt32) -> IPTablesRuleSet {
        let prerouting = Self.preroutingChain
        var rules = [IPTablesRule(
            chain: prerouting, match: ["-m", "mark", "--mark", "0x" + String(mark, radix: 16)],
            comment: "switchyard: skip the daemon upstream sockets (mark 0x\(String(mark, radix: 16)))",
            target: ["-j", "RETURN"])]
        rules += pods.map {
            IPTablesRule(chain: prerouting, match: ["-s", IPTablesFamily.host($0), "-p", "tcp"],
                         comment: "switchyard: egress of meshed pod \($0)", target: ["-j", Self.nodeOutboundChain])
        }
        rules += pods.map {
            IPTablesRule(chain: prerouting, match: ["-d", IPTablesFamily.host($0), "-p", "tcp"],
                         comment: "switchyard: to meshed pod \($0)", target: ["-j", Self.nodeInboundChain])
        }
        rules += skipRules(Self.nodeOutboundChain, direction: "outbound", skip: skipOutboundPorts)
        rules.append(redirect(Self.nodeOutboundChain, to: ports.outbound, comment: "switchyard: to the outbound listener"))
        rules += skipRules(Self.nodeInboundChain, direction: "inbound", skip: skipInboundPorts)
        rules.append(redirect(Self.nodeInboundChain, to: ports.inbound, comment: "switchyard: to the inbound listener"))
        return IPTablesRuleSet(
            chains: [prerouting, Self.nodeOutboundChain, Self.nodeInboundChain], rules: rules,
            jumps: [Self.jump(from: "PREROUTING", to: prerouting)])
    }

    /// Sidecar mode, as Linkerd's proxy-init: `SWITCHYARD_PREROUTING` redirects inbound TCP to
    /// the inbound port (not the inbound port itself, which peers dial, nor the admin port, nor
    /// the skipped ports); `SWITCHYARD_OUTPUT` redirects outbound TCP to the outbound port, except
    /// the proxy's own sockets (by owner UID), loopback, the admin port and the skipped ports.
    func sidecarRules(proxyUID: UInt32) -> IPTablesRuleSet {
        let prerouting = Self.preroutingChain, output = Self.outputChain
        var rules = [IPTablesRule(
            chain: prerouting, match: Self.port(ports.inbound...ports.inbound),
            comment: "switchyard: skip the inbound port \(ports.inbound)", target: ["-j", "RETURN"])]
        rules += skipRules(prerouting, direction: "inbound", skip: skipInboundPorts)
        rules.append(redirect(prerouting, to: ports.inbound, comment: "switchyard: inbound to the inbound listener"))
        rules.append(IPTablesRule(
            chain: output, match: ["-m", "owner", "--uid-owner", String(proxyUID)],
            comment: "switchyard: skip the proxy own sockets (uid \(proxyUID))", target: ["-j", "RETURN"]))
        rules.append(IPTablesRule(chain: output, match: ["-o", "lo"], comment: "switchyard: skip loopback",
                                  target: ["-j", "RETURN"]))
        rules += skipRules(output, direction: "outbound", skip: skipOutboundPorts)
        rules.append(redirect(output, to: ports.outbound, comment: "switchyard: outbound to the outbound listener"))
        return IPTablesRuleSet(
            chains: [prerouting, output], rules: rules,
            jumps: [Self.jump(from: "PREROUTING", to: prerouting), Self.jump(from: "OUTPUT", to: output)])
    }

    /// RETURN for the admin port, then for each skipped port or range.
    private func skipRules(_ chain: String, direction: String, skip: [ClosedRange<UInt16>]) -> [IPTablesRule] {
        let admin = IPTablesRule(chain: chain, match: Self.port(ports.admin...ports.admin),
                                 comment: "switchyard: skip the admin port \(ports.admin)", target: ["-j", "RETURN"])
        return [admin] + skip.filter { $0 != ports.admin...ports.admin }.map { range in
            let what = range.count == 1 ? "port \(range.lowerBound)" : "ports \(range.lowerBound)-\(range.upperBound)"
            return IPTablesRule(chain: chain, match: Self.port(range), comment: "switchyard: skip \(direction) \(what)",
                                target: ["-j", "RETURN"])
        }
    }

    private func redirect(_ chain: String, to port: UInt16, comment: String) -> IPTablesRule {
        IPTablesRule(chain: chain, match: ["-p", "tcp"], comment: comment, target: ["-j", "REDIRECT", "--to-ports", String(port)])
    }

    /// `-p tcp -m tcp --dport 22` or `--dport 8000:8100`.
    private static func port(_ range: ClosedRange<UInt16>) -> [String] {
        let ports = range.count == 1 ? String(range.lowerBound) : "\(range.lowerBound):\(range.upperBound)"
        return ["-p", "tcp", "-m", "tcp", "--dport", ports]
    }

    /// The jump from a built-in chain to ours.
    static func jump(from builtin: String, to chain: String) -> IPTablesRule {
        IPTablesRule(chain: builtin, comment: jumpComment, target: ["-j", chain])
    }
}
