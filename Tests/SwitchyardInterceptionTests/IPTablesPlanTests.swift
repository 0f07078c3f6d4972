import SwitchyardInterception
import Testing

/// The redirect rules as data: what each mode renders, and how a render takes what is already
/// installed into account. No iptables runs here (IPTablesNamespaceTests applies them).
@Suite("IPTablesPlan: the redirect rules as data")
struct IPTablesPlanTests {
    static let podA = IPAddress("10.244.1.10")!
    static let podB = IPAddress("10.244.1.20")!
    static let podV6 = IPAddress("fd00:244::10")!

    @Test("node mode, IPv4: mark first, egress of each meshed pod then traffic to each, admin and skipped ports return, redirects")
    func nodeIPv4() {
        let plan = IPTablesPlan.node(
            meshedLocalPodIPs: [Self.podB, Self.podV6, Self.podA, Self.podA],
            skipInboundPorts: [22...22], skipOutboundPorts: [443...443, 8000...8100])
        #expect(plan.render(family: .ipv4) == """
            *nat
            :SWITCHYARD_PREROUTING - [0:0]
            :SWITCHYARD_NODE_OUTBOUND - [0:0]
            :SWITCHYARD_NODE_INBOUND - [0:0]
            -A SWITCHYARD_PREROUTING -m mark --mark 0x5359 -m comment --comment "switchyard: skip the daemon upstream sockets (mark 0x5359)" -j RETURN
            -A SWITCHYARD_PREROUTING -s 10.244.1.10/32 -p tcp -m comment --comment "switchyard: egress of meshed pod 10.244.1.10" -j SWITCHYARD_NODE_OUTBOUND
            -A SWITCHYARD_PREROUTING -s 10.244.1.20/32 -p tcp -m comment --comment "switchyard: egress of meshed pod 10.244.1.20" -j SWITCHYARD_NODE_OUTBOUND
            -A SWITCHYARD_PREROUTING -d 10.244.1.10/32 -p tcp -m comment --comment "switchyard: to meshed pod 10.244.1.10" -j SWITCHYARD_NODE_INBOUND
            -A SWITCHYARD_PREROUTING -d 10.244.1.20/32 -p tcp -m comment --comment "switchyard: to meshed pod 10.244.1.20" -j SWITCHYARD_NODE_INBOUND
            -A SWITCHYARD_NODE_OUTBOUND -p tcp -m tcp --dport 4191 -m comment --comment "switchyard: skip the admin port 4191" -j RETURN
            -A SWITCHYARD_NODE_OUTBOUND -p tcp -m tcp --dport 443 -m comment --comment "switchyard: skip outbound port 443" -j RETURN
            -A SWITCHYARD_NODE_OUTBOUND -p tcp -m tcp --dport 8000:8100 -m comment --comment "switchyard: skip outbound ports 8000-8100" -j RETURN
            -A SWITCHYARD_NODE_OUTBOUND -p tcp -m comment --comment "switchyard: to the outbound listener" -j REDIRECT --to-ports 4140
            -A SWITCHYARD_NODE_INBOUND -p tcp -m tcp --dport 4191 -m comment --comment "switchyard: skip the admin port 4191" -j RETURN
            -A SWITCHYARD_NODE_INBOUND -p tcp -m tcp --dport 22 -m comment --comment "switchyard: skip inbound port 22" -j RETURN
            -A SWITCHYARD_NODE_INBOUND -p tcp -m comment --comment "switchyard: to the inbound listener" -j REDIRECT --to-ports 4143
            -I PREROUTING 1 -m comment --comment switchyard -j SWITCHYARD_PREROUTING
            COMMIT

            """)
    }

    @Test("node mode, IPv6: only the IPv6 pods, as /128; an IPv4-mapped address counts as IPv4")
    func nodeIPv6() {
        let mapped = IPAddress.v6(IPv6Address(ipv4Mapped: IPv4Address(10, 244, 1, 30)))
        let plan = IPTablesPlan.node(meshedLocalPodIPs: [Self.podA, Self.podV6, mapped])
        let v6 = plan.render(family: .ipv6)
        #expect(v6.contains("-A SWITCHYARD_PREROUTING -s fd00:244::10/128 -p tcp -m comment --comment \"switchyard: egress of meshed pod fd00:244::10\" -j SWITCHYARD_NODE_OUTBOUND\n"))
        #expect(v6.contains("-A SWITCHYARD_PREROUTING -d fd00:244::10/128 -p tcp -m comment --comment \"switchyard: to meshed pod fd00:244::10\" -j SWITCHYARD_NODE_INBOUND\n"))
        #expect(!v6.contains("10.244."))
        let v4 = plan.render(family: .ipv4)
        #expect(v4.contains("-s 10.244.1.30/32 "))
        #expect(!v4.contains("ffff") && !v4.contains("fd00"))
        #expect(plan.mode == .node(meshedLocalPodIPs: [Self.podA, IPAddress("10.244.1.30")!, Self.podV6], socketMark: 0x5359))
    }

    @Test("node mode without pods: empty dispatch (only the mark rule), the redirect chains and the jump still there")
    func nodeWithoutPods() {
        let rules = IPTablesPlan.node(meshedLocalPodIPs: []).ruleSet(for: .ipv4)
        #expect(rules.chains == ["SWITCHYARD_PREROUTING", "SWITCHYARD_NODE_OUTBOUND", "SWITCHYARD_NODE_INBOUND"])
        #expect(rules.rules.filter { $0.chain == "SWITCHYARD_PREROUTING" }.map(\.target) == [["-j", "RETURN"]])
        #expect(rules.jumps.map(\.description) == ["-A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING"])
        // Every jump target is a chain the rule set declares.
        let targets = (rules.rules + rules.jumps).compactMap { $0.target.first == "-j" ? $0.target[1] : nil }
            .filter { $0.hasPrefix("SWITCHYARD_") }
        #expect(Set(targets).isSubset(of: Set(rules.chains)))
    }

    @Test("node mode: other ports and mark; the admin port given again in a skip list is not repeated")
    func nodePortsAndMark() {
        let plan = IPTablesPlan.node(
            meshedLocalPodIPs: [Self.podA], ports: IPTablesPorts(outbound: 15001, inbound: 15006, admin: 15020),
            socketMark: 0x1, skipInboundPorts: [15020...15020], skipOutboundPorts: [15020...15021])
        let text = plan.render(family: .ipv4)
        #expect(text.contains("-m mark --mark 0x1 -m comment --comment \"switchyard: skip the daemon upstream sockets (mark 0x1)\" -j RETURN"))
        #expect(text.contains("-j REDIRECT --to-ports 15001\n"))
        #expect(text.contains("-j REDIRECT --to-ports 15006\n"))
        #expect(text.split(separator: "\n").count { $0.contains("--dport 15020 ") } == 2, "once per chain: \(text)")
        #expect(text.contains("-A SWITCHYARD_NODE_OUTBOUND -p tcp -m tcp --dport 15020:15021 -m comment --comment \"switchyard: skip outbound ports 15020-15021\" -j RETURN"))
        #expect(!text.contains("4140") && !text.contains("4143") && !text.contains("4191"))
    }

    @Test("sidecar mode: inbound to 4143 except 4143, admin and skipped; outbound to 4140 except the proxy uid, loopback, admin and skipped")
    func sidecar() {
        let plan = IPTablesPlan.sidecar(proxyUID: 2102, skipInboundPorts: [22...22], skipOutboundPorts: [443...443, 6443...6443])
        let expected = """
            *nat
            :SWITCHYARD_PREROUTING - [0:0]
            :SWITCHYARD_OUTPUT - [0:0]
            -A SWITCHYARD_PREROUTING -p tcp -m tcp --dport 4143 -m comment --comment "switchyard: skip the inbound port 4143" -j RETURN
            -A SWITCHYARD_PREROUTING -p tcp -m tcp --dport 4191 -m comment --comment "switchyard: skip the admin port 4191" -j RETURN
            -A SWITCHYARD_PREROUTING -p tcp -m tcp --dport 22 -m comment --comment "switchyard: skip inbound port 22" -j RETURN
            -A SWITCHYARD_PREROUTING -p tcp -m comment --comment "switchyard: inbound to the inbound listener" -j REDIRECT --to-ports 4143
            -A SWITCHYARD_OUTPUT -m owner --uid-owner 2102 -m comment --comment "switchyard: skip the proxy own sockets (uid 2102)" -j RETURN
            -A SWITCHYARD_OUTPUT -o lo -m comment --comment "switchyard: skip loopback" -j RETURN
            -A SWITCHYARD_OUTPUT -p tcp -m tcp --dport 4191 -m comment --comment "switchyard: skip the admin port 4191" -j RETURN
            -A SWITCHYARD_OUTPUT -p tcp -m tcp --dport 443 -m comment --comment "switchyard: skip outbound port 443" -j RETURN
            -A SWITCHYARD_OUTPUT -p tcp -m tcp --dport 6443 -m comment --comment "switchyard: skip outbound port 6443" -j RETURN
            -A SWITCHYARD_OUTPUT -p tcp -m comment --comment "switchyard: outbound to the outbound listener" -j REDIRECT --to-ports 4140
            -I PREROUTING 1 -m comment --comment switchyard -j SWITCHYARD_PREROUTING
            -I OUTPUT 1 -m comment --comment switchyard -j SWITCHYARD_OUTPUT
            COMMIT

            """
        #expect(plan.render(family: .ipv4) == expected)
        // No addresses in sidecar rules: IPv6 is the same text.
        #expect(plan.render(family: .ipv6) == expected)
    }

    @Test("every rule carries a comment starting with switchyard, and lives in a SWITCHYARD_ chain (jumps aside)")
    func comments() {
        for plan in [IPTablesPlan.node(meshedLocalPodIPs: [Self.podA, Self.podV6], skipInboundPorts: [1...2]),
                     IPTablesPlan.sidecar(proxyUID: 0, skipOutboundPorts: [80...80])] {
            for family in IPTablesFamily.allCases {
                let rules = plan.ruleSet(for: family)
                for rule in rules.rules {
                    #expect(rule.comment.hasPrefix("switchyard: "), "\(rule)")
                    #expect(rule.chain.hasPrefix(IPTablesPlan.chainPrefix), "\(rule)")
                    #expect(!rule.comment.contains("\"") && !rule.comment.contains("'"), "\(rule)")
                }
                for jump in rules.jumps {
                    #expect(jump.comment == "switchyard")
                    #expect(["PREROUTING", "OUTPUT"].contains(jump.chain))
                }
            }
        }
    }

    @Test("equal pod sets however given make equal plans (the daemon reapplies only when the plan changed)")
    func planEquality() {
        let a = IPTablesPlan.node(meshedLocalPodIPs: [Self.podA, Self.podB, Self.podV6])
        let b = IPTablesPlan.node(meshedLocalPodIPs: [Self.podV6, Self.podB, Self.podA, Self.podB])
        #expect(a == b)
        #expect(a != IPTablesPlan.node(meshedLocalPodIPs: [Self.podA]))
        #expect(a != IPTablesPlan.node(meshedLocalPodIPs: [Self.podA, Self.podB, Self.podV6], socketMark: 7))
    }
}

@Suite("IPTablesInstalledRules: reading iptables-save, and rendering against what is installed")
struct IPTablesInstalledRulesTests {
    /// What `iptables-save -t nat` printed after a node install, with a kube-proxy rule beside it.
    static let saved = """
        # Generated by iptables-nft-save v1.8.9 (nf_tables) on Fri Nov 27 00:59:54 2026
        *nat
        :PREROUTING ACCEPT [10:600]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :KUBE-SERVICES - [0:0]
        :SWITCHYARD_NODE_INBOUND - [0:0]
        :SWITCHYARD_NODE_OUTBOUND - [0:0]
        :SWITCHYARD_PREROUTING - [0:0]
        -A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING
        -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
        -A SWITCHYARD_NODE_OUTBOUND -p tcp -m comment --comment "switchyard: to the outbound listener" -j REDIRECT --to-ports 4140
        -A SWITCHYARD_PREROUTING -s 10.244.1.10/32 -p tcp -m comment --comment "switchyard: egress of meshed pod 10.244.1.10" -j SWITCHYARD_NODE_OUTBOUND
        COMMIT
        # Completed on Fri Nov 27 00:59:54 2026

        """

    @Test("our chains, their rules and the jumps into them; kube-proxy's rules are not ours")
    func parse() {
        let installed = IPTablesInstalledRules(parsing: Self.saved)
        #expect(installed.chains == ["SWITCHYARD_NODE_INBOUND", "SWITCHYARD_NODE_OUTBOUND", "SWITCHYARD_PREROUTING"])
        #expect(installed.jumps.map(\.description) == ["-A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING"])
        #expect(installed.rules.count == 2)
        #expect(!installed.text.contains("KUBE"))
        #expect(IPTablesInstalledRules(parsing: "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n").isEmpty)
        #expect(IPTablesInstalledRules(parsing: "").isEmpty)
        // Other tables are not read.
        #expect(IPTablesInstalledRules(parsing: "*filter\n:SWITCHYARD_X - [0:0]\n-A INPUT -j SWITCHYARD_X\nCOMMIT\n").isEmpty)
    }

    @Test("installing over an install declares (empties) the chains and adds no second jump")
    func reinstall() {
        let plan = IPTablesPlan.node(meshedLocalPodIPs: [IPAddress("10.244.1.10")!])
        let input = plan.ruleSet(for: .ipv4).restoreInput(over: IPTablesInstalledRules(parsing: Self.saved))
        #expect(input.hasPrefix("*nat\n:SWITCHYARD_PREROUTING - [0:0]\n:SWITCHYARD_NODE_OUTBOUND - [0:0]\n:SWITCHYARD_NODE_INBOUND - [0:0]\n"))
        #expect(!input.contains("-I PREROUTING") && !input.contains("-D ") && !input.contains("-X "))
        #expect(input.hasSuffix("-j REDIRECT --to-ports 4143\nCOMMIT\n"))
    }

    @Test("a new mode's install deletes the old mode's chains and jumps, and a changed or repeated jump")
    func replace() {
        let installed = IPTablesInstalledRules(parsing: Self.saved + """
            *nat
            -A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING
            -A OUTPUT -m comment --comment "old version" -j SWITCHYARD_OUTPUT
            COMMIT

            """)
        let input = IPTablesPlan.sidecar(proxyUID: 2102).ruleSet(for: .ipv4).restoreInput(over: installed)
        let lines = input.split(separator: "\n").map(String.init)
        #expect(lines.contains("-D PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING"), "the repeated jump")
        #expect(lines.contains("-D OUTPUT -m comment --comment \"old version\" -j SWITCHYARD_OUTPUT"))
        #expect(lines.filter { $0.hasPrefix("-D ") }.count == 2)
        #expect(lines.contains("-F SWITCHYARD_NODE_INBOUND") && lines.contains("-X SWITCHYARD_NODE_INBOUND"))
        #expect(lines.contains("-X SWITCHYARD_NODE_OUTBOUND"))
        #expect(!lines.contains("-X SWITCHYARD_PREROUTING"), "still ours in sidecar mode")
        #expect(lines.contains("-I OUTPUT 1 -m comment --comment switchyard -j SWITCHYARD_OUTPUT"))
        #expect(!lines.contains("-I PREROUTING 1 -m comment --comment switchyard -j SWITCHYARD_PREROUTING"), "one is installed")
        // -F before -X, and both before our rules, so nothing is deleted while referenced.
        let firstDelete = lines.firstIndex { $0.hasPrefix("-X ") }!, lastFlush = lines.lastIndex { $0.hasPrefix("-F ") }!
        #expect(lastFlush < firstDelete)
    }

    @Test("removal: the jumps, then our chains flushed and deleted; nothing when nothing is installed")
    func removal() {
        let input = IPTablesInstalledRules(parsing: Self.saved).removalInput
        #expect(input == """
            *nat
            -D PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING
            -F SWITCHYARD_NODE_INBOUND
            -F SWITCHYARD_NODE_OUTBOUND
            -F SWITCHYARD_PREROUTING
            -X SWITCHYARD_NODE_INBOUND
            -X SWITCHYARD_NODE_OUTBOUND
            -X SWITCHYARD_PREROUTING
            COMMIT

            """)
        #expect(IPTablesInstalledRules().removalInput == nil)
    }

    @Test("quoting as iptables-save does: bare words stay bare, others are quoted with escapes; words split back")
    func quoting() {
        let rule = IPTablesRule(chain: "OUTPUT", comment: "a \"b\" c's \\", target: ["-j", "SWITCHYARD_X"])
        #expect(rule.description == #"-A OUTPUT -m comment --comment "a \"b\" c\'s \\" -j SWITCHYARD_X"#)
        // Read back, it is the same jump: installing a rule set with it adds no second one.
        let installed = IPTablesInstalledRules(parsing: "*nat\n\(rule.description)\nCOMMIT\n")
        #expect(installed.jumps.map(\.description) == [rule.description])
        let rules = IPTablesRuleSet(chains: ["SWITCHYARD_X"], rules: [], jumps: [rule])
        #expect(rules.restoreInput(over: installed) == "*nat\n:SWITCHYARD_X - [0:0]\nCOMMIT\n")
        #expect(rules.restoreInput(over: IPTablesInstalledRules()).contains("-I OUTPUT 1 -m comment --comment"))
        let jump = IPTablesRule(chain: "PREROUTING", comment: "switchyard", target: ["-j", "SWITCHYARD_PREROUTING"])
        #expect(jump.description == "-A PREROUTING -m comment --comment switchyard -j SWITCHYARD_PREROUTING")
    }

    @Test("backend detection: the backend with more rules wins; nft on a tie or when neither has any")
    func detection() {
        #expect(IPTablesBackendDetection(nftRules: 0, legacyRules: 0).backend == .nft)
        #expect(IPTablesBackendDetection(nftRules: 3, legacyRules: 3).backend == .nft)
        #expect(IPTablesBackendDetection(nftRules: 0, legacyRules: 1).backend == .legacy)
        #expect(IPTablesBackendDetection(nftRules: 40, legacyRules: 2).backend == .nft)
        #expect(IPTablesBackend.legacy.restoreProgram(.ipv6) == "ip6tables-legacy-restore")
        #expect(IPTablesBackend.nft.saveProgram(.ipv4) == "iptables-nft-save")
    }
}
