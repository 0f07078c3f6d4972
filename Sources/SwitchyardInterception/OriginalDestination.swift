#if canImport(Glibc)
import Glibc
#endif

/// Where a client meant to go before iptables REDIRECTed its connection to our listener, as
/// the kernel reports it through `SO_ORIGINAL_DST`: for a pod's `connect()` to a Service, the
/// ClusterIP and port (`10.96.0.20:9898`), not the listener's own address.
///
/// A distinct type from `ClientAddress` and from a plain `IPEndpoint`, so that an address read
/// from a socket's peer, or parsed from configuration, is never taken for an original destination.
public struct OriginalDestination: Sendable, Hashable, CustomStringConvertible {
    /// The destination the client dialled.
    public let endpoint: IPEndpoint

    /// Marks `endpoint` as an original destination (for tests, and for destinations learned
    /// another way). Connections use `of(socket:)`.
    public init(_ endpoint: IPEndpoint) {
        self.endpoint = endpoint
    }

    /// The endpoint: `"10.96.0.20:9898"`, `"[fd00:96::20]:9898"`.
    public var description: String { endpoint.description }

    /// The original destination of an accepted TCP connection, or nil when it was not redirected.
    ///
    /// Reads `getsockopt(SOL_IP, SO_ORIGINAL_DST)` on an IPv4 socket and
    /// `getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)` on an IPv6 one (the family is the socket's,
    /// from `getsockname`). A dual-stack IPv6 listener (`[::]:P`, `IPV6_V6ONLY` off) hands out
    /// IPv6 sockets for IPv4 clients, named `::ffff:a.b.c.d`; their connection is tracked by
    /// the kernel's IPv4 conntrack, so for those `SOL_IP` is asked first (it answers on an IPv6
    /// socket too), then `SOL_IPV6`. The result is then IPv4 (`10.96.0.20:9898`).
    ///
    /// "Not redirected" (nil) covers three kernel answers:
    /// - `ENOENT`: conntrack has no entry for the connection (conntrack is not running in this
    ///   network namespace, or it does not track this flow);
    /// - `ENOPROTOOPT`: no conntrack for this address family in the kernel at all, so nothing
    ///   can have been NATed;
    /// - the socket's own local address: conntrack tracks the connection but did not
    ///   translate its destination. Once a namespace has a nat table, every connection is
    ///   tracked, and a client that dialled the listener directly gets this answer, not ENOENT.
    ///
    /// - Parameter fd: an accepted (connected) TCP socket.
    /// - Throws: `SocketAddressError` for any other failure, naming the call and `errno`
    ///   (`EBADF`, `ENOTSOCK`, ...), or when `fd` is not an IPv4 or IPv6 socket.
    public static func of(socket fd: Int32) throws(SocketAddressError) -> OriginalDestination? {
        let (family, local) = try SocketName.local(of: fd)
        let original: IPEndpoint?
        switch family {
        case AF_INET:
            original = try ipv4(of: fd)
        case AF_INET6:
            // A connection is IPv4 or IPv6 end to end: on a dual-stack socket the local and peer
            // addresses are both IPv4-mapped or neither, so the local one (already in hand) decides.
            if case .v6(let address) = local.address, address.ipv4Mapped != nil {
                if let v4 = try ipv4(of: fd) { original = v4 } else { original = try ipv6(of: fd) }
            } else {
                original = try ipv6(of: fd)
            }
        default:
            throw .unsupportedAddressFamily(family, socket: fd)
        }
        guard let original, original != local.unmapped else { return nil }
        return OriginalDestination(original)
    }

    /// `SOL_IP` from <netinet/in.h>.
    private static let solIP: Int32 = 0
    /// `SOL_IPV6` from <netinet/in.h>.
    private static let solIPv6: Int32 = 41
    /// `SO_ORIGINAL_DST` from <linux/netfilter_ipv4.h>.
    private static let soOriginalDst: Int32 = 80
    /// `IP6T_SO_ORIGINAL_DST` from <linux/netfilter_ipv6/ip6_tables.h>.
    private static let ip6tSoOriginalDst: Int32 = 80

    private static func ipv4(of fd: Int32) throws(SocketAddressError) -> IPEndpoint? {
        guard let address: sockaddr_in = try option(fd, solIP, soOriginalDst, "getsockopt(SOL_IP, SO_ORIGINAL_DST)") else {
            return nil
        }
        guard Int32(address.sin_family) == AF_INET else {
            throw .unsupportedAddressFamily(Int32(address.sin_family), socket: fd)
        }
        return IPEndpoint(address)
    }

    private static func ipv6(of fd: Int32) throws(SocketAddressError) -> IPEndpoint? {
        guard let address: sockaddr_in6 = try option(fd, solIPv6, ip6tSoOriginalDst, "getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)") else {
            return nil
        }
        guard Int32(address.sin6_family) == AF_INET6 else {
            throw .unsupportedAddressFamily(Int32(address.sin6_family), socket: fd)
        }
        return IPEndpoint(address)
    }

    /// One socket address from `getsockopt`; nil for the two "no NAT here" errors.
    private static func option<Address>(
        _ fd: Int32, _ level: Int32, _ name: Int32, _ call: String
    ) throws(SocketAddressError) -> Address? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<Address>.size)
        let result = getsockopt(fd, level, name, &storage, &length)
        guard result == 0 else {
            let error = errno
            if error == ENOENT || error == ENOPROTOOPT { return nil }
            throw .systemCall(call, socket: fd, errno: error)
        }
        return withUnsafeBytes(of: &storage) { $0.load(as: Address.self) }
    }
}
