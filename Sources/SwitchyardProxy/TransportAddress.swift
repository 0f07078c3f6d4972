#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as the transport preface carries it: 4 or 16 bytes in network order,
/// held as integers so the type is small, `Sendable` and hashable without allocating.
///
/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) stays IPv6: it is not the same address as
/// `10.0.0.1` for the purpose of finding a local pod.
public enum TransportAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address; `10.42.1.7` is `0x0A2A_0107` (the four bytes, most significant first).
    case ipv4(UInt32)
    /// An IPv6 address: its first eight bytes (`high`) and last eight (`low`), most significant first.
    case ipv6(high: UInt64, low: UInt64)

    /// Parses the textual form, `10.42.1.7` or `fd00::1` (`inet_pton`; no zone, no brackets).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = withUnsafeBytes(of: &v4) { TransportAddress(bytes: $0)! }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = withUnsafeBytes(of: &v6) { TransportAddress(bytes: $0)! }
            return
        }
        return nil
    }

    /// The address from its bytes in network order: 4 make an IPv4 address, 16 an IPv6 one;
    /// any other count is `nil`.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self = .ipv4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .ipv6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The address's bytes in network order (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .ipv4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .ipv6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// 4 for IPv4, 16 for IPv6.
    public var byteCount: Int {
        switch self {
        case .ipv4: return 4
        case .ipv6: return 16
        }
    }

    /// Whether this is `0.0.0.0` or `::`, which names no host (and which a careless `connect`
    /// would take to mean this host).
    public var isUnspecified: Bool {
        switch self {
        case .ipv4(let value): return value == 0
        case .ipv6(let high, let low): return high == 0 && low == 0
        }
    }

    /// The textual form: dotted quad, or RFC 5952 IPv6 (`fd00::1`), without brackets.
    public var description: String {
        switch self {
        case .ipv4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .ipv6:
            var storage = in6_addr()
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &storage, &text, socklen_t(text.count)) != nil else { return "?" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
