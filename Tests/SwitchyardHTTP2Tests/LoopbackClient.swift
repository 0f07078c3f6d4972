import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2

/// `HTTP2ConnectionHandler` as a client over a real socket, with a collector that consumes
/// each data chunk as it arrives and completes one future per stream when it closes.
final class LoopbackClient: Sendable {
    let channel: Channel
    private let collector: NIOLoopBound<ResponseCollector>

    static func connect(port: Int, configuration: HTTP2Configuration = HTTP2Configuration()) async throws -> LoopbackClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        HTTP2ConnectionHandler(mode: .client, configuration: configuration),
                        ResponseCollector(),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return LoopbackClient(channel: channel, collector: collector)
    }

    private init(channel: Channel, collector: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.collector = collector
    }

    /// Opens a stream; `body` goes in `chunkSize` pieces, each written once the previous one
    /// went out (so the client never queues more than a chunk); then `trailers` or the end.
    /// `sent` counts the bytes that went out. Returns the stream's ID and its summary's future.
    func start(_ head: HTTP2HeaderBlock, body: ByteBuffer? = nil, chunkSize: Int = 64 << 10,
               trailers: HTTP2HeaderBlock? = nil, sent: NIOLockedValueBox<Int>? = nil)
        async throws -> (HTTP2StreamID, EventLoopFuture<StreamSummary>) {
        let channel = self.channel
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<(HTTP2StreamID, EventLoopFuture<StreamSummary>)> in
            let idPromise = channel.eventLoop.makePromise(of: HTTP2StreamID.self)
            let endStream = body == nil && trailers == nil
            channel.writeAndFlush(HTTP2Command.openStream(head, endStream: endStream, streamID: idPromise), promise: nil)
            return idPromise.futureResult.map { id in
                let summary = collector.value.expect(id)
                if let body {
                    Self.sendBody(channel: channel, id: id, body: body, chunkSize: chunkSize, trailers: trailers, sent: sent)
                } else if let trailers {
                    channel.writeAndFlush(HTTP2Command.sendTrailers(id, trailers), promise: nil)
                }
                return (id, summary)
            }
        }.get()
    }

    /// `start`, then waits for the stream's end.
    func request(_ head: HTTP2HeaderBlock, body: ByteBuffer? = nil, trailers: HTTP2HeaderBlock? = nil) async throws -> StreamSummary {
        try await start(head, body: body, trailers: trailers).1.get()
    }

    private static func sendBody(channel: Channel, id: HTTP2StreamID, body: ByteBuffer, chunkSize: Int,
                                 trailers: HTTP2HeaderBlock?, sent: NIOLockedValueBox<Int>?) {
        var rest = body
        let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes))!
        let last = rest.readableBytes == 0
        let remaining = rest
        let command = HTTP2Command.sendData(id, chunk, endStream: last && trailers == nil)
        channel.writeAndFlush(command).whenSuccess {
            sent?.withLockedValue { $0 += chunk.readableBytes }
            if !last {
                sendBody(channel: channel, id: id, body: remaining, chunkSize: chunkSize, trailers: trailers, sent: sent)
            } else if let trailers {
                channel.writeAndFlush(HTTP2Command.sendTrailers(id, trailers), promise: nil)
            }
        }
    }

    /// GOAWAY events seen so far.
    func goAways() async throws -> [HTTP2ErrorCode] {
        let collector = self.collector
        return try await channel.eventLoop.submit { collector.value.goAways }.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// Collects a client's events per stream; consumes data at once.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTP2Event
    typealias OutboundOut = HTTP2Command

    private var summaries: [HTTP2StreamID: StreamSummary] = [:]
    private var promises: [HTTP2StreamID: EventLoopPromise<StreamSummary>] = [:]
    private(set) var goAways: [HTTP2ErrorCode] = []
    private var eventLoop: EventLoop?

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    func expect(_ id: HTTP2StreamID) -> EventLoopFuture<StreamSummary> {
        let promise = eventLoop!.makePromise(of: StreamSummary.self)
        promises[id] = promise
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let event = unwrapInboundIn(data)
        switch event {
        case .headers(let id, let block, let endStream):
            summaries[id, default: StreamSummary()].heads.append(block)
            if endStream { summaries[id, default: StreamSummary()].bodyEnded = true }
        case .data(let id, var chunk, let endStream):
            let count = chunk.readableBytes
            summaries[id, default: StreamSummary()].body.writeBuffer(&chunk)
            if endStream { summaries[id, default: StreamSummary()].bodyEnded = true }
            if count > 0 { context.writeAndFlush(wrapOutboundOut(.consume(id, bytes: count)), promise: nil) }
        case .trailers(let id, let block):
            summaries[id, default: StreamSummary()].trailers = block
            summaries[id, default: StreamSummary()].bodyEnded = true
        case .streamClosed(let id, let code):
            var summary = summaries.removeValue(forKey: id) ?? StreamSummary()
            summary.closed = code
            promises.removeValue(forKey: id)?.succeed(summary)
        case .goAway(_, let code, _):
            goAways.append(code)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for (_, promise) in promises { promise.fail(HTTP2Error.connectionClosed) }
        promises.removeAll()
        context.fireChannelInactive()
    }
}
