#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether text is a literal IP address, as `inet_pton` reads it (IPv4: a dotted quad).
public enum IPLiteral {
    /// A textual IPv4 address (dotted quad).
    public static func isIPv4(_ value: String) -> Bool { parses(value, family: AF_INET) }

    /// A textual IPv6 address.
    public static func isIPv6(_ value: String) -> Bool { parses(value, family: AF_INET6) }

    /// A textual IPv4 or IPv6 address.
    public static func isIPAddress(_ value: String) -> Bool { isIPv4(value) || isIPv6(value) }

    private static func parses(_ value: String, family: Int32) -> Bool {
        guard !value.isEmpty, value.utf8.count < 64, !value.utf8.contains(0) else { return false }
        var address = in6_addr()  // large enough for either family
        return value.withCString { inet_pton(family, $0, &address) == 1 }
    }
}
