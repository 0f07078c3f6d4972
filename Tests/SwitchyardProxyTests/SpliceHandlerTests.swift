// SpliceHandler: on EmbeddedChannels (read gating on the partner's writability, half-close
// ordering, closing), then on real loopback sockets through a tiny relay:
// client ─▶ relay (accept, connect upstream, join) ─▶ upstream server.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOEmbedded
import NIOPosix
import SwitchyardAdmin
@testable import SwitchyardProxy
import Testing

@Suite("SpliceHandler: two channels spliced on one event loop")
struct SpliceHandlerTests {
    // MARK: - EmbeddedChannel

    @Test("bytes read on one side are written to the other, flushed at the end of the read, and counted")
    func embeddedForwarding() throws {
        let pair = try SplicePair()
        try pair.a.writeInbound(ByteBuffer(string: "hello"))
        try pair.b.writeInbound(ByteBuffer(string: "world!"))
        #expect(try pair.b.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "hello"))
        #expect(try pair.a.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "world!"))
        #expect(pair.aRead.value == 5)
        #expect(pair.aWritten.value == 6)

        // Written within a read cycle, flushed only when it completes.
        pair.a.pipeline.fireChannelRead(ByteBuffer(string: "x"))
        #expect(try pair.b.readOutbound(as: ByteBuffer.self) == nil)
        pair.a.pipeline.fireChannelReadComplete()
        #expect(try pair.b.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "x"))
    }

    @Test("a read is held while the partner is not writable and issued when it becomes writable")
    func embeddedReadGating() throws {
        let pair = try SplicePair()
        pair.aLog.clear()
        pair.a.read()
        #expect(pair.aLog.reads == 1, "partner writable: the read passes")

        pair.b.isWritable = false
        pair.b.pipeline.fireChannelWritabilityChanged()
        pair.a.read()
        pair.a.read()
        #expect(pair.aLog.reads == 1, "partner not writable: held")
        #expect(try pair.spliceA().isHoldingRead)

        // Becoming writable again issues the held read, once.
        pair.b.isWritable = true
        pair.b.pipeline.fireChannelWritabilityChanged()
        #expect(pair.aLog.reads == 2)
        #expect(try !pair.spliceA().isHoldingRead)
        pair.b.pipeline.fireChannelWritabilityChanged()
        #expect(pair.aLog.reads == 2, "nothing held, nothing issued")
    }

    @Test("input closed on one side: the other's output is shut down after what was written to it")
    func embeddedHalfClose() throws {
        let pair = try SplicePair()
        pair.bLog.holdWrites = true  // b's socket is slow: writes stay pending
        try pair.a.writeInbound(ByteBuffer(string: "last words"))
        pair.a.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.bLog.closes.isEmpty, "not before the pending bytes have gone out")

        pair.bLog.releaseWrites()
        #expect(pair.bLog.closes == [.output])
        #expect(pair.bLog.written == ByteBuffer(string: "last words"))
        #expect(pair.a.isActive && pair.b.isActive, "one direction ended: both stay open")

