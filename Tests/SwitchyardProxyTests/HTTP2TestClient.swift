import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2

/// An HTTP/2 prior-knowledge client on SwitchyardHTTP2's client handler (nghttp2): requests on
/// one connection, each its own stream, with the headers the test chooses per request.
final class HTTP2TestClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String
        var trailers: [(name: String, value: String)]
        /// The stream's end: `.noError`, or the reset's code.
        var closed: HTTP2ErrorCode
        func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    static func connect(to address: SocketAddress, from sourceIP: String? = nil, group: EventLoopGroup) async throws -> HTTP2TestClient {
        var bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(5))
        if let sourceIP { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceIP, port: 0)) }
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(HTTP2ConnectionHandler(mode: .client))
                try channel.pipeline.syncOperations.addHandler(Collector())
            }
        }.connect(to: address).get()
        return HTTP2TestClient(channel: channel)
    }

    /// Sends one request (`authority`, `path`, extra `headers`, an optional body) and waits for
    /// its whole response.
    func request(_ method: String = "GET", authority: String, path: String = "/", headers: [(String, String)] = [],
                 body: String? = nil) async throws -> Response {
        var block: HTTP2HeaderBlock = [":method": method, ":scheme": "http", ":authority": authority, ":path": path]
        for (name, value) in headers { block.add(name: name, value: value) }
        let head = block
        let channel = self.channel
        let done = try await channel.eventLoop.submit { () -> EventLoopFuture<Response> in
            guard channel.isActive else { throw HTTP2Error.connectionClosed }
            let collector = try channel.pipeline.syncOperations.handler(type: Collector.self)
            let done = channel.eventLoop.makePromise(of: Response.self)
            let id = channel.eventLoop.makePromise(of: HTTP2StreamID.self)
            // Settled exactly once: by the stream's end, or by the failure to open it.
            var opened = false
            id.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success(let stream):
                    opened = true
                    collector.waiting[stream] = (done, Response(status: 0, headers: [], body: "", trailers: [], closed: .noError))
                    if let body {
                        channel.write(HTTP2Command.sendData(stream, ByteBuffer(string: body), endStream: true), promise: nil)
                    }
                case .failure(let error):
                    done.fail(error)
                }
            }
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenFailure { error in
                if !opened { id.fail(error) }  // never reached the handler, which would have settled it
            }
            channel.writeAndFlush(HTTP2Command.openStream(head, endStream: body == nil, streamID: id), promise: written)
            return done.futureResult
        }.get()
        return try await done.get()
    }

    /// Whether the connection is still open.
    var isActive: Bool { channel.isActive }

    func close() async {
        try? await channel.close()
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTP2Event
        typealias OutboundOut = HTTP2Command
        var waiting: [HTTP2StreamID: (EventLoopPromise<Response>, Response)] = [:]

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .headers(let id, let block, _):
                guard let status = block.first(name: ":status").flatMap({ Int($0) }), status >= 200 else { return }
                waiting[id]?.1.status = status
                waiting[id]?.1.headers = Array(block)
            case .data(let id, let buffer, _):
                waiting[id]?.1.body += String(buffer: buffer)
                if buffer.readableBytes > 0 {
                    context.writeAndFlush(wrapOutboundOut(.consume(id, bytes: buffer.readableBytes)), promise: nil)
                }
            case .trailers(let id, let block):
                waiting[id]?.1.trailers = Array(block)
            case .streamClosed(let id, let code):
                if case (let promise, var response)? = waiting.removeValue(forKey: id) {
                    response.closed = code
                    promise.succeed(response)
                }
            case .goAway:
                break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            for (promise, _) in waiting.values { promise.fail(HTTP2Error.connectionClosed) }
            waiting.removeAll()
            context.fireChannelInactive()
        }
    }
}
