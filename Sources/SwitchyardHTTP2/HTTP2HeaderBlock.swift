import CNGHTTP2
import NIOCore

/// One HTTP/2 header block (request or response head, or trailers): ordered fields, pseudo
/// headers (`:method`, `:path`, `:status`, ...) first, names in lowercase.
///
/// The bytes of all names and values live in one `ByteBuffer`, each field is a few offsets into
/// it, so a block costs two allocations however many fields it holds, and handing it to
/// nghttp2 builds the `nghttp2_nv` array once, on the stack, pointing into that buffer.
public struct HTTP2HeaderBlock: Sendable, Sequence, ExpressibleByDictionaryLiteral, Equatable, CustomStringConvertible {
    /// Where one field's bytes are: the name at `start`, the value right after it.
    @usableFromInline
    struct Field: Sendable {
        var start: UInt32
        var nameLength: UInt32
        var valueLength: UInt32
        var neverIndex: Bool
    }

    @usableFromInline var storage: ByteBuffer
    @usableFromInline var fields: [Field]

    private static let allocator = ByteBufferAllocator()

    /// An empty block.
    public init() {
        storage = Self.allocator.buffer(capacity: 0)
        fields = []
    }

    /// An empty block with room for `fields` fields of `bytes` bytes of names and values (one
    /// allocation for the bytes instead of two when reserved later).
    public init(reservingFields count: Int, bytes: Int) {
        storage = Self.allocator.buffer(capacity: bytes)
        fields = []
        fields.reserveCapacity(count)
    }

    /// A block of `fields` in order; names are lowercased.
    public init(_ fields: [(name: String, value: String)]) {
        self.init()
        reserve(fields: fields.count, bytes: fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
        for field in fields { add(name: field.name, value: field.value) }
    }

    /// `[":method": "GET", ":path": "/", "x-a": "1", "x-a": "2"]`: order and repeats kept.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { (name: $0.0, value: $0.1) })
    }

    /// Room for `fields` more fields holding `bytes` more bytes of names and values.
    public mutating func reserve(fields count: Int, bytes: Int) {
        fields.reserveCapacity(fields.count + count)
        storage.reserveCapacity(minimumWritableBytes: bytes)
    }

    /// Appends a field. The name is lowercased (HTTP/2 forbids uppercase names).
    /// `neverIndex`: the value must not enter HPACK's dynamic table (secrets, cookies).
    public mutating func add(name: String, value: String, neverIndex: Bool = false) {
        let start = storage.writerIndex
        var name = name
        name.withUTF8 { bytes in
            storage.reserveCapacity(minimumWritableBytes: bytes.count)
            for byte in bytes {
                storage.writeInteger(byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte)
            }
        }
        let nameLength = storage.writerIndex - start
        let valueLength = storage.writeString(value)
        fields.append(Field(start: UInt32(start), nameLength: UInt32(nameLength), valueLength: UInt32(valueLength), neverIndex: neverIndex))
    }

