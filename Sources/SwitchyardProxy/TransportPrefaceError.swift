/// Why a receiver refused a connection's transport preface. The receiver fires it
/// (`errorCaught`) and closes the connection; nothing is written back.
///
/// `description` says what was wrong in words an operator can act on; `label` is a short,
/// stable name for counting refusals by reason.
public enum TransportPrefaceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stream does not start with the magic. `looksLike` is a best guess, from the bytes
    /// that had arrived, at what it is instead (`"a TLS handshake record"`, `"an HTTP/1 request"`, ...).
    case badMagic(looksLike: String?)
    /// The version byte is not one this receiver reads.
    case unsupportedVersion(UInt8)
    /// The header declares a preface of `size` bytes, more than the `limit`.
    case tooLarge(size: Int, limit: Int)
    /// The field starting at byte `offset` of the preface (its type, its length or its value)
    /// runs past the end the header declared.
    case truncatedField(offset: Int)
    /// A known field has a length its type does not allow (the target's length is
    /// `badAddressLength` instead).
    case badFieldLength(type: UInt8, length: Int)
    /// A known field appears more than once.
    case duplicateField(type: UInt8)
    /// No target field.
    case missingTarget
    /// No inner-protocol field.
    case missingProtocol
    /// The target field's length is neither 6 (IPv4 and port) nor 18 (IPv6 and port).
    case badAddressLength(Int)
    /// The target's port is 0.
    case zeroPort
    /// The target's address is `0.0.0.0` or `::`.
    case unspecifiedAddress
    /// The inner-protocol field holds a value that names no protocol.
    case unknownProtocol(UInt8)
    /// No complete preface arrived within the configured time.
    case timeout
    /// The peer ended its side of the connection before a complete preface (after `receivedBytes` of it).
    case closedEarly(receivedBytes: Int)

    /// A short, stable name for the reason (`bad_magic`, `too_large`, ...), for metrics labels.
    public var label: String {
        switch self {
        case .badMagic: return "bad_magic"
        case .unsupportedVersion: return "unsupported_version"
        case .tooLarge: return "too_large"
        case .truncatedField: return "truncated_field"
        case .badFieldLength: return "bad_field_length"
        case .duplicateField: return "duplicate_field"
        case .missingTarget: return "missing_target"
        case .missingProtocol: return "missing_protocol"
        case .badAddressLength: return "bad_address_length"
        case .zeroPort: return "zero_port"
        case .unspecifiedAddress: return "unspecified_address"
        case .unknownProtocol: return "unknown_protocol"
        case .timeout: return "timeout"
        case .closedEarly: return "closed_early"
        }
    }

    public var description: String {
        switch self {
        case .badMagic(let guess?):
            return "bad transport preface magic: the stream starts with \(guess), not a Switchyard preface"
        case .badMagic(nil):
            return "bad transport preface magic: the stream does not start with a Switchyard preface"
        case .unsupportedVersion(let version):
            return "unsupported transport preface version \(version) (this receiver reads version \(TransportPreface.version))"
        case .tooLarge(let size, let limit):
            return "transport preface too large: its header declares \(size) bytes, the limit is \(limit)"
        case .truncatedField(let offset):
            return "truncated transport preface field at byte \(offset): it runs past the length the header declared"
        case .badFieldLength(let type, let length):
            return "transport preface field \(Self.fieldName(type)) has length \(length)"
        case .duplicateField(let type):
            return "transport preface field \(Self.fieldName(type)) appears more than once"
        case .missingTarget:
            return "transport preface names no target"
        case .missingProtocol:
            return "transport preface names no inner protocol"
        case .badAddressLength(let length):
            return "transport preface target has length \(length); it must be 6 (IPv4) or 18 (IPv6)"
        case .zeroPort:
            return "transport preface target has port 0"
        case .unspecifiedAddress:
            return "transport preface target has an unspecified address (0.0.0.0 or ::)"
        case .unknownProtocol(let value):
            return "transport preface names unknown inner protocol \(value)"
        case .timeout:
            return "transport preface timeout: no complete preface arrived in time"
        case .closedEarly(let received):
            return "connection closed before a complete transport preface (\(received) bytes of it received)"
        }
    }

    private static func fieldName(_ type: UInt8) -> String {
        switch TransportPreface.FieldType(rawValue: type) {
        case .target: return "target (0x01)"
        case .innerProtocol: return "inner protocol (0x02)"
        case nil: return "0x" + String(type, radix: 16)
        }
    }
}
