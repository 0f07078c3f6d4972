import Foundation
import NIOCore
import NIOPosix

/// A plain TCP connection that sends what it is given and keeps everything it receives,
/// for talking to a server in hand-made frames.
final class RawConnection: Sendable {
    let channel: Channel
    private let collector: NIOLoopBound<ByteCollector>
    /// Completes with every byte received, when the peer has closed the connection.
    let closed: EventLoopFuture<ByteBuffer>

    static func connect(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ByteCollector()) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let (collector, closed) = try await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: ByteCollector.self)
            return (NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.closed.futureResult)
        }.get()
        return RawConnection(channel: channel, collector: collector, closed: closed)
    }

    private init(channel: Channel, collector: NIOLoopBound<ByteCollector>, closed: EventLoopFuture<ByteBuffer>) {
        self.channel = channel
        self.collector = collector
        self.closed = closed
    }

    func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    /// Waits until the peer closed, at most `timeout`; returns what it sent (nil: still open).
    func waitForClose(timeout: TimeAmount) async throws -> ByteBuffer? {
        let deadline = NIODeadline.now() + timeout
        while channel.isActive {
            if NIODeadline.now() > deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await closed.get()
    }

    func close() async {
        try? await channel.close()
    }
}

final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = ByteBuffer()
    private(set) var closed: EventLoopPromise<ByteBuffer>!

    func handlerAdded(context: ChannelHandlerContext) {
        closed = context.eventLoop.makePromise()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.writeBuffer(&buffer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.succeed(received)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ECONNRESET after the GOAWAY: the close that follows still reports what came.
        context.close(promise: nil)
    }
}
