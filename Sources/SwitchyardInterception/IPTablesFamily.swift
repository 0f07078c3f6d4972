/// The address family an iptables rule set is for: IPv4 rules go to `iptables-*-restore`,
/// IPv6 rules to `ip6tables-*-restore`. Each family's nat table is a separate transaction.
public enum IPTablesFamily: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ipv4
    case ipv6

    /// `IPv4` or `IPv6`.
    public var description: String {
        switch self {
        case .ipv4: "IPv4"
        case .ipv6: "IPv6"
        }
    }

    /// The family of `address` (an IPv4-mapped IPv6 address counts as IPv4).
    public init(of address: IPAddress) {
        switch address.unmapped {
        case .v4: self = .ipv4
        case .v6: self = .ipv6
        }
    }

    /// The command prefix of the family's tools: `iptables` or `ip6tables`.
    public var command: String {
        switch self {
        case .ipv4: "iptables"
        case .ipv6: "ip6tables"
        }
    }

    /// `address` as a single-host network in iptables syntax: `10.244.1.10/32`, `fd00:244::10/128`.
    /// IPv4-mapped IPv6 addresses are written as the IPv4 address they are.
    static func host(_ address: IPAddress) -> String {
        switch address.unmapped {
        case .v4(let v4): "\(v4)/32"
        case .v6(let v6): "\(v6)/128"
        }
    }
}