        // The other direction still flows.
        try pair.b.writeInbound(ByteBuffer(string: "reply"))
        #expect(try pair.a.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "reply"))
    }

    @Test("both directions half-closed: both channels are closed")
    func embeddedBothHalfClosed() throws {
        let pair = try SplicePair()
        pair.a.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(pair.bLog.closes == [.output])
        try pair.b.writeInbound(ByteBuffer(string: "answer"))
        pair.b.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try pair.a.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "answer"))
        #expect(!pair.a.isActive)
        #expect(!pair.b.isActive)
    }

    @Test("one side going inactive closes the other once its pending writes are out")
    func embeddedInactiveClosesPartner() throws {
        let pair = try SplicePair()
        pair.bLog.holdWrites = true
        try pair.a.writeInbound(ByteBuffer(string: "goodbye"))
        try pair.a.close().wait()
        #expect(pair.b.isActive, "still writing what it was given")
        pair.bLog.releaseWrites()
        #expect(pair.bLog.written == ByteBuffer(string: "goodbye"))
        #expect(!pair.b.isActive)
    }

    @Test("an error on one side closes both")
    func embeddedErrorClosesBoth() throws {
        let pair = try SplicePair()
        pair.b.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        #expect(!pair.a.isActive)
        #expect(!pair.b.isActive)
    }

    @Test("join, the future variant, splices as joinSync does")
    func embeddedJoinFuture() throws {
        let loop = EmbeddedEventLoop()
        let a = try embeddedChannel(on: loop)
        let b = try embeddedChannel(on: loop)
        try SpliceHandler.join(a, b).wait()
        try a.writeInbound(ByteBuffer(string: "ping"))
        #expect(try b.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "ping"))
    }

    @Test("joining a channel that is no longer active closes the other")
    func embeddedJoinInactive() throws {
        let loop = EmbeddedEventLoop()
        let a = try embeddedChannel(on: loop)
        let b = try embeddedChannel(on: loop, connected: false)
        try SpliceHandler.joinSync(a, b)
        #expect(!a.isActive)
        #expect(throws: (any Error).self) { try a.pipeline.syncOperations.handler(type: SpliceHandler.self) }
    }

    // MARK: - Loopback sockets

    @Test("1 MiB echoed through the relay arrives intact and in order")
    func echoOneMebibyte() async throws {
        try await withSpliceLoop { group in
            let world = try await SpliceWorld.start(group: group) { EchoHandler() }
            let data = spliceTestPattern(count: 1 << 20)
            let client = try await world.connectClient()
            // In pieces, so that the relay sees many reads.
            var rest = data
            while let piece = rest.readSlice(length: min(rest.readableBytes, 50_000)), piece.readableBytes > 0 {
                client.channel.write(piece, promise: nil)
            }
            try await client.sendThenHalfClose(ByteBuffer())
            let echoed = try await within(client.received)
            #expect(echoed.readableBytes == data.readableBytes)
            #expect(echoed == data)
            #expect(world.clientRead.value == UInt64(data.readableBytes))
            #expect(world.clientWritten.value == UInt64(data.readableBytes))
            try await world.relayClosed()
        }
    }

    @Test("half-close: the upstream sees EOF, still answers, and the client gets the answer then EOF")
    func halfClose() async throws {
        try await withSpliceLoop { group in
            let upstreamSawEOF = group.next().makePromise(of: Int.self)
            let world = try await SpliceWorld.start(group: group) { AnswerAtEOFHandler(sawEOF: upstreamSawEOF) }
            let client = try await world.connectClient(halfClosure: true)
            try await client.sendThenHalfClose(spliceTestPattern(count: 100_000))
            #expect(try await within(upstreamSawEOF.futureResult) == 100_000)
            let answer = try await within(client.received)
            #expect(String(buffer: answer) == "read 100000 bytes\n")
            // Both directions have ended: the relay closes both of its channels.
            try await world.relayClosed()
        }
    }

    @Test("bytes queued for a client that is not reading yet survive the upstream's EOF")
    func queuedBytesSurviveHalfClose() async throws {
        try await withSpliceLoop { group in
            let upstreamSawEOF = group.next().makePromise(of: Int.self)
            let trailer = spliceTestPattern(count: 32 << 20)
            // A high watermark on the relay's client side lets it read the whole answer and the
            // upstream's EOF while the client reads nothing: megabytes stay queued on the relay.
            let world = try await SpliceWorld.start(group: group, relayClientHighWaterMark: 64 << 20) {
                AnswerAtEOFHandler(sawEOF: upstreamSawEOF, trailer: trailer)
            }
            let client = try await world.connectClient(halfClosure: true, autoRead: false)
            try await client.sendThenHalfClose(ByteBuffer(string: "request"))
            try await within(world.relayUpstreamEOF)
            try await within(client.channel.setOption(ChannelOptions.autoRead, value: true))
            var expected = ByteBuffer(string: "read 7 bytes\n")
            expected.writeImmutableBuffer(trailer)
            let received = try await within(client.received)
            #expect(received.readableBytes == expected.readableBytes)
            #expect(received == expected)
            try await world.relayClosed()
        }
    }

    @Test("the upstream closing (FIN) closes the client after the bytes it sent",
          arguments: [false, true])
    func upstreamCloses(halfClosure: Bool) async throws {
        try await withSpliceLoop { group in
            let world = try await SpliceWorld.start(group: group) { CloseAfterFirstReadHandler(reset: false) }
            let client = try await world.connectClient(halfClosure: halfClosure)
            try await within(client.channel.writeAndFlush(ByteBuffer(string: "hello")))
            #expect(String(buffer: try await within(client.received)) == "bye")
            if halfClosure {
                // EOF is only a half-close: the client stays open until it closes too.
                #expect(client.channel.isActive)
                try await within(client.channel.close())
            }
            // Without remote half-closure the client closes on EOF by itself. Then so does the relay.
            try await within(client.channel.closeFuture)
            try await world.relayClosed()
        }
    }

    @Test("the upstream resetting the connection closes the client")
    func upstreamResets() async throws {
        try await withSpliceLoop { group in
            let world = try await SpliceWorld.start(group: group) { CloseAfterFirstReadHandler(reset: true) }
            let client = try await world.connectClient()
            try await within(client.channel.writeAndFlush(ByteBuffer(string: "hello")))
            _ = try await within(client.received)
            try await within(client.channel.closeFuture)
            try await world.relayClosed()
        }
    }

    @Test("backpressure: an upstream that does not read stops the relay reading the client; all arrives once it reads")
    func backpressure() async throws {
        try await withSpliceLoop { group in
            let total = 64 << 20
            let sunk = group.next().makePromise(of: ByteBuffer.self)
            let world = try await SpliceWorld.start(group: group, upstreamAutoRead: false) {
                CollectingHandler(ended: sunk)
            }
            let data = spliceTestPattern(count: total)
            let client = try await world.connectClient()
            let sent: EventLoopFuture<Void> = client.channel.writeAndFlush(data)
            let relayed = try await within(world.relayed)

            // Wait until the relay has stopped: its upstream side is not writable, its client
            // side holds a read, and what it has read stays the same for a while.
            var stable = 0
            var last: UInt64 = 0
            var polls = 0
            while stable < 5, polls < 600 {
                polls += 1
                try await Task.sleep(for: .milliseconds(100))
                let read = world.clientRead.value
                let holding = try await relayed.client.eventLoop.submit {
                    try relayed.client.pipeline.syncOperations.handler(type: SpliceHandler.self).isHoldingRead
                }.get()
                let stalled = holding && !relayed.upstream.isWritable && read == last
                stable = stalled ? stable + 1 : 0
                last = read
                if read == UInt64(total) { break }  // read it all: no backpressure
            }
            // Kernel buffers on the way hold a few MiB; without backpressure the relay reads all.
            #expect(stable >= 5, "the relay never stopped reading")
            #expect(world.clientRead.value < UInt64(total / 2), "relay read \(world.clientRead.value) of \(total) bytes")
            #expect(!client.channel.isWritable, "the client cannot get rid of its bytes")

            // The upstream starts reading: the held read resumes and everything arrives intact.
            let upstreamChild = try await within(world.upstreamChild)
            try await within(upstreamChild.setOption(ChannelOptions.autoRead, value: true))
            try await within(sent, seconds: 180)
            try await client.sendThenHalfClose(ByteBuffer())
            let received = try await within(sunk.futureResult, seconds: 180)
            #expect(received.readableBytes == total)
            #expect(received == data)
            #expect(world.clientRead.value == UInt64(total))
        }
    }
}

