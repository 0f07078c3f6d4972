// The TLS connection state machine and the outbound plaintext buffer, without OpenSSL or channels.
import NIOCore
import NIOEmbedded
@testable import SwitchyardTLS
import Testing

@Suite("TLS state machine")
struct TLSStateMachineTests {
    private func open() -> TLSStateMachine {
        var machine = TLSStateMachine()
        _ = machine.activate()
        _ = machine.handshakeStepped(.complete)
        return machine
    }

    @Test("handshake: starts once on activation, completes once, and only while handshaking")
    func handshake() {
        var machine = TLSStateMachine()
        #expect(!machine.canSend && !machine.canReceive)
        let r1 = machine.activate()
        #expect(r1)
        let r2 = machine.activate()
        #expect(!r2)
        let r3 = machine.handshakeStepped(.wantRead)
        #expect(r3 == .continueHandshake)
        let r4 = machine.handshakeStepped(.complete)
        #expect(r4 == .completed)
        #expect(machine.handshakeCompleted)
        #expect(machine.canSend && machine.canReceive)
        let r5 = machine.handshakeStepped(.complete)
        #expect(r5 == .ignore)
        let r6 = machine.handshakeTimedOut()
        #expect(r6 == nil)
    }

    @Test("handshake failure and timeout move to closing, once")
    func handshakeFailure() {
        var machine = TLSStateMachine()
        _ = machine.activate()
        let r7 = machine.handshakeStepped(.failed(.unknownCA))
        #expect(r7 == .fail(.unknownCA))
        #expect(machine.state == .closing)
        let r8 = machine.failed()
        #expect(!r8)

        var timed = TLSStateMachine()
        _ = timed.activate()
        let r9 = timed.handshakeTimedOut()
        #expect(r9 == .handshakeTimeout)
        let r10 = timed.handshakeTimedOut()
        #expect(r10 == nil)
        let r11 = timed.handshakeStepped(.complete)
        #expect(r11 == .ignore)
    }

    @Test("close: before the handshake at once; established with close_notify; a second close joins the first")
    func close() {
        var early = TLSStateMachine()
        _ = early.activate()
        let r12 = early.close(mode: .all)
        #expect(r12 == .closeNow(.all))
        let r13 = early.close(mode: .all)
        #expect(r13 == .joinPendingClose)

        var machine = open()
        let r14 = machine.close(mode: .input)
        #expect(r14 == .forward)
        let r15 = machine.close(mode: .all)
        #expect(r15 == .sendCloseNotify(then: .all))
        let r16 = machine.close(mode: .all)
        #expect(r16 == .joinPendingClose)
        #expect(!machine.canSend && !machine.canReceive)
        let r17 = machine.channelInactive()
        #expect(r17 == nil)
        let r18 = machine.close(mode: .all)
        #expect(r18 == .forward)
    }

    @Test("half-close output: close_notify, then reads go on; a second output close fails; a full close closes at once")
    func halfCloseOutput() {
        var machine = open()
        let r19 = machine.close(mode: .output)
        #expect(r19 == .sendCloseNotify(then: .output))
        #expect(machine.state == .outputClosed)
        #expect(machine.canReceive && !machine.canSend)
        let r20 = machine.close(mode: .output)
        #expect(r20 == .fail(.outputClosed))
        let r21 = machine.close(mode: .all)
        #expect(r21 == .closeNow(.all))

        var beforeHandshake = TLSStateMachine()
        _ = beforeHandshake.activate()
        let r22 = beforeHandshake.close(mode: .output)
        #expect(r22 == .fail(.operationUnsupported))
    }

    @Test("peer's close_notify: inputClosed with half-closure, else answer and close; after our own, just close")
    func closeNotify() {
        var halfClosing = open()
        let r23 = halfClosing.receivedCloseNotify(halfClosureAllowed: true)
        #expect(r23 == .fireInputClosed)
        #expect(halfClosing.canSend && !halfClosing.canReceive)
        let r24 = halfClosing.transportInputClosed()
        #expect(r24 == nil)  // TCP EOF after close_notify is fine
        let r25 = halfClosing.close(mode: .output)
        #expect(r25 == .sendCloseNotify(then: .all))
        let r26 = halfClosing.channelInactive()
        #expect(r26 == nil)

        var full = open()
        let r27 = full.receivedCloseNotify(halfClosureAllowed: false)
        #expect(r27 == .sendCloseNotifyAndClose)
        #expect(full.state == .closing)

        var afterOurs = open()
        _ = afterOurs.close(mode: .output)
        let r28 = afterOurs.receivedCloseNotify(halfClosureAllowed: true)
        #expect(r28 == .close)
    }

