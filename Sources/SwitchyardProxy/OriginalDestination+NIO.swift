#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SwitchyardInterception

extension OriginalDestination {
    /// The original destination of an accepted NIO socket channel (`SO_ORIGINAL_DST`, as
    /// `of(socket:)` reads it, through NIO's socket option interface), or nil when the
    /// connection was not redirected: no conntrack entry, no NAT for the family, or the
    /// listener's own address. Call on the channel's event loop; the answer is immediate.
    public static func of(channel: Channel) -> OriginalDestination? {
        guard let provider = channel as? SocketOptionProvider, let localAddress = channel.localAddress,
              let local = IPEndpoint(localAddress) else { return nil }
        var original: IPEndpoint?
        let mapped: Bool
        if case .v6(let v6) = local.address { mapped = v6.ipv4Mapped != nil } else { mapped = false }
        if case .v4 = local.address {
            original = ipv4(provider)
        } else if mapped {
            original = ipv4(provider) ?? ipv6(provider)
        } else {
            original = ipv6(provider)
        }
        guard let original, original != local.unmapped else { return nil }
        return OriginalDestination(original)
    }

    private static func ipv4(_ provider: SocketOptionProvider) -> IPEndpoint? {
        guard let address: sockaddr_in = immediate(provider.unsafeGetSocketOption(
            level: SocketOptionLevel(0), name: SocketOptionName(80))),
              Int32(address.sin_family) == AF_INET else { return nil }
        return IPEndpoint(address)
    }

    private static func ipv6(_ provider: SocketOptionProvider) -> IPEndpoint? {
        guard let address: sockaddr_in6 = immediate(provider.unsafeGetSocketOption(
            level: SocketOptionLevel(41), name: SocketOptionName(80))),
              Int32(address.sin6_family) == AF_INET6 else { return nil }
        return IPEndpoint(address)
    }

    /// The value of a future completed on the current event loop (socket options are read
    /// synchronously there); nil when it failed (ENOENT, ENOPROTOOPT: not redirected).
    private static func immediate<T>(_ future: EventLoopFuture<T>) -> T? {
        let slot = ImmediateSlot<T>()
        future.assumeIsolated().whenSuccess { slot.value = $0 }
        return slot.value
    }
}

private final class ImmediateSlot<T> {
    var value: T?
}
