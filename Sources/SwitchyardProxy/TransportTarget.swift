import NIOCore

/// Where a mesh hop's bytes are going: the target pod's IP address and port, as named by the
/// transport preface.
///
/// This is Switchyard's own small endpoint type for the data plane. `SwitchyardInterception`
/// is growing an `IPEndpoint` (the original destination of a redirected connection); the two
/// hold the same thing and should meet in a conversion between them (or one type) once both
/// have landed. Until then `TransportTarget` converts to and from NIO's `SocketAddress`.
public struct TransportTarget: Sendable, Hashable, CustomStringConvertible {
    /// The pod's IP address.
    public var address: TransportAddress
    /// The pod's port. A preface whose target port is 0 is refused by every receiver.
    public var port: UInt16

    public init(address: TransportAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `IPv4:port` or `[IPv6]:port` (`10.42.1.7:9898`, `[fd00::7]:9898`).
    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { return nil }
        }
        guard !portPart.isEmpty, portPart.allSatisfy({ $0 >= "0" && $0 <= "9" }), let port = UInt16(portPart),
              let address = TransportAddress(String(hostPart))
        else { return nil }
        self.init(address: address, port: port)
    }

    /// The target of an IPv4 or IPv6 socket address; `nil` for a Unix domain socket.
    public init?(_ socketAddress: SocketAddress) {
        guard let ip = socketAddress.ipAddress, let port = socketAddress.port,
              let address = TransportAddress(ip), let port16 = UInt16(exactly: port)
        else { return nil }
        self.init(address: address, port: port16)
    }

    /// The NIO socket address to connect to.
    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: address.description, port: Int(port))
    }

    /// `10.42.1.7:9898`, or `[fd00::7]:9898` for IPv6.
    public var description: String {
        switch address {
        case .ipv4: return "\(address):\(port)"
        case .ipv6: return "[\(address)]:\(port)"
        }
    }
}
