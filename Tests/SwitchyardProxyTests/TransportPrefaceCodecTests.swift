// The preface's wire format: encoding, decoding, and every way a preface can be refused.
import NIOCore
import SwitchyardInterception
import SwitchyardProxy
import Testing

@Suite("Transport preface: wire format")
struct TransportPrefaceCodecTests {
    static let v4 = IPEndpoint(IPv4Address("10.42.1.7")!, port: 9898)
    static let v6 = IPEndpoint(IPv6Address("fd00:10:42:1::7")!, port: 9898)

    /// The IPv4 example of docs/transport.md, byte for byte.
    static let goldenV4: [UInt8] = [
        0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x50,  // magic "\0SWYD/TP"
        0x01,  // version 1
        0x00, 0x0D,  // 13 bytes of fields
        0x01, 0x00, 0x06, 0x0A, 0x2A, 0x01, 0x07, 0x26, 0xAA,  // target 10.42.1.7:9898
        0x02, 0x00, 0x01, 0x01,  // inner protocol http1
    ]

    /// The IPv6 example of docs/transport.md, byte for byte.
    static let goldenV6: [UInt8] = [
        0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x50,
        0x01,
        0x00, 0x19,  // 25 bytes of fields
        0x01, 0x00, 0x12,  // target, 18 bytes
        0xFD, 0x00, 0x00, 0x10, 0x00, 0x42, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
        0x26, 0xAA,
        0x02, 0x00, 0x01, 0x02,  // inner protocol http2
    ]

    @Test("an IPv4 preface encodes to the documented bytes")
    func goldenIPv4() {
        let preface = TransportPreface(target: Self.v4, innerProtocol: .http1)
        let encoded = preface.encoded()
        #expect(Array(encoded.readableBytesView) == Self.goldenV4)
        #expect(preface.encodedSize == 24)
        #expect(Self.goldenV4 == RawPreface.valid)
    }

    @Test("an IPv6 preface encodes to the documented bytes")
    func goldenIPv6() {
        let preface = TransportPreface(target: Self.v6, innerProtocol: .http2)
        var out = ByteBuffer(string: "x")
        let written = out.writeTransportPreface(preface)
        #expect(written == 36 && preface.encodedSize == 36)
        #expect(Array(out.readableBytesView.dropFirst()) == Self.goldenV6)
    }

    @Test("round trip", arguments: [v4, v6], TransportPreface.InnerProtocol.allCases)
    func roundTrip(target: IPEndpoint, innerProtocol: TransportPreface.InnerProtocol) {
        let preface = TransportPreface(target: target, innerProtocol: innerProtocol)
        var bytes = preface.encoded()
        #expect(TransportPrefaceParser.parse(bytes) == .preface(preface, consumed: preface.encodedSize))
        // Bytes after the preface are not the parser's business.
        bytes.writeString("GET / HTTP/1.1\r\n")
        #expect(TransportPrefaceParser.parse(bytes) == .preface(preface, consumed: preface.encodedSize))
    }

    @Test("the parser reads from the reader index")
    func readerIndex() {
        var bytes = ByteBuffer(string: "already read")
        bytes.moveReaderIndex(to: bytes.writerIndex)
        bytes.writeBytes(Self.goldenV4)
        let expected = TransportPreface(target: Self.v4, innerProtocol: .http1)
        #expect(TransportPrefaceParser.parse(bytes) == .preface(expected, consumed: 24))
    }

    @Test("every proper prefix of a valid preface needs more data")
    func prefixes() {
        for golden in [Self.goldenV4, Self.goldenV6] {
            for n in 0..<golden.count {
                #expect(TransportPrefaceParser.parse(buffer(Array(golden.prefix(n)))) == .needMoreData, "prefix \(n)")
            }
        }
    }

    @Test("unknown field types are skipped, wherever they are and whatever their length")
    func unknownFieldsSkipped() {
        let expected = TransportPreface(target: Self.v4, innerProtocol: .opaque)
        let bytes = RawPreface.preface(
            RawPreface.field(0x7F, Array("a later field".utf8)),
            RawPreface.target([10, 42, 1, 7], port: 9898),
            RawPreface.field(0x00, []),
            RawPreface.proto(3),
            RawPreface.field(0xFF, [UInt8](repeating: 0xEE, count: 300)))
        #expect(TransportPrefaceParser.parse(buffer(bytes)) == .preface(expected, consumed: bytes.count))
    }

