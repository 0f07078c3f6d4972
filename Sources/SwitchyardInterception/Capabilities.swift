import CLibcap

#if canImport(Glibc)
import Glibc
#endif

/// A set of Linux capabilities as the kernel counts them: bit N is capability N
/// (`CAP_NET_ADMIN` is 12, so `netAdmin` is `0x1000`), the same bits `/proc/PID/status`
/// prints in hexadecimal as `CapEff`, `CapPrm`, `CapInh`, `CapBnd` and `CapAmb`.
///
/// The daemon needs at most two after start-up: `CAP_NET_ADMIN` (`SO_MARK` on upstream
/// sockets, so its own traffic escapes the REDIRECT rules, and re-applying those rules) and
/// `CAP_NET_BIND_SERVICE` (a listener below port 1024). See docs/operations.md.
public struct CapabilitySet: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The set holding one capability (`CAP_NET_ADMIN`, ...); empty for a number outside 0...63.
    public init(capability: cap_value_t) {
        rawValue = (0..<64).contains(capability) ? UInt64(1) << UInt64(capability) : 0
    }

    public static let netAdmin = CapabilitySet(capability: CAP_NET_ADMIN)
    public static let netBindService = CapabilitySet(capability: CAP_NET_BIND_SERVICE)
    public static let netRaw = CapabilitySet(capability: CAP_NET_RAW)
    /// Changing the bounding set (and others' capabilities); held by a privileged caller only.
    public static let setPCap = CapabilitySet(capability: CAP_SETPCAP)

    /// A `/proc/PID/status` value: 16 hexadecimal digits (`0000000000001000`); nil otherwise.
    public init?(procStatusHex text: some StringProtocol) {
        guard !text.isEmpty, let value = UInt64(text, radix: 16) else { return nil }
        rawValue = value
    }

    /// The capability numbers in the set, in increasing order.
    public var members: [cap_value_t] {
        (0..<64).filter { rawValue & (UInt64(1) << UInt64($0)) != 0 }.map { cap_value_t($0) }
    }

    /// `cap_net_admin,cap_net_bind_service` (libcap's names, in increasing order), or `none`.
    public var description: String {
        isEmpty ? "none" : members.map(Self.name(of:)).joined(separator: ",")
    }

    /// libcap's lower-case name of a capability (`cap_net_admin`); the number for one it does not know.
    public static func name(of capability: cap_value_t) -> String {
        guard let raw = cap_to_name(capability) else { return String(capability) }
        defer { cap_free(raw) }
        return String(cString: raw)
    }

    /// Every capability the running kernel knows (bits `0 ..< cap_max_bits()`).
    public static var known: CapabilitySet {
        let bits = min(64, Int(cap_max_bits()))
        return CapabilitySet(rawValue: bits == 64 ? .max : (UInt64(1) << UInt64(bits)) - 1)
    }
}
