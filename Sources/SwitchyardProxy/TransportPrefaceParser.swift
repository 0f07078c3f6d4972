import NIOCore
import SwitchyardInterception

/// Decodes a transport preface from the front of the bytes received so far.
///
/// `parse` is pure: it reads the bytes it is given (without consuming them) and says whether
/// they begin with a complete valid preface, are a valid beginning that needs more bytes, or
/// can never become one. It decides as early as the bytes allow — a wrong first byte of the
/// magic is refused at once, a header declaring more than `TransportPreface.maximumSize` is
/// refused before its fields arrive — so a caller that keeps what it has received while the
/// answer is `.needMoreData` never holds more than `maximumSize - 1` bytes.
public enum TransportPrefaceParser {
    /// What the bytes received so far amount to.
    public enum Result: Sendable, Hashable {
        /// A valid beginning: wait for more bytes.
        case needMoreData
        /// A complete valid preface, the first `consumed` bytes; anything after belongs to the
        /// inner protocol.
        case preface(TransportPreface, consumed: Int)
        /// Not a preface, and no more bytes would make it one.
        case invalid(TransportPrefaceError)
    }

    /// Parses a preface at the front of `bytes`' readable bytes.
    public static func parse(_ bytes: ByteBuffer) -> Result {
        let start = bytes.readerIndex
        let available = bytes.readableBytes

        let magic = TransportPreface.magic
        for i in 0..<min(available, magic.count) where bytes.getInteger(at: start + i, as: UInt8.self) != magic[i] {
            return .invalid(.badMagic(looksLike: ForeignProtocolGuess.guess(bytes)))
        }
        guard let version = bytes.getInteger(at: start + magic.count, as: UInt8.self) else { return .needMoreData }
        guard version == TransportPreface.version else { return .invalid(.unsupportedVersion(version)) }
        guard let fieldsLength = bytes.getInteger(at: start + magic.count + 1, as: UInt16.self) else {
            return .needMoreData
        }
        let size = TransportPreface.headerSize + Int(fieldsLength)
        guard size <= TransportPreface.maximumSize else {
            return .invalid(.tooLarge(size: size, limit: TransportPreface.maximumSize))
        }
        guard available >= size else { return .needMoreData }

        switch parseFields(bytes, from: start + TransportPreface.headerSize, to: start + size, base: start) {
        case .success(let preface): return .preface(preface, consumed: size)
        case .failure(let error): return .invalid(error)
        }
    }

    /// Reads the fields in `[from, to)`; offsets in errors are relative to `base` (the preface's first byte).
    private static func parseFields(
        _ bytes: ByteBuffer, from: Int, to end: Int, base: Int
    ) -> Swift.Result<TransportPreface, TransportPrefaceError> {
        var target: IPEndpoint?
        var innerProtocol: TransportPreface.InnerProtocol?
        var offset = from
        while offset < end {
            guard end - offset >= 3,
                  let type = bytes.getInteger(at: offset, as: UInt8.self),
                  let length16 = bytes.getInteger(at: offset + 1, as: UInt16.self),
                  end - offset - 3 >= Int(length16)
            else { return .failure(.truncatedField(offset: offset - base)) }
            let length = Int(length16)
            let value = offset + 3
            switch TransportPreface.FieldType(rawValue: type) {
            case .target:
                guard target == nil else { return .failure(.duplicateField(type: type)) }
                switch readTarget(bytes, at: value, length: length) {
                case .success(let read): target = read
                case .failure(let error): return .failure(error)
                }
            case .innerProtocol:
                guard innerProtocol == nil else { return .failure(.duplicateField(type: type)) }
                guard length == 1 else { return .failure(.badFieldLength(type: type, length: length)) }
                let raw = bytes.getInteger(at: value, as: UInt8.self)!
                guard let known = TransportPreface.InnerProtocol(rawValue: raw) else {
                    return .failure(.unknownProtocol(raw))
                }
                innerProtocol = known
            case nil:
                break  // a field from a later revision: skipped
            }
            offset = value + length
        }
        guard let target else { return .failure(.missingTarget) }
        guard let innerProtocol else { return .failure(.missingProtocol) }
        return .success(TransportPreface(target: target, innerProtocol: innerProtocol))
    }

    private static func readTarget(_ bytes: ByteBuffer, at index: Int, length: Int) -> Swift.Result<IPEndpoint, TransportPrefaceError> {
        let address: IPAddress
        switch length {
        case 6:
            address = .v4(IPv4Address(bytes.getInteger(at: index, as: UInt32.self)!))
        case 18:
            address = .v6(IPv6Address(
                high: bytes.getInteger(at: index, as: UInt64.self)!,
                low: bytes.getInteger(at: index + 8, as: UInt64.self)!))
        default:
            return .failure(.badAddressLength(length))
        }
        let port = bytes.getInteger(at: index + length - 2, as: UInt16.self)!
        guard port != 0 else { return .failure(.zeroPort) }
        // `0.0.0.0` or `::` names no host (and a careless `connect` would take it to mean this
        // host). `::ffff:0.0.0.0` is an IPv6 address like any other mapped one.
        guard address != .v4(.any), address != .v6(.any) else { return .failure(.unspecifiedAddress) }
        return .success(IPEndpoint(address, port: port))
    }
}
