import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import SwitchyardHTTP2
import Testing

/// Flow control, header list limits, the rapid-reset guard and malformed input, between real
/// nghttp2 peers joined in memory.
@Suite("HTTP/2 flow control and limits in memory")
struct InMemoryLimitTests {
    static let upload: HTTP2HeaderBlock = [":method": "POST", ":scheme": "http", ":authority": "a", ":path": "/upload"]

    @Test("the peer's window reopens only as the consumer consumes; queued data waits, then all arrives")
    func windowFollowsConsumption() throws {
        var server = HTTP2Configuration()
        server.initialStreamWindowSize = 16 << 10
        let connection = try InMemoryConnection(server: server)
        let id = try connection.open(Self.upload)
        let body = patternBytes(100 << 10)
        let sent = NIOLockedValueBox(0)
        for offset in stride(from: 0, to: body.readableBytes, by: 4096) {
            let chunk = body.getSlice(at: offset, length: min(4096, body.readableBytes - offset))!
            connection.client(.sendData(id, chunk, endStream: offset + 4096 >= body.readableBytes)).whenSuccess {
                sent.withLockedValue { $0 += chunk.readableBytes }
            }
        }
        try connection.pump()
        var received = ByteBuffer()
        var rounds = 0
        while true {
            let events = connection.takeServerEvents()
            let summary = events.summaries()[id] ?? StreamSummary()
            var chunk = summary.body
            // Never more than one window's worth unconsumed.
            #expect(chunk.readableBytes <= 16 << 10)
            #expect(sent.withLockedValue { $0 } <= received.readableBytes + (16 << 10))
            received.writeBuffer(&chunk)
            if summary.bodyEnded { break }
            rounds += 1
            try #require(rounds < 100, "no progress: \(received.readableBytes) bytes")
            // Nothing moves until the consumer consumes.
            try connection.pump()
            #expect(connection.takeServerEvents().isEmpty)
            connection.server(.consume(id, bytes: summary.dataBytes))
            try connection.pump()
        }
        #expect(received == body)
        #expect(sent.withLockedValue { $0 } == body.readableBytes)
        #expect(rounds >= 6)
    }

    @Test("data left unconsumed on a finished stream holds the connection window until it is consumed")
    func connectionWindowAfterStreamEnd() throws {
        var server = HTTP2Configuration()
        server.connectionWindowSize = 65_535
        let connection = try InMemoryConnection(server: server)
        let first = try connection.open(Self.upload)
        connection.client(.sendData(first, patternBytes(60_000), endStream: true))
        try connection.pump()
        connection.server(.sendHeaders(first, [":status": "204"], endStream: true))
        try connection.pump()
        #expect(connection.takeServerEvents().summaries()[first]?.closed == .noError)

        let second = try connection.open(Self.upload)
        connection.client(.sendData(second, patternBytes(20_000), endStream: true))
        try connection.pump()
        // Only what is left of the connection window got through.
        #expect(connection.takeServerEvents().dataBytesByStream[second] == 65_535 - 60_000)
        connection.server(.consume(first, bytes: 60_000))
        try connection.pump()
        #expect(connection.takeServerEvents().dataBytesByStream[second] == 20_000 - (65_535 - 60_000))
    }

    @Test("a reset stream's unconsumed data is given back to the connection window")
    func connectionWindowAfterReset() throws {
        var server = HTTP2Configuration()
        server.connectionWindowSize = 65_535
        let connection = try InMemoryConnection(server: server)
        let first = try connection.open(Self.upload)
        connection.client(.sendData(first, patternBytes(60_000), endStream: false))
        try connection.pump()
        connection.client(.resetStream(first, .cancel))
        try connection.pump()
        #expect(connection.takeServerEvents().summaries()[first]?.closed == .cancel)
        let second = try connection.open(Self.upload)
        connection.client(.sendData(second, patternBytes(50_000), endStream: true))
        try connection.pump()
        #expect(connection.takeServerEvents().dataBytesByStream[second] == 50_000)
    }

