#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address, such as the ClusterIP `10.96.0.20`.
///
/// Parsing is strict: four decimal octets, as `inet_pton(AF_INET, …)` accepts them
/// (no octal, hexadecimal or shortened forms such as `10.1`).
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The address as a 32-bit number, first octet most significant: `10.96.0.20` is `0x0A60_0014`.
    public var value: UInt32

    /// The address whose 32-bit number, first octet most significant, is `value`.
    public init(_ value: UInt32) {
        self.value = value
    }

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-decimal text such as `"10.96.0.20"`; nil for anything else.
    public init?(_ description: String) {
        guard !description.utf8.contains(0) else { return nil }
        var address = in_addr()
        guard description.withCString({ inet_pton(AF_INET, $0, &address) }) == 1 else { return nil }
        value = UInt32(bigEndian: address.s_addr)
    }

    /// The four octets, first to last.
    public var octets: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// Dotted decimal: `"10.96.0.20"`.
    public var description: String {
        octets.map(String.init).joined(separator: ".")
    }

    /// `127.0.0.1`.
    public static let loopback = IPv4Address(127, 0, 0, 1)
    /// `0.0.0.0`, the unspecified address.
    public static let any = IPv4Address(0)

    /// Numeric order.
    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    /// This address in the kernel's form (network byte order).
    var inAddr: in_addr { in_addr(s_addr: value.bigEndian) }
}
