/// The peer of an accepted connection: who is asking (in node mode, the source pod's IP).
///
/// A distinct type from `OriginalDestination`, though both hold an `IPEndpoint`, so that a
/// client address is never dialled as if it were the destination, nor the reverse.
public struct ClientAddress: Sendable, Hashable, CustomStringConvertible {
    /// The client's IP address and port.
    public let endpoint: IPEndpoint

    /// Marks `endpoint` as a connection's peer (for tests, and for peers learned another way).
    public init(_ endpoint: IPEndpoint) {
        self.endpoint = endpoint
    }

    /// The peer of a connected socket (`getpeername(2)`). An IPv4 client of a dual-stack IPv6
    /// listener (`::ffff:a.b.c.d`) is given as the IPv4 address it is.
    ///
    /// - Throws: `SocketAddressError` when the socket is not connected (`ENOTCONN`), not a
    ///   socket, or not an IPv4/IPv6 socket.
    public static func of(socket fd: Int32) throws(SocketAddressError) -> ClientAddress {
        ClientAddress(try SocketName.peer(of: fd).endpoint.unmapped)
    }

    /// The endpoint: `"10.244.1.10:51760"`.
    public var description: String { endpoint.description }
}