    @Test("no output while the channel is not writable; all of it once it is again")
    func writability() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.upload, endStream: true)
        try connection.pump()
        connection.server.isWritable = false
        connection.server.pipeline.fireChannelWritabilityChanged()
        connection.server(.sendHeaders(id, [":status": "200"], endStream: false))
        let sent = connection.server(.sendData(id, patternBytes(100_000), endStream: true))
        let done = NIOLockedValueBox(false)
        sent.whenSuccess { done.withLockedValue { $0 = true } }
        try connection.pump()
        #expect(connection.takeClientEvents().isEmpty)
        #expect(!done.withLockedValue { $0 })
        connection.server.isWritable = true
        connection.server.pipeline.fireChannelWritabilityChanged()
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.body == patternBytes(100_000))
        #expect(response.closed == .noError)
        #expect(done.withLockedValue { $0 })
    }

    @Test("a request header list over the limit is answered 431; the connection goes on")
    func oversizedRequestHeaders() throws {
        var server = HTTP2Configuration()
        server.maxHeaderListSize = 1024
        let connection = try InMemoryConnection(server: server)
        var head = Self.upload
        head.add(name: "x-big", value: String(repeating: "b", count: 4096))
        let id = try connection.open(head)
        connection.client(.sendData(id, ByteBuffer(string: "body"), endStream: true))
        try connection.pump()
        #expect(connection.takeServerEvents().isEmpty)  // the consumer never sees it
        let clientEvents = connection.takeClientEvents()
        let response = try #require(clientEvents.summaries()[id])
        #expect(response.heads.first?.status == 431)
        #expect(response.closed != nil)
        let next = try connection.open([":method": "GET", ":scheme": "http", ":authority": "a", ":path": "/"], endStream: true)
        try connection.pump()
        #expect(connection.takeServerEvents().summaries()[next]?.bodyEnded == true)
        #expect(connection.server.isActive)
    }

    @Test("a response header list over the client's limit resets the stream")
    func oversizedResponseHeaders() throws {
        var client = HTTP2Configuration()
        client.maxHeaderListSize = 1024
        let connection = try InMemoryConnection(client: client)
        let id = try connection.open(Self.upload, endStream: true)
        try connection.pump()
        connection.server(.sendHeaders(id, [":status": "200", "x-big": String(repeating: "b", count: 4096)], endStream: true))
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.heads.isEmpty)
        #expect(response.closed == .protocolError)
    }

    @Test("rapid reset: more resets than allowed gets GOAWAY(ENHANCE_YOUR_CALM) and a closed connection")
    func rapidResetFromClientHandler() throws {
        var server = HTTP2Configuration()
        server.maxResetsPerWindow = 50
        server.resetWindow = .seconds(3600)
        let connection = try InMemoryConnection(server: server)
        for _ in 0..<200 {
            guard connection.client.isActive, let id = try? connection.open(Self.upload, endStream: true) else { break }
            connection.client(.resetStream(id, .cancel))
        }
        try connection.pump()
        #expect(connection.takeClientEvents().goAways.map(\.code) == [.enhanceYourCalm])
        #expect(!connection.server.isActive)
        #expect(connection.serverErrors.contains { ($0 as? HTTP2Error).map { if case .protocolViolation(.enhanceYourCalm, _) = $0 { true } else { false } } ?? false })
    }

    @Test("resets under the limit are fine")
    func resetsUnderTheLimit() throws {
        var server = HTTP2Configuration()
        server.maxResetsPerWindow = 50
        let connection = try InMemoryConnection(server: server)
        for _ in 0..<40 {
            let id = try connection.open(Self.upload)
            connection.client(.resetStream(id, .cancel))
        }
        try connection.pump()
        #expect(connection.takeClientEvents().goAways.isEmpty)
        #expect(connection.server.isActive)
    }

    @Test("garbage after the preface: GOAWAY(PROTOCOL_ERROR) and close")
    func garbageAfterPreface() throws {
        let server = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .server))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var input = RawFrames.preface
        input.writeString("this is not an HTTP/2 frame, not even close to one")
        server.pipeline.fireChannelRead(input)
        server.pipeline.fireChannelReadComplete()
        server.embeddedEventLoop.run()
        var output = ByteBuffer()
        while var chunk = try server.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&chunk) }
        #expect(RawFrames.goAwayCodes(in: output) == [0x1])
        #expect(!server.isActive)
        #expect(throws: HTTP2Error.self) { try server.throwIfErrorCaught() }
    }

    @Test("a DATA frame on stream 0 after SETTINGS: GOAWAY(PROTOCOL_ERROR) and close")
    func dataOnConnectionStream() throws {
        let server = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .server))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var input = RawFrames.preface
        RawFrames.append(type: RawFrames.settings, to: &input)
        RawFrames.append(type: RawFrames.data, stream: 0, payload: [1, 2, 3], to: &input)
        server.pipeline.fireChannelRead(input)
        server.pipeline.fireChannelReadComplete()
        server.embeddedEventLoop.run()
        var output = ByteBuffer()
        while var chunk = try server.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&chunk) }
        #expect(RawFrames.goAwayCodes(in: output) == [0x1])
        #expect(!server.isActive)
    }

    @Test("a request with an uppercase header name is reset with PROTOCOL_ERROR; the consumer never sees it")
    func malformedRequest() throws {
        let server = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .server))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var input = RawFrames.preface
        RawFrames.append(type: RawFrames.settings, to: &input)
        // The GET block plus a literal field without indexing, new name "X-Up".
        let block = RawFrames.getRequestBlock + [0x00, 0x04] + Array("X-Up".utf8) + [0x01] + Array("1".utf8)
        RawFrames.append(type: RawFrames.headers, flags: RawFrames.endHeaders | RawFrames.endStream, stream: 1, payload: block, to: &input)
        server.pipeline.fireChannelRead(input)
        server.pipeline.fireChannelReadComplete()
        server.embeddedEventLoop.run()
        var output = ByteBuffer()
        while var chunk = try server.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&chunk) }
        let resets = RawFrames.scan(output).filter { $0.type == RawFrames.rstStream }
        #expect(resets.map(\.stream) == [1])
        #expect(resets.first.flatMap { $0.payload.getInteger(at: $0.payload.readerIndex, as: UInt32.self) } == 0x1)
        #expect(try server.readInbound(as: HTTP2Event.self) == nil)
        #expect(server.isActive)
    }

    @Test("not HTTP/2 at all (an HTTP/1 request): GOAWAY and close")
    func http1Request() throws {
        let server = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .server))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        server.pipeline.fireChannelRead(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        server.pipeline.fireChannelReadComplete()
        server.embeddedEventLoop.run()
        var output = ByteBuffer()
        while var chunk = try server.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&chunk) }
        #expect(RawFrames.goAwayCodes(in: output) == [0x1])
        #expect(!server.isActive)
    }
}
