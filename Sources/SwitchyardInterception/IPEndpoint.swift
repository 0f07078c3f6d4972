/// An IP address and a TCP port: `10.96.0.20:9898`, `[fd00:96::20]:9898`.
///
/// This is the untyped form. What an endpoint *means* is carried by the wrappers around it:
/// `OriginalDestination` (where a redirected client meant to go) and `ClientAddress` (the peer
/// of an accepted connection), so the two cannot be swapped by accident.
///
/// IPv6 scope (zone) identifiers are not kept: pod, node and Service addresses are global.
public struct IPEndpoint: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    /// The IP address.
    public var address: IPAddress
    /// The port, in host byte order.
    public var port: UInt16

    /// The endpoint `address:port`.
    public init(_ address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// The endpoint `address:port` for an IPv4 address.
    public init(_ address: IPv4Address, port: UInt16) {
        self.init(.v4(address), port: port)
    }

    /// The endpoint `[address]:port` for an IPv6 address.
    public init(_ address: IPv6Address, port: UInt16) {
        self.init(.v6(address), port: port)
    }

    /// Why text is not an endpoint.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// No `:port` after the address (`"10.96.0.20"`, `"[fd00::1]"`).
        case missingPort(String)
        /// The port is not a decimal number from 0 to 65535.
        case invalidPort(String)
        /// The address is not an IPv4 address, or (between brackets) not an IPv6 address.
        case invalidAddress(String)
        /// An IPv6 address without brackets (`"fd00::1:80"` is ambiguous; write `"[fd00::1]:80"`).
        case unbracketedIPv6(String)

        /// What is wrong, quoting the input.
        public var description: String {
            switch self {
            case .missingPort(let text): "\"\(text)\" has no port: write ADDRESS:PORT (10.96.0.20:9898, [fd00::1]:80)"
            case .invalidPort(let text): "\"\(text)\": the port must be a number from 0 to 65535"
            case .invalidAddress(let text): "\"\(text)\": not an IP address (IPv4 a.b.c.d, or IPv6 between brackets)"
            case .unbracketedIPv6(let text): "\"\(text)\": put an IPv6 address between brackets, as in [fd00::1]:80"
            }
        }
    }

    /// Parses `"10.96.0.20:9898"` or `"[fd00:96::20]:9898"`, saying what is wrong otherwise.
    ///
    /// The address must be an IP address (no host names); an IPv6 address must be in brackets;
    /// the port must be 1 to 5 decimal digits with a value of at most 65535.
    public init(parsing text: String) throws(ParseError) {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidAddress(text) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw rest.isEmpty ? .missingPort(text) : .invalidAddress(text)
            }
            portText = rest.dropFirst()
            guard let v6 = IPv6Address(String(hostText)) else { throw .invalidAddress(text) }
            address = .v6(v6)
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText.contains(":") {
                throw IPv6Address(text) != nil ? .unbracketedIPv6(text) : .invalidAddress(text)
            }
            guard let v4 = IPv4Address(String(hostText)) else { throw .invalidAddress(text) }
            address = .v4(v4)
        }
        guard (1...5).contains(portText.utf8.count),
              portText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let port = UInt16(portText)
        else { throw .invalidPort(text) }
        self.port = port
    }

    /// Parses `"10.96.0.20:9898"` or `"[fd00:96::20]:9898"`; nil for anything else.
    /// `init(parsing:)` says why.
    public init?(_ description: String) {
        guard let endpoint = try? IPEndpoint(parsing: description) else { return nil }
        self = endpoint
    }

    /// `"10.96.0.20:9898"`, or `"[fd00:96::20]:9898"` for IPv6.
    public var description: String {
        switch address {
        case .v4(let v4): "\(v4):\(port)"
        case .v6(let v6): "[\(v6)]:\(port)"
        }
    }

    /// The same endpoint with an IPv4-mapped address (`[::ffff:10.0.0.1]:80`, how a dual-stack
    /// socket names an IPv4 peer) written as the IPv4 address (`10.0.0.1:80`).
    public var unmapped: IPEndpoint {
        IPEndpoint(address.unmapped, port: port)
    }
}