    @Test("fields may come in any order")
    func fieldOrder() {
        let bytes = RawPreface.preface(RawPreface.proto(2), RawPreface.target([10, 42, 1, 7], port: 9898))
        let expected = TransportPreface(target: Self.v4, innerProtocol: .http2)
        #expect(TransportPrefaceParser.parse(buffer(bytes)) == .preface(expected, consumed: 24))
    }

    @Test("a preface of exactly the limit is accepted")
    func exactlyTheLimit() {
        let filler = RawPreface.field(0x80, [UInt8](repeating: 0, count: 512 - 11 - 9 - 4 - 3))
        let bytes = RawPreface.preface(RawPreface.target([10, 42, 1, 7], port: 9898), RawPreface.proto(1), filler)
        #expect(bytes.count == TransportPreface.maximumSize)
        #expect(TransportPrefaceParser.parse(buffer(bytes)) == .preface(
            TransportPreface(target: Self.v4, innerProtocol: .http1), consumed: 512))
    }

    @Test("refused", arguments: InvalidPreface.all)
    func invalid(_ example: InvalidPreface) {
        #expect(TransportPrefaceParser.parse(buffer(example.bytes)) == .invalid(example.error))
    }

    @Test("a wrong first byte is refused at once, without waiting for the rest of the magic")
    func badMagicAtFirstByte() {
        #expect(TransportPrefaceParser.parse(buffer([0x16])) == .invalid(.badMagic(looksLike: "a TLS handshake record")))
        #expect(TransportPrefaceParser.parse(buffer("G")) == .invalid(.badMagic(looksLike: nil)))
        #expect(TransportPrefaceParser.parse(buffer([0x00, 0x53, 0x57, 0x58])) == .invalid(.badMagic(looksLike: nil)))
    }

    @Test("an oversize length is refused from the header alone, before any field arrives")
    func oversizeFromHeader() {
        let header = RawPreface.magic + [0x01, 0x01, 0xF6]  // 502 bytes of fields: 513 in all
        #expect(TransportPrefaceParser.parse(buffer(header)) == .invalid(.tooLarge(size: 513, limit: 512)))
        let largest = RawPreface.magic + [0x01, 0xFF, 0xFF]
        #expect(TransportPrefaceParser.parse(buffer(largest)) == .invalid(.tooLarge(size: 65_546, limit: 512)))
    }

    @Test("an unsupported version is refused as soon as its byte arrives")
    func versionFromNineBytes() {
        #expect(TransportPrefaceParser.parse(buffer(RawPreface.magic + [0x02])) == .invalid(.unsupportedVersion(2)))
    }

    @Test("errors have stable labels and say what was wrong")
    func errorText() {
        #expect(TransportPrefaceError.badMagic(looksLike: "an HTTP/1 request").description
            == "bad transport preface magic: the stream starts with an HTTP/1 request, not a Switchyard preface")
        #expect(TransportPrefaceError.tooLarge(size: 513, limit: 512).description
            == "transport preface too large: its header declares 513 bytes, the limit is 512")
        #expect(TransportPrefaceError.badFieldLength(type: 2, length: 2).description
            == "transport preface field inner protocol (0x02) has length 2")
        #expect(TransportPrefaceError.duplicateField(type: 0x01).label == "duplicate_field")
        #expect(TransportPrefaceError.timeout.label == "timeout")
        let labels = InvalidPreface.all.map(\.error.label)
        #expect(Set(labels).count == 12)
    }
}

