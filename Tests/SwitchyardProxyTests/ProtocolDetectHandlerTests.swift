// ProtocolDetectionHandler on an EmbeddedChannel: the event, bytes passed on exactly and in order
// across splits, the peek limit, the timeout, the end of input, reads with autoRead off.
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import SwitchyardProxy
import Testing

@Suite("Protocol detection: the handler on a channel")
struct ProtocolDetectHandlerTests {
    static let request = Array("GET /env HTTP/1.1\r\nHost: backend-a-podinfo:9898\r\n\r\n".utf8)

    @Test("a request in one read: the event, then the same buffer, and the handler is gone")
    func oneRead() throws {
        let h = try DetectHarness()
        try h.send(Self.request)
        #expect(h.recorder.log == [.detected(.http1, Self.request.count, .classified), .read(Self.request)])
        #expect(!h.handlerInPipeline)
        try h.send(Array("more".utf8))
        #expect(h.recorder.log.last == .read(Array("more".utf8)))
        #expect(h.channel.isActive)
    }

    @Test("a POST with its body in the same read passes on whole")
    func postWithBody() throws {
        let h = try DetectHarness()
        let post = Array("POST /upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8)
        try h.send(post)
        #expect(h.recorder.log == [.detected(.http1, post.count, .classified), .read(post)])
    }

    @Test("the HTTP/2 preface byte by byte: nothing passes until its last byte, then all of it")
    func http2ByteByByte() throws {
        let h = try DetectHarness()
        for (i, byte) in SniffExample.http2Preface.enumerated() {
            #expect(h.recorder.log.isEmpty)
            #expect(h.handler.bufferedByteCount == i)
            try h.send([byte])
        }
        #expect(h.recorder.log == [.detected(.http2, 24, .classified), .read(SniffExample.http2Preface)])
        try h.send(SniffExample.settingsFrame)
        #expect(h.recorder.receivedBytes == SniffExample.http2Preface + SniffExample.settingsFrame)
        #expect(!h.handlerInPipeline)
    }

    @Test("every example, split every way: one event, and exactly the bytes sent, in order",
          arguments: SniffExample.all)
    func splits(_ example: SniffExample) throws {
        let trailer = Array("and then some".utf8)
        for piece in [1, 2, 3, 7, 16, 1000] {
            let h = try DetectHarness()
            let all = example.bytes + trailer
            var start = 0
            while start < all.count {
                let end = min(start + piece, all.count)
                try h.send(Array(all[start..<end]))
                start = end
            }
            #expect(h.recorder.detections.map(\.protocol) == [example.expected], "pieces of \(piece)")
            #expect(h.recorder.detections.first?.reason == .classified)
            #expect(h.recorder.receivedBytes == all, "pieces of \(piece)")
            #expect(h.recorder.log.first.map { if case .detected = $0 { true } else { false } } == true)
            #expect(!h.handlerInPipeline)
        }
    }

    @Test("the read that decides carries a large payload: held bytes, then the rest, in order")
    func decidingReadWithPayload() throws {
        let h = try DetectHarness()
        let payload = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try h.send(Array("GET / HT".utf8))
        try h.send(Array("TP/1.1\r\n\r\n".utf8) + payload)
        #expect(h.recorder.detections == [ProtocolDetected(protocol: .http1, bytesSeen: 8 + 10 + 20_000, reason: .classified)])
        #expect(h.recorder.receivedBytes == Array("GET / HTTP/1.1\r\n\r\n".utf8) + payload)
        // 8 held + 8184 taken from the second read = the 8 KiB limit; then the untouched rest.
        #expect(h.recorder.readBuffers.map(\.count) == [8192, 20_018 - 8192])
    }

    @Test("a first line longer than the peek limit: opaque when the limit is reached, never more held")
    func peekLimit() throws {
        let h = try DetectHarness(peekLimit: 64)
        let line = Array(("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\n").utf8)
        var most = 0
        for start in stride(from: 0, to: line.count, by: 10) {
            try h.send(Array(line[start..<min(start + 10, line.count)]))
            most = max(most, h.handler.bufferedByteCount)
        }
        #expect(most == 60)
        #expect(h.recorder.detections == [ProtocolDetected(protocol: .opaque, bytesSeen: 70, reason: .peekLimit)])
        #expect(h.recorder.readBuffers.map(\.count) == [64, 6, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 6])
        #expect(h.recorder.receivedBytes == line)
    }

    @Test("a single read beyond the peek limit is passed on as it came")
    func bigFirstRead() throws {
        let h = try DetectHarness(peekLimit: 64)
        let line = Array(("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\n").utf8)
        try h.send(line)
        #expect(h.recorder.log == [.detected(.opaque, line.count, .peekLimit), .read(line)])
    }

    @Test("no decision in 10 s: opaque, and the partial bytes go on; not an error")
    func timeoutPartial() throws {
        let h = try DetectHarness()
        try h.send(Array("GET / HT".utf8))
        h.loop.advanceTime(by: .milliseconds(9_999))
        #expect(h.recorder.log.isEmpty)
        h.loop.advanceTime(by: .milliseconds(1))
        #expect(h.recorder.log == [.detected(.opaque, 8, .timeout), .read(Array("GET / HT".utf8))])
        #expect(h.channel.isActive && !h.handlerInPipeline)
        try h.send(Array("TP/1.1\r\n".utf8))
        #expect(h.recorder.receivedBytes == Array("GET / HTTP/1.1\r\n".utf8))
        #expect(h.recorder.errors.isEmpty)
    }

    @Test("a silent client (a server-speaks-first protocol on an unlisted port) waits out the timeout, then is opaque")
    func timeoutSilent() throws {
        let h = try DetectHarness(timeout: .seconds(3))
        h.loop.advanceTime(by: .seconds(2))
        #expect(h.recorder.log.isEmpty)
        h.loop.advanceTime(by: .seconds(1))
        #expect(h.recorder.log == [.detected(.opaque, 0, .timeout)])
        try h.send(Array("a MySQL client's answer".utf8))
        #expect(h.recorder.log.last == .read(Array("a MySQL client's answer".utf8)))
    }

    @Test("the timeout counts from activation, not from the last byte")
    func timeoutFromActivation() throws {
        let h = try DetectHarness(timeout: .seconds(2))
        try h.send(Array("PRI * HTTP".utf8))
        h.loop.advanceTime(by: .seconds(1))
        try h.send(Array("/2.0\r\n".utf8))
        h.loop.advanceTime(by: .seconds(1))
        #expect(h.recorder.log == [.detected(.opaque, 16, .timeout), .read(Array("PRI * HTTP/2.0\r\n".utf8))])
    }

    @Test("no timeout once decided")
    func noTimeoutAfterDecision() throws {
        let h = try DetectHarness()
        try h.send(Self.request)
        h.loop.advanceTime(by: .hours(1))
        #expect(h.recorder.detections.count == 1)
        #expect(h.channel.isActive)
    }

    @Test("added before the channel is active: the timer starts on activation")
    func timerStartsOnActivation() throws {
        let h = try DetectHarness(activate: false)
        h.loop.advanceTime(by: .seconds(30))
        #expect(h.recorder.log.isEmpty)
        try h.activate()
        h.loop.advanceTime(by: .seconds(10))
        #expect(h.recorder.log == [.detected(.opaque, 0, .timeout)])
    }

    @Test("the peer's input ending first: opaque with what is there, then the end of input")
    func inputClosed() throws {
        let h = try DetectHarness()
        try h.send(Array("GET /".utf8))
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.recorder.log == [.detected(.opaque, 5, .endOfInput), .read(Array("GET /".utf8)), .inputClosed])
        #expect(!h.handlerInPipeline)
        #expect(h.channel.isActive)  // half-closed: the answer can still go out
    }

