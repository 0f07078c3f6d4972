import NIOCore
import SwitchyardInterception

extension TransportPreface {
    /// How many bytes `encode(into:)` writes: 24 for an IPv4 target, 36 for IPv6.
    public var encodedSize: Int {
        Self.headerSize + fieldsSize
    }

    /// The target address's size on the wire: 4 bytes for IPv4, 16 for IPv6 (an IPv4-mapped
    /// address included).
    private var addressSize: Int {
        switch target.address {
        case .v4: return 4
        case .v6: return 16
        }
    }

    private var fieldsSize: Int {
        (3 + addressSize + 2) + (3 + 1)
    }

    /// Writes the preface: magic, version, length, then the target field and the inner
    /// protocol field (in ascending type order). Returns the number of bytes written.
    ///
    /// The preface is written as given: a target with port 0 or an unspecified address encodes,
    /// but every receiver refuses it.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer) -> Int {
        buffer.reserveCapacity(minimumWritableBytes: encodedSize)
        var written = buffer.writeBytes(Self.magic)
        written += buffer.writeInteger(Self.version)
        written += buffer.writeInteger(UInt16(fieldsSize))

        written += buffer.writeInteger(FieldType.target.rawValue)
        written += buffer.writeInteger(UInt16(addressSize + 2))
        switch target.address {
        case .v4(let v4):
            written += buffer.writeInteger(v4.value)
        case .v6(let v6):
            written += buffer.writeInteger(v6.high)
            written += buffer.writeInteger(v6.low)
        }
        written += buffer.writeInteger(target.port)

        written += buffer.writeInteger(FieldType.innerProtocol.rawValue)
        written += buffer.writeInteger(UInt16(1))
        written += buffer.writeInteger(innerProtocol.rawValue)
        return written
    }

    /// The preface in a buffer of its own.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSize)
        encode(into: &buffer)
        return buffer
    }
}

extension ByteBuffer {
    /// Writes `preface` (see `TransportPreface.encode(into:)`); returns the number of bytes written.
    @discardableResult
    public mutating func writeTransportPreface(_ preface: TransportPreface) -> Int {
        preface.encode(into: &self)
    }
}
