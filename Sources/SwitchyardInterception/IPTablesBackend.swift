/// Which iptables the node uses: `nft` (iptables-nft, rules kept by nf_tables) or `legacy`
/// (iptables-legacy, the x_tables kernel tables). Rules must go where the node's other rules
/// (kube-proxy's, the CNI's) are, or they would be evaluated in an order nobody chose.
public enum IPTablesBackend: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case nft
    case legacy

    public var description: String { rawValue }

    /// `iptables-nft-save`, `ip6tables-legacy-save`, …
    public func saveProgram(_ family: IPTablesFamily) -> String { "\(family.command)-\(rawValue)-save" }

    /// `iptables-nft-restore`, `ip6tables-legacy-restore`, …
    public func restoreProgram(_ family: IPTablesFamily) -> String { "\(family.command)-\(rawValue)-restore" }

    /// Picks the backend the node already uses, as Linkerd's proxy-init and Kubernetes'
    /// iptables-wrapper do: count the rules each backend's save prints (IPv4 and IPv6, every
    /// table); the one with more rules wins; nft when neither has any, or on a tie. A backend
    /// whose tools are missing or fail counts as having none.
    public static func detect(runner: IPTablesCommandRunner = IPTablesCommandRunner()) -> IPTablesBackendDetection {
        func rules(_ backend: IPTablesBackend) -> Int {
            IPTablesFamily.allCases.reduce(0) { count, family in
                let output = (try? runner.run(backend.saveProgram(family), [])) ?? ""
                return count + countRules(inSaveOutput: output)
            }
        }
        return IPTablesBackendDetection(nftRules: rules(.nft), legacyRules: rules(.legacy))
    }

    /// The `-A` lines of an iptables-save output.
    static func countRules(inSaveOutput output: String) -> Int {
        output.split(whereSeparator: \.isNewline).count { $0.hasPrefix("-A ") }
    }
}

/// The outcome of `IPTablesBackend.detect`: the rule counts it saw and the backend they choose.
public struct IPTablesBackendDetection: Sendable, Hashable, CustomStringConvertible {
    /// Rules `iptables-nft-save` and `ip6tables-nft-save` printed.
    public var nftRules: Int
    /// Rules `iptables-legacy-save` and `ip6tables-legacy-save` printed.
    public var legacyRules: Int

    /// The counts seen.
    public init(nftRules: Int, legacyRules: Int) {
        self.nftRules = nftRules
        self.legacyRules = legacyRules
    }

    /// legacy when it holds more rules, nft otherwise.
    public var backend: IPTablesBackend { legacyRules > nftRules ? .legacy : .nft }

    /// `nft (detected: 12 nft rules, 0 legacy rules)`.
    public var description: String { "\(backend) (detected: \(nftRules) nft rules, \(legacyRules) legacy rules)" }
}