    @Test("the input ending with nothing sent: opaque, no read")
    func inputClosedEmpty() throws {
        let h = try DetectHarness()
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.recorder.log == [.detected(.opaque, 0, .endOfInput), .inputClosed])
    }

    @Test("the channel closing first: opaque with what is there, the bytes, then inactive")
    func channelClosed() throws {
        let h = try DetectHarness()
        try h.send(Array("PRI * HT".utf8))
        try h.channel.close().wait()
        #expect(h.recorder.log == [.detected(.opaque, 8, .endOfInput), .read(Array("PRI * HT".utf8)), .inactive])
    }

    @Test("a handler that closes on the event: the bytes go nowhere")
    func closedOnEvent() throws {
        let h = try DetectHarness()
        h.recorder.closeOnDetection = true
        try h.send(Self.request)
        #expect(h.recorder.log == [.detected(.http1, Self.request.count, .classified), .inactive])
    }

    @Test("a handler that closes on an end-of-input or timeout decision: no bytes, no trouble")
    func closedOnLateEvent() throws {
        let a = try DetectHarness()
        a.recorder.closeOnDetection = true
        try a.send(Array("GET /".utf8))
        a.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(a.recorder.log == [.detected(.opaque, 5, .endOfInput), .inactive])

        let b = try DetectHarness()
        b.recorder.closeOnDetection = true
        try b.send(Array("GET /".utf8))
        b.loop.advanceTime(by: .seconds(10))
        #expect(b.recorder.log == [.detected(.opaque, 5, .timeout), .inactive])
    }

    @Test("removed by someone else before deciding: what it held goes on, without an event")
    func removedEarly() throws {
        let h = try DetectHarness()
        try h.send(Array("GET".utf8))
        try h.send(Array(" /".utf8))
        try h.channel.pipeline.syncOperations.removeHandler(h.handler).wait()
        #expect(h.recorder.log == [.read(Array("GET /".utf8))])
        h.loop.advanceTime(by: .seconds(20))
        #expect(h.recorder.detections.isEmpty)
    }

    @Test("it asks for reads while undecided (so autoRead off works), and not after")
    func asksForReads() throws {
        let h = try DetectHarness(activate: false)
        #expect(h.readCounter.reads == 0)
        try h.activate()
        let afterActivation = h.readCounter.reads
        #expect(afterActivation >= 1)
        try h.send(Array("GET".utf8))
        #expect(h.readCounter.reads > afterActivation)
        let beforeDecision = h.readCounter.reads
        try h.send(Array(" / HTTP/1.1\r\n".utf8))
        try h.send(Array("Host: a\r\n\r\n".utf8))
        #expect(h.readCounter.reads == beforeDecision)
    }

    @Test("the event's handler installs an HTTP/1 decoder: the request comes out parsed")
    func reshapeOnEvent() throws {
        let h = try DetectHarness()
        let parts = HTTPPartsRecorder()
        h.recorder.onDetection = { context, detected in
            guard detected.protocol == .http1 else { return }
            try! context.pipeline.syncOperations.addHandlers(
                [ByteToMessageHandler(HTTPRequestDecoder()), parts], position: .before(h.recorder))
        }
        try h.send(Array("GET /env HTTP/1.1\r\nHost: backend-a-podinfo:9898\r\n\r\n".utf8))
        #expect(parts.heads.map(\.uri) == ["/env"])
        #expect(parts.heads.first?.headers["host"] == ["backend-a-podinfo:9898"])
        #expect(parts.ends == 1)
    }

    @Test("a lower-case or unknown method is HTTP/1 by syntax, and NIOHTTP1's decoder refuses it (docs/detection.md)")
    func methodsNIOHTTP1Refuses() throws {
        for line in ["get / HTTP/1.1\r\n\r\n", "FOO / HTTP/1.1\r\n\r\n"] {
            let h = try DetectHarness()
            let parts = HTTPPartsRecorder()
            h.recorder.onDetection = { context, _ in
                try! context.pipeline.syncOperations.addHandlers(
                    [ByteToMessageHandler(HTTPRequestDecoder()), parts], position: .before(h.recorder))
            }
            try? h.send(Array(line.utf8))
            #expect(h.recorder.detections.map(\.protocol) == [.http1])
            #expect(parts.heads.isEmpty)
            #expect(h.recorder.errors.count == 1, "\(h.recorder.errors)")
        }
    }

    @Test("ports on the opaque list skip detection")
    func needsDetection() throws {
        for port: UInt16 in [25, 587, 3306, 4444, 5432, 6379, 9300, 11211] {
            #expect(!ProtocolDetectionHandler.needsDetection(port: port))
        }
        for port: UInt16 in [80, 443, 8080, 9898, 3307] {
            #expect(ProtocolDetectionHandler.needsDetection(port: port))
        }
        let custom = try OpaquePorts(parsing: "8000-8010")
        #expect(!ProtocolDetectionHandler.needsDetection(port: 8005, opaquePorts: custom))
        #expect(ProtocolDetectionHandler.needsDetection(port: 3306, opaquePorts: custom))
        #expect(ProtocolDetectionHandler.needsDetection(port: 25, opaquePorts: .none))
    }
}

