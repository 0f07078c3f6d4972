// TransportPrefaceDecoder on an EmbeddedChannel: split deliveries, pass-through, refusals, timeouts.
import NIOCore
import NIOEmbedded
import SwitchyardInterception
@testable import SwitchyardProxy
import Testing

@Suite("Transport preface: the decoder on a channel")
struct TransportPrefaceDecoderTests {
    static let preface = TransportPreface(
        target: IPEndpoint(IPv4Address(0x0A2A_0107), port: 9898), innerProtocol: .http1)
    static let request = Array("GET /env HTTP/1.1\r\nHost: backend-a-podinfo:9898\r\n\r\n".utf8)

    @Test("preface and request in one read: the event, then the request, and the decoder is gone")
    func oneRead() throws {
        let h = try DecoderHarness()
        try h.send(RawPreface.valid + Self.request)
        #expect(h.recorder.log == [.preface(Self.preface), .read(Self.request)])
        #expect(!h.decoderInPipeline)
        #expect(h.channel.isActive)

        try h.send(Array("more".utf8))
        #expect(h.recorder.log.last == .read(Array("more".utf8)))
        #expect(h.recorder.errors.isEmpty)
    }

    @Test("a preface alone: the event, no read, and later bytes pass through unchanged")
    func prefaceAlone() throws {
        let h = try DecoderHarness()
        try h.send(RawPreface.valid)
        #expect(h.recorder.log == [.preface(Self.preface)])
        try h.send(Array(Self.request.prefix(10)))
        try h.send(Array(Self.request.dropFirst(10)))
        #expect(h.recorder.log == [.preface(Self.preface), .read(Array(Self.request.prefix(10))),
                                   .read(Array(Self.request.dropFirst(10)))])
    }

    @Test("delivered byte by byte: nothing passes until the last byte of the preface, then every byte in order")
    func byteByByte() throws {
        let h = try DecoderHarness()
        let preface = TransportPreface(
            target: IPEndpoint("[fd00:10:42:1::7]:9898")!, innerProtocol: .http2)
        let bytes = Array(preface.encoded().readableBytesView)
        for (i, byte) in bytes.enumerated() {
            #expect(h.recorder.log.isEmpty)
            #expect(h.decoder.bufferedByteCount == i)
            try h.send([byte])
        }
        #expect(h.recorder.log == [.preface(preface)])
        for byte in Self.request { try h.send([byte]) }
        #expect(h.recorder.receivedBytes == Self.request)
        #expect(h.recorder.reads == Self.request.count)
        #expect(h.recorder.errors.isEmpty && h.channel.isActive)
    }

    @Test("the read that completes a preface carries a large payload: its bytes pass on in order, at most 512 held")
    func completingReadWithPayload() throws {
        let h = try DecoderHarness()
        let payload = (0..<2000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try h.send(Array(RawPreface.valid.prefix(10)))
        try h.send(Array(RawPreface.valid.dropFirst(10)) + payload)
        #expect(h.recorder.prefaces == [Self.preface])
        #expect(h.recorder.receivedBytes == payload)
        // 10 held + 502 taken from the second read = 512; 24 of them the preface, 488 passed on,
        // then the untouched rest of the second read.
        #expect(h.recorder.log.count == 3)
        #expect(h.recorder.readBuffers.map(\.count) == [488, 1512])
    }

    @Test("a maximal preface with unknown fields, byte by byte, never holds more than the limit")
    func maximalPreface() throws {
        let h = try DecoderHarness()
        let filler = RawPreface.field(0xC0, [UInt8](repeating: 0xAB, count: 485))
        let bytes = RawPreface.preface(RawPreface.target([10, 42, 1, 7], port: 9898), RawPreface.proto(1), filler)
        #expect(bytes.count == 512)
        var most = 0
        for byte in bytes + [0x01, 0x02] {
            try h.send([byte])
            most = max(most, h.decoder.bufferedByteCount)
        }
        #expect(most == 511)
        #expect(h.recorder.log == [.preface(Self.preface), .read([0x01]), .read([0x02])])
    }

    @Test("a handler that closes on the event (target not a local pod): the bytes after the preface go nowhere")
    func closedOnEvent() throws {
        let h = try DecoderHarness()
        h.recorder.closeOnPreface = true
        try h.send(RawPreface.valid + Self.request)
        #expect(h.recorder.log == [.preface(Self.preface), .inactive])
        #expect(!h.channel.isActive)
    }

    @Test("refused and closed", arguments: InvalidPreface.all)
    func refused(_ example: InvalidPreface) throws {
        let h = try DecoderHarness()
        try h.send(example.bytes + Self.request)
        #expect(h.recorder.log == [.error(example.error), .inactive])
        #expect(!h.channel.isActive)
    }

    @Test("refused and closed when delivered byte by byte", arguments: InvalidPreface.all)
    func refusedByteByByte(_ example: InvalidPreface) throws {
        let h = try DecoderHarness()
        for byte in example.bytes where h.channel.isActive { try h.send([byte]) }
        #expect(h.recorder.errors.count == 1)
        #expect(h.recorder.errors.first?.label == example.error.label)
        #expect(h.recorder.log.last == .inactive)
        #expect(!h.channel.isActive)
    }

    @Test("a TLS ClientHello is refused at its first byte")
    func clientHelloFirstByte() throws {
        let h = try DecoderHarness()
        try h.send([0x16])
        #expect(h.recorder.log == [.error(.badMagic(looksLike: "a TLS handshake record")), .inactive])
    }

    @Test("a header declaring too much is refused before any field arrives")
    func oversizeHeader() throws {
        let h = try DecoderHarness()
        try h.send(RawPreface.magic + [0x01, 0x02])
        #expect(h.channel.isActive && h.decoder.bufferedByteCount == 10)
        try h.send([0x00])  // 0x0200 = 512 bytes of fields: 523 in all
        #expect(h.recorder.log == [.error(.tooLarge(size: 523, limit: 512)), .inactive])
        #expect(h.decoder.bufferedByteCount == 0)
    }

    @Test("a connection that sends nothing is closed after the default 10 s")
    func timeoutSilent() throws {
        let h = try DecoderHarness()
        h.loop.advanceTime(by: .milliseconds(9_999))
        #expect(h.channel.isActive && h.recorder.log.isEmpty)
        h.loop.advanceTime(by: .milliseconds(1))
        #expect(h.recorder.log == [.error(.timeout), .inactive])
        #expect(!h.channel.isActive)
    }

    @Test("the timeout is configurable and counts from activation, not from the last byte")
    func timeoutPartial() throws {
        let h = try DecoderHarness(timeout: .seconds(2))
        try h.send(Array(RawPreface.valid.prefix(5)))
        h.loop.advanceTime(by: .seconds(1))
        try h.send(Array(RawPreface.valid.dropFirst(5).prefix(5)))
        h.loop.advanceTime(by: .seconds(1))
        #expect(h.recorder.log == [.error(.timeout), .inactive])
    }

    @Test("no timeout once the preface has arrived")
    func noTimeoutAfterPreface() throws {
        let h = try DecoderHarness()
        try h.send(RawPreface.valid)
        h.loop.advanceTime(by: .hours(1))
        #expect(h.channel.isActive)
        #expect(h.recorder.log == [.preface(Self.preface)])
    }

    @Test("added before the channel is active: the timer starts on activation")
    func timerStartsOnActivation() throws {
        let h = try DecoderHarness(activate: false)
        h.loop.advanceTime(by: .seconds(30))
        #expect(h.recorder.log.isEmpty)
        try h.activate()
        h.loop.advanceTime(by: .seconds(10))
        #expect(h.recorder.log == [.error(.timeout), .inactive])
    }

    @Test("the peer's input ending before a complete preface: closedEarly, then close")
    func inputClosedEarly() throws {
        let h = try DecoderHarness()
        try h.send(Array(RawPreface.valid.prefix(5)))
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.recorder.log == [.error(.closedEarly(receivedBytes: 5)), .inactive])
    }

    @Test("the channel closing before a complete preface: closedEarly")
    func inactiveEarly() throws {
        let h = try DecoderHarness()
        try h.send(Array(RawPreface.valid.prefix(3)))
        try h.channel.close().wait()
        #expect(h.recorder.log == [.error(.closedEarly(receivedBytes: 3)), .inactive])
    }

    @Test("it asks for reads while waiting for the preface (so autoRead off works)")
    func asksForReads() throws {
        let h = try DecoderHarness(activate: false)
        #expect(h.readCounter.reads == 0)
        try h.activate()
        let afterActivation = h.readCounter.reads
        #expect(afterActivation >= 1)
        try h.send(Array(RawPreface.valid.prefix(5)))
        #expect(h.readCounter.reads > afterActivation)
        let beforePreface = h.readCounter.reads
        try h.send(Array(RawPreface.valid.dropFirst(5)))
        try h.send(Self.request)
        #expect(h.readCounter.reads == beforePreface)  // after the preface, reads are the application's business
    }
}
