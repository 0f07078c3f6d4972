// Closing a TLS connection: close_notify both ways, half-closure, truncation, failures.
import NIOCore
import NIOEmbedded
import SwitchyardTLS
import Testing

@Suite("TLS close")
struct TLSCloseTests {
    @Test("client closes: close_notify goes out before the channel closes; the server answers with its own and closes")
    func clientCloses() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        _ = pair.write("last words", from: pair.client)
        let closed = pair.client.close()
        // The close waited for the close_notify to be written (EmbeddedChannel writes on flush).
        try closed.wait()
        #expect(!pair.client.isActive)
        let clientBytes = try drain(pair.client)
        #expect(!clientBytes.isEmpty)  // "last words" and the close_notify

        for buffer in clientBytes {
            pair.server.pipeline.fireChannelRead(buffer)
            pair.server.pipeline.fireChannelReadComplete()
        }
        #expect(pair.serverRecorder.receivedString == "last words")
        #expect(pair.serverRecorder.errors.isEmpty, "\(pair.serverRecorder.errors)")
        #expect(!pair.server.isActive)
        #expect(try !drain(pair.server).isEmpty)  // its close_notify
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test("server closes: the client receives close_notify, answers, closes, and reports no error")
    func serverCloses() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        _ = pair.write("bye", from: pair.server)
        try pair.server.close().wait()
        try pair.exchange()
        #expect(pair.clientRecorder.receivedString == "bye")
        #expect(!pair.client.isActive)
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.events.isEmpty)
    }

    @Test("close_notify with half-closure allowed: inputClosed fires, the channel stays open for writing")
    func halfClosure() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.server.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).wait()
        try pair.handshake()
        _ = pair.write("request", from: pair.client)
        try pair.exchange()
        try pair.client.close().wait()
        try pair.exchange()
        #expect(pair.serverRecorder.events == [.inputClosed])
        #expect(pair.server.isActive)
        #expect(pair.serverRecorder.errors.isEmpty)

        // The server may still answer; its close then sends close_notify and closes.
        let answered = pair.write("response", from: pair.server)
        try answered.wait()
        #expect(try !drain(pair.server).isEmpty)
        try pair.server.close().wait()
        #expect(!pair.server.isActive)
        #expect(pair.serverRecorder.errors.isEmpty)
    }

    @Test("a transport EOF without close_notify is a truncation: unexpectedClose, then close")
    func truncation() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.server.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).wait()
        try pair.handshake()
        pair.server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.serverRecorder.tlsErrors == [.unexpectedClose])
        #expect(!pair.server.isActive)
    }

    @Test("the channel going inactive mid-handshake: unexpectedClose")
    func inactiveMidHandshake() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.activate()
        pair.client.pipeline.fireChannelInactive()
        #expect(pair.clientRecorder.tlsErrors == [.unexpectedClose])
    }

    @Test("closing during the handshake closes at once and fails held writes")
    func closeDuringHandshake() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.activate()
        let held = pair.write("never sent", from: pair.client)
        try pair.client.close().wait()
        #expect(throws: ChannelError.ioOnClosedChannel) { try held.wait() }
        #expect(!pair.client.isActive)
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test("writes after close are refused; a second close after the channel closed fails")
    func writesAfterClose() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        let first = pair.client.close()
        let second = pair.client.close()
        try first.wait()
        #expect(throws: (any Error).self) { try second.wait() }  // channel already closed
        let late = pair.client.writeAndFlush(ByteBuffer(string: "late"))
        #expect(throws: ChannelError.self) { try late.wait() }
    }

    @Test("garbage from the peer: protocolViolation, and the channel closes after sending an alert")
    func garbage() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.activate()
        pair.server.pipeline.fireChannelRead(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        let error = try #require(pair.serverRecorder.tlsErrors.first)
        guard case .protocolViolation = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(!pair.server.isActive)
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }
}

@Suite("TLS close, edge cases")
struct TLSCloseEdgeTests {
    private func closeClientAndCollect(_ pair: TLSPair, text: String) throws -> ByteBuffer {
        _ = pair.write(text, from: pair.client)
        try pair.client.close().wait()
        var all = ByteBuffer()
        while var buffer = try pair.client.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&buffer) }
        return all
    }

    @Test("data and close_notify in one read: the data is passed on, then the close is seen")
    func dataAndCloseNotifyTogether() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        let bytes = try closeClientAndCollect(pair, text: "all at once")
        pair.server.pipeline.fireChannelRead(bytes)
        pair.server.pipeline.fireChannelReadComplete()
        #expect(pair.serverRecorder.receivedString == "all at once")
        #expect(pair.serverRecorder.errors.isEmpty, "\(pair.serverRecorder.errors)")
        #expect(!pair.server.isActive)
    }

    @Test("data and close_notify buffered unread when the transport's input ends: passed on, no truncation error")
    func bufferedAtEOF() throws {
        let pair = try TLSPair(pki: TLSTestPKI(), serverAutoRead: false)
        try pair.server.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).wait()
        try pair.handshake()
        let bytes = try closeClientAndCollect(pair, text: "unread")
        pair.server.pipeline.fireChannelRead(bytes)
        pair.server.pipeline.fireChannelReadComplete()
        #expect(pair.serverRecorder.received.isEmpty)  // nobody asked
        pair.server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.serverRecorder.receivedString == "unread")
        #expect(pair.serverRecorder.events == [.inputClosed])
        #expect(pair.serverRecorder.errors.isEmpty, "\(pair.serverRecorder.errors)")
        #expect(pair.server.isActive)
    }

    @Test("the channel going inactive with data and close_notify buffered unread: data passed on, no truncation error")
    func bufferedAtInactive() throws {
        let pair = try TLSPair(pki: TLSTestPKI(), serverAutoRead: false)
        try pair.handshake()
        let bytes = try closeClientAndCollect(pair, text: "unread")
        pair.server.pipeline.fireChannelRead(bytes)
        pair.server.pipeline.fireChannelReadComplete()
        #expect(pair.serverRecorder.received.isEmpty)
        pair.server.pipeline.fireChannelInactive()  // as a socket channel does on EOF without half-closure
        #expect(pair.serverRecorder.receivedString == "unread")
        #expect(pair.serverRecorder.errors.isEmpty, "\(pair.serverRecorder.errors)")
        #expect(pair.serverRecorder.inactive)
    }
}
