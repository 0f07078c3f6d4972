import NIOCore

/// Keeps a client connection registered for reading while its request waits for the response.
///
/// NIOHTTP1's `HTTPServerPipelineHandler` withholds `read()` from the end of a request until the
/// end of its response (its backpressure against pipelined requests). NIO then drops the
/// socket's read interest after the read burst and adds it back when the response is done:
/// two `epoll_ctl` system calls per request on every client connection, about 3% of the
/// daemon's CPU under load (docs/performance.md).
///
/// Placed in front of the HTTP codec, this handler asks for the next read itself at the end of
/// a read burst while `HTTPProxyHandler` says a request has ended and its response has not
/// (`awaitingResponse`), so the interest stays as it is. What arrives meanwhile is a pipelined
/// request, which the pipeline handler queues as before; to keep that bounded it stops asking
/// once `limit` bytes have arrived while awaiting one response, and the pipeline handler's
/// backpressure applies again.
final class ClientReadAheadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bytes read ahead, at most, while one response is awaited.
    static let limit = 16 * 1024

    private var context: ChannelHandlerContext?
    private var readAhead = 0

    /// Set by the proxy handler: a request has ended and its response has not.
    var awaitingResponse = false {
        didSet { if !awaitingResponse { readAhead = 0 } }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingResponse { readAhead += unwrapInboundIn(data).readableBytes }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if awaitingResponse, readAhead < Self.limit, context.channel.isActive {
            context.read()
        }
    }
}
