import SwitchyardInterception

/// The transport preface: the first bytes a Switchyard outbound proxy writes, inside mutual
/// TLS, on a hop to a peer's inbound port (4143). It names the pod the hop is for and the
/// protocol that follows, so one inbound port can serve every local pod.
///
/// It does **not** carry the client's identity: the receiver takes that from the client
/// certificate verified in the mTLS handshake, never from bytes the client chose.
///
/// The wire format (`docs/transport.md`): an 8-byte magic, a version byte, a 2-byte big-endian
/// length of the fields, then fields as type (1 byte), length (2 bytes, big-endian), value.
/// Receivers skip field types they do not know, validate the ones they do, and refuse a
/// preface of more than `maximumSize` bytes. Encode with `encode(into:)`; decode with
/// `TransportPrefaceParser` or, on a channel, `TransportPrefaceDecoder`.
public struct TransportPreface: Sendable, Hashable {
    /// The pod the hop is for (its IP address and port): it must be a meshed pod local to the
    /// receiver. On the wire its address is 4 or 16 bytes, so an IPv4-mapped IPv6 address
    /// (`[::ffff:10.0.0.1]:80`) stays IPv6: it is not the same address as `10.0.0.1` for the
    /// purpose of finding a local pod. A receiver refuses port 0 and an unspecified address
    /// (`0.0.0.0`, `::`).
    public var target: IPEndpoint
    /// What the bytes after the preface are.
    public var innerProtocol: InnerProtocol

    // Later fields are added as stored properties with defaults (and new field types on the
    // wire, which older receivers skip); the memberwise shape of `init` grows with them.
    public init(target: IPEndpoint, innerProtocol: InnerProtocol) {
        self.target = target
        self.innerProtocol = innerProtocol
    }

    /// What follows the preface on the stream.
    public enum InnerProtocol: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// HTTP/1.x requests.
        case http1 = 1
        /// HTTP/2 with prior knowledge (the client's connection preface comes next).
        case http2 = 2
        /// Opaque TCP: bytes spliced to the target as they are.
        case opaque = 3

        public var description: String {
            switch self {
            case .http1: return "http1"
            case .http2: return "http2"
            case .opaque: return "opaque"
            }
        }
    }

    /// The field types this version knows. Any other type is skipped by receivers.
    public enum FieldType: UInt8, Sendable, Hashable, CaseIterable {
        /// The target: 4 or 16 address bytes, then a 2-byte big-endian port (length 6 or 18).
        case target = 0x01
        /// The inner protocol: one byte, an `InnerProtocol` raw value (length 1).
        case innerProtocol = 0x02
    }

    /// The first eight bytes of every preface: `00 53 57 59 44 2F 54 50` (NUL, then `SWYD/TP`).
    /// A NUL first byte is none of a TLS record's content types (0x14–0x18), an SSLv2 hello
    /// (high bit set), an HTTP/1 method token, the HTTP/2 preface (`PRI`), a PROXY protocol
    /// header (`PROXY` / `0D 0A`) or Linkerd's transport header (`transport.l5d.io`), so any of
    /// them is refused at its first byte.
    public static let magic: [UInt8] = [0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x50]
    /// The version this implementation writes and the only one it reads.
    public static let version: UInt8 = 1
    /// Magic, version and the 2-byte length: 11 bytes before the fields.
    public static let headerSize = 11
    /// The largest preface a receiver accepts, header included: 512 bytes. A header declaring
    /// more is refused before any of its fields is read.
    public static let maximumSize = 512
}