    /// Appends a field from raw bytes as nghttp2 decoded them (already validated, lowercase).
    mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, neverIndex: Bool) {
        let start = storage.writerIndex
        storage.writeBytes(name)
        storage.writeBytes(value)
        fields.append(Field(start: UInt32(start), nameLength: UInt32(name.count), valueLength: UInt32(value.count), neverIndex: neverIndex))
    }

    /// Appends every field of `other`.
    public mutating func add(contentsOf other: HTTP2HeaderBlock) {
        for field in other { add(name: field.name, value: field.value) }
    }

    /// Removes every field named `name`.
    public mutating func remove(name: String) {
        let needle = name
        guard fields.indices.contains(where: { nameEquals($0, needle) }) else { return }
        var kept = HTTP2HeaderBlock()
        kept.reserve(fields: fields.count, bytes: storage.readableBytes)
        for index in fields.indices where !nameEquals(index, needle) {
            let (name, value) = self[index]
            kept.add(name: name, value: value, neverIndex: fields[index].neverIndex)
        }
        self = kept
    }

    /// The number of fields.
    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// The field at `index` (0 ..< count).
    public subscript(index: Int) -> (name: String, value: String) {
        let field = fields[index]
        return (
            storage.getString(at: Int(field.start), length: Int(field.nameLength)) ?? "",
            storage.getString(at: Int(field.start + field.nameLength), length: Int(field.valueLength)) ?? ""
        )
    }

    /// The first value of `name` (case-insensitive), or nil.
    public func first(name: String) -> String? {
        let needle = name
        for index in fields.indices where nameEquals(index, needle) { return self[index].value }
        return nil
    }

    /// Every value of `name` (case-insensitive), in order.
    public func values(name: String) -> [String] {
        let needle = name
        return fields.indices.filter { nameEquals($0, needle) }.map { self[$0].value }
    }

    /// Whether a field is named `name` (case-insensitive).
    public func contains(name: String) -> Bool {
        let needle = name
        return fields.indices.contains { nameEquals($0, needle) }
    }

    /// `:method`, `:path`, `:scheme`, `:authority` of a request; `:status` of a response.
    public var method: String? { first(name: ":method") }
    public var path: String? { first(name: ":path") }
    public var scheme: String? { first(name: ":scheme") }
    public var authority: String? { first(name: ":authority") }
    public var status: Int? { first(name: ":status").flatMap { Int($0) } }

    /// The size RFC 9113 §6.5.2 counts against SETTINGS_MAX_HEADER_LIST_SIZE: every name and
    /// value plus 32 bytes per field.
    public var listSize: Int { storage.readableBytes + 32 * fields.count }

    /// Iterates the fields in order.
    public struct Iterator: IteratorProtocol {
        let block: HTTP2HeaderBlock
        var index = 0

        public mutating func next() -> (name: String, value: String)? {
            guard index < block.fields.count else { return nil }
            defer { index += 1 }
            return block[index]
        }
    }

    public func makeIterator() -> Iterator { Iterator(block: self) }

    public static func == (lhs: HTTP2HeaderBlock, rhs: HTTP2HeaderBlock) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return (0..<lhs.count).allSatisfy { lhs[$0] == rhs[$0] }
    }

    public var description: String {
        "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }

    // MARK: - Internals

    /// Compares the field's name with an already lowercased `needle` without allocating.
    /// Whether field `index` is named `needle`, ASCII letters compared without case (the
    /// needle is not lower-cased into a new string: that would allocate for long names).
    private func nameEquals(_ index: Int, _ needle: String) -> Bool {
        let field = fields[index]
        var needle = needle
        return needle.withUTF8 { wanted in
            guard wanted.count == Int(field.nameLength) else { return false }
            return storage.withUnsafeReadableBytes { bytes in
                let start = Int(field.start)
                for offset in 0..<wanted.count where Self.lower(wanted[offset]) != Self.lower(bytes[start + offset]) {
                    return false
                }
                return true
            }
        }
    }

    private static func lower(_ c: UInt8) -> UInt8 { c &- 0x41 < 26 ? c | 0x20 : c }

    /// Calls `body` with this block as nghttp2 name/value pairs, valid only during the call
    /// (nghttp2 copies them when a frame is submitted). The array lives on the stack.
    func withNameValuePairs<Result>(_ body: (UnsafeMutableBufferPointer<nghttp2_nv>) -> Result) -> Result {
        storage.withUnsafeReadableBytes { bytes in
            withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: Swift.max(fields.count, 1)) { nva in
                let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                for (index, field) in fields.enumerated() {
                    let name = base.map { ($0 + Int(field.start)).assumingMemoryBound(to: UInt8.self) }
                    let value = base.map { ($0 + Int(field.start + field.nameLength)).assumingMemoryBound(to: UInt8.self) }
                    let flags = field.neverIndex ? NGHTTP2_NV_FLAG_NO_INDEX.rawValue : NGHTTP2_NV_FLAG_NONE.rawValue
                    (nva.baseAddress! + index).initialize(to: nghttp2_nv(
                        name: name, value: value, namelen: Int(field.nameLength), valuelen: Int(field.valueLength),
                        flags: UInt8(flags)))
                }
                return body(UnsafeMutableBufferPointer(rebasing: nva[0..<fields.count]))
            }
        }
    }
}
