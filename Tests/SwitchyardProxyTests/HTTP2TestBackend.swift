import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2

/// An HTTP/2 (prior knowledge, cleartext) app for the proxy's HTTP/2 tests, on SwitchyardHTTP2's
/// server handler. Every request gets `200`, `x-backend: <name>`, the `l5d-client-id` it saw
/// echoed as `x-seen-client-id`, and a body: the request body for `/echo`, else
/// `<name>\n`. `/grpc` answers with gRPC framing-agnostic trailers (`grpc-status: 0`),
/// `/hang` never answers, `/reset` resets the stream (INTERNAL_ERROR), `/refuse-once` refuses
/// its first request (REFUSED_STREAM) and answers the next ones.
final class HTTP2TestBackend: Sendable {
    let name: String
    let ip: String
    let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct Request: Sendable {
        var path: String
        var headers: [(name: String, value: String)]
        func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    private struct State {
        var released = false
        var held: [@Sendable () -> Void] = []
        var requests: [Request] = []
        var connections = 0
        var closed = 0
        var resets: [String] = []  // paths of streams the client (the proxy) reset
    }

    var requests: [Request] { state.withLockedValue { $0.requests } }
    var acceptedConnections: Int { state.withLockedValue { $0.connections } }
    var closedConnections: Int { state.withLockedValue { $0.closed } }
    var resetPaths: [String] { state.withLockedValue { $0.resets } }

    private init(name: String, ip: String, port: Int, channel: Channel, state: NIOLockedValueBox<State>) {
        self.name = name
        self.ip = ip
        self.port = port
        self.channel = channel
        self.state = state
    }

    static func start(name: String, ip: String, group: EventLoopGroup) async throws -> HTTP2TestBackend {
        let state = NIOLockedValueBox(State())
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                state.withLockedValue { $0.connections += 1 }
                channel.closeFuture.whenComplete { _ in state.withLockedValue { $0.closed += 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTP2ConnectionHandler(mode: .server))
                    try channel.pipeline.syncOperations.addHandler(App(name: name, state: state))
                }
            }
            .bind(host: ip, port: 0).get()
        return HTTP2TestBackend(name: name, ip: ip, port: channel.localAddress?.port ?? 0, channel: channel, state: state)
    }

    /// Answers the `/slow` requests held so far, and every later one at once.
    func release() {
        let held = state.withLockedValue { state -> [@Sendable () -> Void] in
            state.released = true
            defer { state.held = [] }
            return state.held
        }
        for answer in held { answer() }
    }

    func stop() async {
        try? await channel.close()
    }

    private final class App: ChannelInboundHandler {
        typealias InboundIn = HTTP2Event
        typealias OutboundOut = HTTP2Command
        let name: String
        let state: NIOLockedValueBox<State>
        var bodies: [HTTP2StreamID: ByteBuffer] = [:]
        var paths: [HTTP2StreamID: String] = [:]
        var clientIDs: [HTTP2StreamID: String] = [:]

        init(name: String, state: NIOLockedValueBox<State>) {
            self.name = name
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .headers(let id, let block, let endStream):
                let fields = Array(block)
                let path = block.first(name: ":path") ?? "/"
                state.withLockedValue { $0.requests.append(Request(path: path, headers: fields)) }
                paths[id] = path
                clientIDs[id] = block.values(name: "l5d-client-id").joined(separator: ",")
                bodies[id] = context.channel.allocator.buffer(capacity: 0)
                if endStream { respond(id, context: context) }
            case .data(let id, var buffer, let endStream):
                let bytes = buffer.readableBytes
                bodies[id]?.writeBuffer(&buffer)
                if bytes > 0 { context.write(wrapOutboundOut(.consume(id, bytes: bytes)), promise: nil) }
                if endStream { respond(id, context: context) }
                context.flush()
            case .trailers(let id, _):
                respond(id, context: context)
            case .streamClosed(let id, let code):
                if code != .noError, let path = paths[id] { state.withLockedValue { $0.resets.append(path) } }
                bodies[id] = nil
                paths[id] = nil
                clientIDs[id] = nil
            case .goAway:
                break
            }
        }

        private func respond(_ id: HTTP2StreamID, context: ChannelHandlerContext) {
            let path = paths[id] ?? "/"
            if path.hasPrefix("/hang") { return }
            if path.hasPrefix("/slow"), !state.withLockedValue({ $0.released }) {
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                let answer: @Sendable () -> Void = {
                    loop.execute {
                        let (app, context) = bound.value
                        app.answer(id, path: path, context: context)
                    }
                }
                state.withLockedValue { $0.held.append(answer) }
                return
            }
            answer(id, path: path, context: context)
        }

        private func answer(_ id: HTTP2StreamID, path: String, context: ChannelHandlerContext) {
            if path.hasPrefix("/reset") {
                context.writeAndFlush(wrapOutboundOut(.resetStream(id, .internalError)), promise: nil)
                return
            }
            if path.hasPrefix("/refuse-once"), state.withLockedValue({ $0.requests.filter { $0.path == path }.count }) == 1 {
                context.writeAndFlush(wrapOutboundOut(.resetStream(id, .refusedStream)), promise: nil)
                return
            }
            var head: HTTP2HeaderBlock = [":status": "200", "x-backend": name]
            if let seen = clientIDs[id], !seen.isEmpty { head.add(name: "x-seen-client-id", value: seen) }
            let body = path.hasPrefix("/echo") ? (bodies[id] ?? ByteBuffer()) : ByteBuffer(string: "\(name)\n")
            if path.hasPrefix("/grpc") {
                head.add(name: "content-type", value: "application/grpc")
                context.write(wrapOutboundOut(.sendHeaders(id, head, endStream: false)), promise: nil)
                context.write(wrapOutboundOut(.sendData(id, body, endStream: false)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.sendTrailers(id, ["grpc-status": "0", "grpc-message": "ok"])), promise: nil)
                return
            }
            context.write(wrapOutboundOut(.sendHeaders(id, head, endStream: false)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.sendData(id, body, endStream: true)), promise: nil)
        }
    }
}