// MARK: - Embedded harness

/// Two EmbeddedChannels on one loop, each with an `OutboundLog` in front, joined.
private struct SplicePair {
    let a: EmbeddedChannel
    let b: EmbeddedChannel
    let aLog = OutboundLog()
    let bLog = OutboundLog()
    let aRead: Counter
    let aWritten: Counter

    init() throws {
        let loop = EmbeddedEventLoop()
        a = try embeddedChannel(on: loop, handler: aLog)
        b = try embeddedChannel(on: loop, handler: bLog)
        let registry = MetricsRegistry()
        aRead = registry.counter("tcp_read_bytes_total", help: "read")
        aWritten = registry.counter("tcp_write_bytes_total", help: "written")
        try SpliceHandler.joinSync(a, b, aRead: aRead, aWritten: aWritten)
    }

    func spliceA() throws -> SpliceHandler {
        try a.pipeline.syncOperations.handler(type: SpliceHandler.self)
    }
}

/// An EmbeddedChannel on `loop` with `handler`, active once `connected`.
private func embeddedChannel(
    on loop: EmbeddedEventLoop, handler: (any ChannelHandler)? = nil, connected: Bool = true
) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel(handler: handler, loop: loop)
    if connected { try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait() }
    return channel
}

/// Sits between the head and the splice: counts reads, records closes, and can hold writes
/// (with their promises) as a slow socket would.
private final class OutboundLog: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var reads = 0
    private(set) var closes: [CloseMode] = []
    /// Every byte that went on to the channel.
    private(set) var written = ByteBuffer()
    var holdWrites = false
    private var held: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func clear() {
        reads = 0
        closes = []
    }

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data)
        if holdWrites {
            held.append((bytes, promise))
        } else {
            pass(bytes, promise: promise, context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if !holdWrites { context.flush() }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closes.append(mode)
        // EmbeddedChannel only closes fully; a half-close is recorded and succeeds.
        if mode == .all { context.close(mode: mode, promise: promise) } else { promise?.succeed() }
    }

    /// Lets the held writes through, as a socket that has drained.
    func releaseWrites() {
        guard let context else { return }
        holdWrites = false
        let writes = held
        held = []
        for (bytes, promise) in writes { pass(bytes, promise: promise, context: context) }
        context.flush()
    }

    private func pass(_ bytes: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        var copy = bytes
        written.writeBuffer(&copy)
        context.write(wrapOutboundOut(bytes), promise: promise)
    }
}

