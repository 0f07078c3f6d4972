import NIOCore
import SwitchyardInterception

/// Conversions between `SwitchyardInterception`'s `IPEndpoint` and NIO's `SocketAddress`, for
/// the data plane (the target of a transport preface is an `IPEndpoint`). They live here
/// because `SwitchyardInterception` does not depend on NIO.
extension IPEndpoint {
    /// The endpoint of an IPv4 or IPv6 socket address; `nil` for a Unix domain socket. An
    /// IPv4-mapped IPv6 address stays IPv6 (use `unmapped` for the IPv4 form); the IPv6 scope
    /// identifier is dropped.
    public init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let v4): self.init(v4.address)
        case .v6(let v6): self.init(v6.address)
        case .unixDomainSocket: return nil
        }
    }

    /// The NIO socket address to connect to.
    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: address.description, port: Int(port))
    }
}
