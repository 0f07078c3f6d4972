/// An IPv4 or an IPv6 address.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    /// An IPv4 address.
    case v4(IPv4Address)
    /// An IPv6 address (possibly an IPv4-mapped one; see `unmapped`).
    case v6(IPv6Address)

    /// Parses `"10.96.0.20"` or `"fd00:96::20"` (no brackets); nil for anything else.
    public init?(_ description: String) {
        if let v4 = IPv4Address(description) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(description) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// The address as text, without brackets: `"10.96.0.20"`, `"fd00:96::20"`.
    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// The same host with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, which is how a
    /// dual-stack socket names an IPv4 peer) turned back into the IPv4 address; any other
    /// address unchanged.
    public var unmapped: IPAddress {
        if case .v6(let address) = self, let v4 = address.ipv4Mapped { return .v4(v4) }
        return self
    }
}