// MARK: - Support

/// The tail of a test pipeline: logs detections, reads, the end of input, errors and inactivity.
final class DetectRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    enum Entry: Equatable {
        case detected(DetectedProtocol, Int, ProtocolDetected.Reason)
        case read([UInt8])
        case inputClosed
        case error(String)
        case inactive
    }

    var log: [Entry] = []
    var closeOnDetection = false
    var onDetection: ((ChannelHandlerContext, ProtocolDetected) -> Void)?

    var detections: [ProtocolDetected] = []
    var errors: [String] {
        log.compactMap { if case .error(let text) = $0 { text } else { nil } }
    }
    var readBuffers: [[UInt8]] {
        log.compactMap { if case .read(let bytes) = $0 { bytes } else { nil } }
    }
    var receivedBytes: [UInt8] { readBuffers.flatMap { $0 } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.append(.read(Array(unwrapInboundIn(data).readableBytesView)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ProtocolDetected {
            detections.append(event)
            log.append(.detected(event.protocol, event.bytesSeen, event.reason))
            onDetection?(context, event)
            if closeOnDetection { context.close(promise: nil) }
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            log.append(.inputClosed)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log.append(.error("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.append(.inactive)
    }
}

/// Collects what an HTTP/1 request decoder produces.
final class HTTPPartsRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var heads: [HTTPRequestHead] = []
    var ends = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): heads.append(head)
        case .body: break
        case .end: ends += 1
        }
    }
}

/// An EmbeddedChannel: [ReadCounter, ProtocolDetectionHandler, DetectRecorder].
struct DetectHarness {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    let handler: ProtocolDetectionHandler
    let recorder = DetectRecorder()
    let readCounter = ReadCounter()

    init(
        peekLimit: Int = ProtocolSniffer.defaultPeekLimit,
        timeout: TimeAmount = ProtocolDetectionHandler.defaultTimeout,
        activate: Bool = true
    ) throws {
        loop = EmbeddedEventLoop()
        handler = ProtocolDetectionHandler(peekLimit: peekLimit, timeout: timeout)
        channel = EmbeddedChannel(handlers: [readCounter, handler, recorder], loop: loop)
        if activate { try self.activate() }
    }

    func activate() throws {
        try channel.connect(to: SocketAddress(ipAddress: "10.42.1.7", port: 9898)).wait()
    }

    func send(_ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    var handlerInPipeline: Bool {
        (try? channel.pipeline.syncOperations.context(handler: handler)) != nil
    }
}