// MARK: - Loopback harness

/// The accepted client connection on the relay and its upstream connection.
private struct RelayedPair: Sendable {
    let client: Channel
    let upstream: Channel
}

/// A client connection and everything it receives until its input ends.
private struct ClientConnection {
    let channel: Channel
    let received: EventLoopFuture<ByteBuffer>

    /// Writes `bytes`, waits until they are out, then shuts down the output.
    func sendThenHalfClose(_ bytes: ByteBuffer) async throws {
        try await within(channel.writeAndFlush(bytes))
        try await within(channel.close(mode: .output))
    }
}

/// An upstream server and a relay in front of it, on one event loop, for one client each.
private struct SpliceWorld {
    let group: EventLoopGroup
    let relayAddress: SocketAddress
    /// The relay's two channels, once joined.
    let relayed: EventLoopFuture<RelayedPair>
    /// The upstream server's side of the relay's connection.
    let upstreamChild: EventLoopFuture<Channel>
    /// The relay has read the upstream's EOF.
    let relayUpstreamEOF: EventLoopFuture<Void>
    let clientRead: Counter
    let clientWritten: Counter

    /// Starts an upstream server whose accepted connection gets `upstreamHandler()` (with
    /// autoRead as given) and a relay that splices each accepted connection to it (with the
    /// given high watermark on its client side).
    static func start(
        group: EventLoopGroup, upstreamAutoRead: Bool = true, relayClientHighWaterMark: Int = 64 * 1024,
        upstreamHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> SpliceWorld {
        let loop = group.next()
        let upstreamChild = loop.makePromise(of: Channel.self)
        let upstream = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: upstreamAutoRead)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(upstreamHandler())
                    upstreamChild.succeed(channel)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let upstreamAddress = upstream.localAddress else { throw ChannelError.unknownLocalAddress }

        let registry = MetricsRegistry()
        let clientRead = registry.counter("tcp_read_bytes_total", help: "read")
        let clientWritten = registry.counter("tcp_write_bytes_total", help: "written")
        let relayed = loop.makePromise(of: RelayedPair.self)
        let relayUpstreamEOF = loop.makePromise(of: Void.self)
        let waterMark = ChannelOptions.Types.WriteBufferWaterMark(
            low: relayClientHighWaterMark / 2, high: relayClientHighWaterMark)
        let relay = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)  // until joined
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: waterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RelayConnectHandler(
                            upstream: upstreamAddress, joined: relayed, upstreamEOF: relayUpstreamEOF,
                            read: clientRead, written: clientWritten))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let relayAddress = relay.localAddress else { throw ChannelError.unknownLocalAddress }
        return SpliceWorld(
            group: group, relayAddress: relayAddress, relayed: relayed.futureResult,
            upstreamChild: upstreamChild.futureResult, relayUpstreamEOF: relayUpstreamEOF.futureResult,
            clientRead: clientRead, clientWritten: clientWritten)
    }

    /// Waits until the relay has closed both of its channels.
    func relayClosed() async throws {
        let pair = try await within(relayed)
        try await within(pair.client.closeFuture)
        try await within(pair.upstream.closeFuture)
    }

    /// Connects a client to the relay; `halfClosure` keeps it open after the relay's EOF.
    func connectClient(halfClosure: Bool = false, autoRead: Bool = true) async throws -> ClientConnection {
        let received = group.next().makePromise(of: ByteBuffer.self)
        let channel = try await within(
            ClientBootstrap(group: group)
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: halfClosure)
                .channelOption(ChannelOptions.autoRead, value: autoRead)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(CollectingHandler(ended: received))
                    }
                }
                .connect(to: relayAddress))
        return ClientConnection(channel: channel, received: received.futureResult)
    }
}