    @Test("truncation: EOF or inactive without close_notify is unexpectedClose while data was expected")
    func truncation() {
        var handshaking = TLSStateMachine()
        _ = handshaking.activate()
        let r29 = handshaking.channelInactive()
        #expect(r29 == .unexpectedClose)

        var established = open()
        let r30 = established.transportInputClosed()
        #expect(r30 == .unexpectedClose)
        let r31 = established.transportInputClosed()
        #expect(r31 == nil)

        var idle = TLSStateMachine()
        let r32 = idle.channelInactive()
        #expect(r32 == nil)
    }

    @Test("read demand: plaintext flows only while asked; a cycle that delivered ends the demand")
    func readDemand() {
        var machine = TLSStateMachine()
        _ = machine.activate()
        let r33 = machine.readRequested()
        #expect(r33 == .forward)  // handshaking: just forward
        #expect(!machine.shouldDeliverOnReceive)
        // The handshake needs data whoever asked.
        let r34 = machine.channelReadComplete()
        #expect(r34 == (false, true))
        _ = machine.handshakeStepped(.complete)
        #expect(machine.shouldDeliverOnReceive)  // the read asked during the handshake still stands

        machine.plaintextDelivered()
        let r35 = machine.channelReadComplete()
        #expect(r35 == (true, false))
        #expect(!machine.shouldDeliverOnReceive)

        // Asked, but the cycle brought only part of a record: keep reading.
        let r36 = machine.readRequested()
        #expect(r36 == .serveBufferedThenForward)
        machine.plaintextServed(false)
        #expect(machine.shouldDeliverOnReceive)
        let r37 = machine.channelReadComplete()
        #expect(r37 == (false, true))

        // Served from what was buffered: demand met.
        machine.plaintextServed(true)
        #expect(!machine.shouldDeliverOnReceive)
        let r38 = machine.channelReadComplete()
        #expect(r38 == (false, false))
    }
}

@Suite("TLS outbound buffer")
struct TLSOutboundBufferTests {
    let loop = EmbeddedEventLoop()

    @Test("only flushed writes are taken; small ones coalesce into one record, promises in order")
    func coalescing() throws {
        var buffer = TLSOutboundBuffer()
        let promises = (0..<3).map { _ in loop.makePromise(of: Void.self) }
        for (i, promise) in promises.enumerated() {
            let r39 = buffer.append(ByteBuffer(string: "w\(i)"), promise: promise, limit: 100)
            #expect(r39)
        }
        var staging = ByteBuffer()
        var completed: [EventLoopPromise<Void>] = []
        let r40 = buffer.takeFlushed(maxBytes: 16, staging: &staging, completed: &completed)
        #expect(r40 == nil)
        buffer.markFlushed()
        let r41 = buffer.append(ByteBuffer(string: "unflushed"), promise: nil, limit: 100)
        #expect(r41)
        let chunk = try #require(buffer.takeFlushed(maxBytes: 16, staging: &staging, completed: &completed))
        #expect(String(buffer: chunk) == "w0w1w2")
        #expect(completed.map { $0.futureResult } == promises.map { $0.futureResult })
        #expect(!buffer.hasFlushedData)
        #expect(buffer.bufferedBytes == 9)
        for promise in promises { promise.succeed() }
    }

    @Test("a big write is sliced into records without copying; its promise comes with the last slice")
    func slicing() throws {
        var buffer = TLSOutboundBuffer()
        let promise = loop.makePromise(of: Void.self)
        let r42 = buffer.append(ByteBuffer(repeating: 9, count: 40), promise: promise, limit: 100)
        #expect(r42)
        buffer.markFlushed()
        var staging = ByteBuffer()
        var completed: [EventLoopPromise<Void>] = []
        var sizes: [Int] = []
        while let chunk = buffer.takeFlushed(maxBytes: 16, staging: &staging, completed: &completed) {
            sizes.append(chunk.readableBytes)
            #expect(completed.isEmpty == (sizes.count < 3))
        }
        #expect(sizes == [16, 16, 8])
        #expect(buffer.isEmpty && buffer.bufferedBytes == 0)
        promise.succeed()
    }

    @Test("limit: a write that would hold too much is refused; unflushed writes can be dropped alone")
    func limitAndRemoval() {
        var buffer = TLSOutboundBuffer()
        let r43 = buffer.append(ByteBuffer(repeating: 1, count: 60), promise: nil, limit: 100)
        #expect(r43)
        let r44 = buffer.append(ByteBuffer(repeating: 1, count: 41), promise: nil, limit: 100)
        #expect(!r44)
        buffer.markFlushed()
        let late = loop.makePromise(of: Void.self)
        let r45 = buffer.append(ByteBuffer(repeating: 1, count: 40), promise: late, limit: 100)
        #expect(r45)
        let dropped = buffer.removeUnflushed()
        #expect(dropped.map { $0.futureResult } == [late.futureResult])
        #expect(buffer.bufferedBytes == 60 && buffer.hasFlushedData)
        late.fail(ChannelError.ioOnClosedChannel)
    }
}