/// A byte sequence that is not a valid preface, and the reason a receiver gives.
struct InvalidPreface: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let error: TransportPrefaceError

    var testDescription: String { name }

    static let v4Target = RawPreface.target([10, 42, 1, 7], port: 9898)
    static let http1 = RawPreface.proto(1)

    /// The start of a real TLS 1.3 ClientHello record (what a TLS client sends inside TLS by mistake).
    static let clientHello: [UInt8] = [
        0x16, 0x03, 0x01, 0x00, 0xF8, 0x01, 0x00, 0x00, 0xF4, 0x03, 0x03,
    ] + [UInt8](repeating: 0x5A, count: 32)

    static let all: [InvalidPreface] = [
        InvalidPreface(name: "a TLS ClientHello", bytes: clientHello,
                       error: .badMagic(looksLike: "a TLS handshake record")),
        InvalidPreface(name: "an HTTP/1 request", bytes: Array("GET / HTTP/1.1\r\nHost: backend\r\n\r\n".utf8),
                       error: .badMagic(looksLike: "an HTTP/1 request")),
        InvalidPreface(name: "the HTTP/2 preface", bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8),
                       error: .badMagic(looksLike: "the HTTP/2 connection preface")),
        InvalidPreface(name: "Linkerd's transport header", bytes: Array("transport.l5d.io/v1".utf8) + [0, 0, 0, 4],
                       error: .badMagic(looksLike: "Linkerd's transport header")),
        InvalidPreface(name: "a PROXY v1 header", bytes: Array("PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n".utf8),
                       error: .badMagic(looksLike: "a PROXY protocol v1 header")),
        InvalidPreface(name: "magic with one byte wrong", bytes: [0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x51, 1, 0, 0],
                       error: .badMagic(looksLike: nil)),
        InvalidPreface(name: "version 0", bytes: RawPreface.preface(version: 0, v4Target, http1),
                       error: .unsupportedVersion(0)),
        InvalidPreface(name: "version 2", bytes: RawPreface.preface(version: 2, v4Target, http1),
                       error: .unsupportedVersion(2)),
        InvalidPreface(name: "a length over the limit", bytes: RawPreface.preface(declaredLength: 502, v4Target, http1),
                       error: .tooLarge(size: 513, limit: 512)),
        InvalidPreface(name: "a field header cut by the declared length",
                       bytes: RawPreface.preface(declaredLength: 11, v4Target, http1),
                       error: .truncatedField(offset: 20)),
        InvalidPreface(name: "a field value cut by the declared length",
                       bytes: RawPreface.preface(declaredLength: 8, v4Target, http1),
                       error: .truncatedField(offset: 11)),
        InvalidPreface(name: "an unknown field longer than the rest",
                       bytes: RawPreface.preface(v4Target, http1, [0x7F, 0x00, 0x05, 0xAA]),
                       error: .truncatedField(offset: 24)),
        InvalidPreface(name: "no fields at all", bytes: RawPreface.preface(),
                       error: .missingTarget),
        InvalidPreface(name: "no target", bytes: RawPreface.preface(http1, RawPreface.field(0x7F, [1])),
                       error: .missingTarget),
        InvalidPreface(name: "no inner protocol", bytes: RawPreface.preface(v4Target),
                       error: .missingProtocol),
        InvalidPreface(name: "a 5-byte target", bytes: RawPreface.preface(RawPreface.field(1, [10, 42, 1, 0x26, 0xAA]), http1),
                       error: .badAddressLength(5)),
        InvalidPreface(name: "an IPv6 address without a port",
                       bytes: RawPreface.preface(RawPreface.field(1, [UInt8](repeating: 0xFD, count: 16)), http1),
                       error: .badAddressLength(16)),
        InvalidPreface(name: "an empty target", bytes: RawPreface.preface(RawPreface.field(1, []), http1),
                       error: .badAddressLength(0)),
        InvalidPreface(name: "port 0", bytes: RawPreface.preface(RawPreface.target([10, 42, 1, 7], port: 0), http1),
                       error: .zeroPort),
        InvalidPreface(name: "IPv6 port 0",
                       bytes: RawPreface.preface(RawPreface.target([0xFD] + [UInt8](repeating: 0, count: 14) + [7], port: 0), http1),
                       error: .zeroPort),
        InvalidPreface(name: "address 0.0.0.0", bytes: RawPreface.preface(RawPreface.target([0, 0, 0, 0], port: 80), http1),
                       error: .unspecifiedAddress),
        InvalidPreface(name: "address ::",
                       bytes: RawPreface.preface(RawPreface.target([UInt8](repeating: 0, count: 16), port: 80), http1),
                       error: .unspecifiedAddress),
        InvalidPreface(name: "inner protocol 0", bytes: RawPreface.preface(v4Target, RawPreface.proto(0)),
                       error: .unknownProtocol(0)),
        InvalidPreface(name: "inner protocol 4", bytes: RawPreface.preface(v4Target, RawPreface.proto(4)),
                       error: .unknownProtocol(4)),
        InvalidPreface(name: "a 2-byte inner protocol", bytes: RawPreface.preface(v4Target, RawPreface.field(2, [1, 1])),
                       error: .badFieldLength(type: 2, length: 2)),
        InvalidPreface(name: "two targets", bytes: RawPreface.preface(v4Target, http1, v4Target),
                       error: .duplicateField(type: 1)),
        InvalidPreface(name: "two inner protocols", bytes: RawPreface.preface(v4Target, http1, RawPreface.proto(3)),
                       error: .duplicateField(type: 2)),
    ]
}