/// The relay's handler on an accepted connection: connects upstream, joins, then turns autoRead
/// on. The upstream channel gets an `EOFWatcher` in front of its splice.
private final class RelayConnectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let upstream: SocketAddress
    let joined: EventLoopPromise<RelayedPair>
    let upstreamEOF: EventLoopPromise<Void>
    let read: Counter
    let written: Counter

    init(
        upstream: SocketAddress, joined: EventLoopPromise<RelayedPair>, upstreamEOF: EventLoopPromise<Void>,
        read: Counter, written: Counter
    ) {
        self.upstream = upstream
        self.joined = joined
        self.upstreamEOF = upstreamEOF
        self.read = read
        self.written = written
    }

    func channelActive(context: ChannelHandlerContext) {
        let client = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connect(to: upstream)
            .assumeIsolated()
            .whenComplete { [joined, upstreamEOF, read, written] result in
                do {
                    let upstreamChannel = try result.get()
                    try upstreamChannel.pipeline.syncOperations.addHandler(EOFWatcher(eof: upstreamEOF))
                    try SpliceHandler.joinSync(client, upstreamChannel, aRead: read, aWritten: written)
                    try client.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
                    joined.succeed(RelayedPair(client: client, upstream: upstreamChannel))
                } catch {
                    client.close(promise: nil)
                    joined.fail(error)
                    upstreamEOF.fail(error)
                }
            }
        context.fireChannelActive()
    }
}

/// Collects every byte read; completes `ended` with them when the input ends (EOF or close).
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var bytes = ByteBuffer()
    private let ended: EventLoopPromise<ByteBuffer>
    private var done = false

    init(ended: EventLoopPromise<ByteBuffer>) { self.ended = ended }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        bytes.writeBuffer(&input)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { finish() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func finish() {
        guard !done else { return }
        done = true
        ended.succeed(bytes)
    }
}

/// Completes `eof` when the input ends (or the channel closes), passing everything on.
private final class EOFWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let eof: EventLoopPromise<Void>

    init(eof: EventLoopPromise<Void>) { self.eof = eof }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { eof.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        eof.succeed()
        context.fireChannelInactive()
    }
}

/// Upstream: echoes what it reads; at EOF, shuts down its output once the echo is out.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { shutDownOutputAfterWrites(context) }
    }
}

/// Upstream: counts what it reads; at EOF, reports the count, answers with it (and `trailer`)
/// and shuts down its output.
private final class AnswerAtEOFHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var count = 0
    private let sawEOF: EventLoopPromise<Int>
    private let trailer: ByteBuffer

    init(sawEOF: EventLoopPromise<Int>, trailer: ByteBuffer = ByteBuffer()) {
        self.sawEOF = sawEOF
        self.trailer = trailer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        count += unwrapInboundIn(data).readableBytes
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .inputClosed? = event as? ChannelEvent else { return }
        sawEOF.succeed(count)
        context.write(wrapOutboundOut(ByteBuffer(string: "read \(count) bytes\n")), promise: nil)
        context.write(wrapOutboundOut(trailer), promise: nil)
        shutDownOutputAfterWrites(context)
    }
}

/// Upstream: at the first bytes, answers "bye" and closes fully (FIN), or resets the
/// connection (SO_LINGER 0, no answer).
private final class CloseAfterFirstReadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reset: Bool
    private var closing = false

    init(reset: Bool) { self.reset = reset }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        closing = true
        let channel = context.channel
        if reset, let sockets = channel as? SocketOptionProvider {
            sockets.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "bye"))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}

// MARK: - Helpers

/// Shuts down the output once everything written so far is out. (With the input already closed,
/// NIO turns `close(mode: .output)` into a full close, which would drop pending writes.)
private func shutDownOutputAfterWrites(_ context: ChannelHandlerContext) {
    let channel = context.channel
    context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in channel.close(mode: .output, promise: nil) }
}

/// `count` bytes that differ from any shift of themselves: 4093-byte runs, each led by its index.
private func spliceTestPattern(count: Int) -> ByteBuffer {
    let run = ByteBuffer(bytes: (0..<4093).map { UInt8(truncatingIfNeeded: $0 % 251) })
    var pattern = ByteBufferAllocator().buffer(capacity: count + 4097)
    var index: UInt32 = 0
    while pattern.readableBytes < count {
        pattern.writeInteger(index)
        pattern.writeImmutableBuffer(run)
        index += 1
    }
    pattern.moveWriterIndex(to: count)
    return pattern
}

private struct SpliceTestTimeout: Error {}

/// The future's value, or `SpliceTestTimeout` after `seconds` (generous: the machine is shared).
private func within<T: Sendable>(_ future: EventLoopFuture<T>, seconds: Int64 = 60) async throws -> T {
    let promise = future.eventLoop.makePromise(of: T.self)
    future.cascade(to: promise)
    let timer = future.eventLoop.scheduleTask(in: .seconds(seconds)) { promise.fail(SpliceTestTimeout()) }
    defer { timer.cancel() }
    return try await promise.futureResult.get()
}

/// Runs `body` with a one-thread event loop group that is shut down afterwards, whatever happens.
private func withSpliceLoop(_ body: (MultiThreadedEventLoopGroup) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        try await body(group)
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
    try await group.shutdownGracefully()
}
