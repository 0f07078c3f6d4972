#if canImport(Glibc)
import Glibc
#endif

/// An IPv6 address, such as the ClusterIP `fd00:96::20`.
///
/// Text is written as RFC 5952 recommends: lower-case hexadecimal, leading zeros dropped, the
/// longest run of two or more zero groups (the first, on a tie) shortened to `::`, and an
/// IPv4-mapped address (`::ffff:0:0/96`) with its IPv4 part in dotted decimal
/// (`::ffff:10.96.0.20`). Parsing accepts any form `inet_pton(AF_INET6, …)` accepts; a zone
/// (`fe80::1%eth0`) is not part of an address and is refused.
public struct IPv6Address: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The first 64 bits of the address, first byte most significant.
    public var high: UInt64
    /// The last 64 bits of the address, first byte most significant.
    public var low: UInt64

    /// The address whose first and last 64 bits, first byte most significant, are `high` and `low`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address made of these 16 bytes, first byte first; nil unless there are exactly 16.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// The IPv4-mapped address `::ffff:a.b.c.d`, which is how a dual-stack socket names an IPv4 peer.
    public init(ipv4Mapped address: IPv4Address) {
        self.init(high: 0, low: 0xffff_0000_0000 | UInt64(address.value))
    }

    /// Parses IPv6 text such as `"fd00:96::20"` or `"::ffff:10.96.0.20"`; nil for anything else.
    public init?(_ description: String) {
        guard !description.utf8.contains(0) else { return nil }
        var address = in6_addr()
        guard description.withCString({ inet_pton(AF_INET6, $0, &address) }) == 1 else { return nil }
        self.init(inAddr: address)
    }

    /// The 16 bytes, first to last.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
        }
    }

    /// The eight 16-bit groups, first to last.
    public var groups: [UInt16] {
        (0..<8).map { index in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// The IPv4 address inside an IPv4-mapped address (`::ffff:a.b.c.d`), else nil.
    public var ipv4Mapped: IPv4Address? {
        guard high == 0, low >> 32 == 0xffff else { return nil }
        return IPv4Address(UInt32(truncatingIfNeeded: low))
    }

    /// RFC 5952 text: `"fd00:96::20"`, `"::1"`, `"::ffff:10.96.0.20"`.
    public var description: String {
        if let v4 = ipv4Mapped { return "::ffff:\(v4)" }
        let groups = self.groups
        // The longest run of at least two zero groups, the first one on a tie.
        var best: Range<Int>? = nil
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            let start = index
            while index < 8, groups[index] == 0 { index += 1 }
            if index - start >= 2, index - start > (best?.count ?? 0) { best = start..<index }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard let best else { return hex(groups[...]) }
        return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
    }

    /// `::1`.
    public static let loopback = IPv6Address(high: 0, low: 1)
    /// `::`, the unspecified address.
    public static let any = IPv6Address(high: 0, low: 0)

    /// Numeric order.
    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The address in the kernel's form.
    init(inAddr address: in6_addr) {
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        self.init(bytes: bytes)!  // in6_addr is 16 bytes
    }

    /// This address in the kernel's form.
    var inAddr: in6_addr {
        var address = in6_addr()
        let bytes = self.bytes
        withUnsafeMutableBytes(of: &address) { raw in
            for index in 0..<16 { raw[index] = bytes[index] }
        }
        return address
    }
}
