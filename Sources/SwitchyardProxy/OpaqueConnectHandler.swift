import Logging
import NIOCore

/// Holds an accepted connection's bytes while its upstream connects, then splices the two
/// (`SpliceHandler`) and removes itself. Reads are held meanwhile, so at most one read's worth
/// is buffered. A failed connect closes the client connection (an opaque stream has no way to
/// say why) after logging the reason.
final class OpaqueConnectHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var buffered: [ByteBuffer] = []
    private var inputClosed = false
    private var connecting = true
    private let logger: Logger
    private let connect: (EventLoop) -> EventLoopFuture<Channel>

    /// `connect` opens the upstream (plaintext or mTLS with its preface) on the given loop.
    init(logger: Logger, connect: @escaping (EventLoop) -> EventLoopFuture<Channel>) {
        self.logger = logger
        self.connect = connect
    }

    private var started = false

    // NIO runs an accepted channel's initializer before registering it: connect only once the
    // client channel is active, or a fast upstream could complete before the client exists.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let client = context.channel
        connect(context.eventLoop).assumeIsolated().whenComplete { [self] result in
            connecting = false
            switch result {
            case .success(let upstream):
                guard client.isActive else {
                    upstream.close(promise: nil)
                    client.close(promise: nil)
                    return
                }
                for buffer in buffered { upstream.write(buffer, promise: nil) }
                buffered.removeAll()
                upstream.flush()
                if inputClosed { upstream.close(mode: .output, promise: nil) }
                do {
                    try SpliceHandler.joinSync(client, upstream)
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                } catch {
                    client.close(promise: nil)
                    upstream.close(promise: nil)
                }
            case .failure(let error):
                logger.warning("opaque connection: upstream connect failed; closing", metadata: ["error": "\(error)"])
                client.close(promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, connecting {
            inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if !connecting { context.read() }
    }
}
