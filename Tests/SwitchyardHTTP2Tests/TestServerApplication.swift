import NIOConcurrencyHelpers
import NIOCore
import SwitchyardHTTP2

/// Lets a test watch and steer `TestServerApplication`'s `/hold` streams from outside the
/// event loop.
final class TestServerControl: @unchecked Sendable {
    private let lock = NIOLock()
    private var _received = ByteBuffer()
    private var _unconsumed = 0
    private var _released = false
    private var releasers: [@Sendable () -> Void] = []

    /// Bytes `/hold` streams received so far (consumed or not).
    var receivedCount: Int { lock.withLock { _received.readableBytes } }
    var received: ByteBuffer { lock.withLock { _received } }
    /// Bytes received on `/hold` and not yet given back to the windows.
    var unconsumed: Int { lock.withLock { _unconsumed } }
    var isReleased: Bool { lock.withLock { _released } }

    func record(_ chunk: ByteBuffer, consumed: Bool) {
        lock.withLock {
            var chunk = chunk
            if !consumed { _unconsumed += chunk.readableBytes }
            _received.writeBuffer(&chunk)
        }
    }

    func markConsumed(_ count: Int) {
        lock.withLock { _unconsumed -= count }
    }

    func onRelease(_ body: @escaping @Sendable () -> Void) {
        let now = lock.withLock {
            if _released { return true }
            releasers.append(body)
            return false
        }
        if now { body() }
    }

    /// From now on `/hold` streams consume what they received and what they receive.
    func release() {
        let bodies = lock.withLock {
            _released = true
            defer { releasers.removeAll() }
            return releasers
        }
        bodies.forEach { $0() }
    }
}

/// A small HTTP/2 application on `HTTP2ConnectionHandler`'s server events, for tests:
///
/// - `/echo`: answers 200 at once, sends every request chunk back (consuming each chunk only
///   when its echo was written: backpressure end to end), then trailers `grpc-status: 0`,
///   `x-echo-bytes` and `echo-<name>` for each request trailer.
/// - `/hold`: records the body without consuming it until `TestServerControl.release()`;
///   once released and the request has ended, answers 200 with trailer `x-received-bytes`.
/// - `/big?bytes=N`: N pattern bytes, one 16 KiB chunk at a time (the next when the last was sent).
/// - anything else: 200 `hello from switchyard\n` once the request has ended (its body is
///   consumed and dropped).
final class TestServerApplication: ChannelInboundHandler {
    typealias InboundIn = HTTP2Event
    typealias OutboundOut = HTTP2Command

    static let staticBody = "hello from switchyard\n"
    /// 0, 1, ..., 250, 0, 1, ...: long enough for any 16 KiB chunk at any phase.
    static let bigPattern: ByteBuffer = {
        var buffer = ByteBuffer()
        for index in 0..<((16 << 10) + 251) { buffer.writeInteger(UInt8(index % 251)) }
        return buffer
    }()

    private struct Stream {
        var path: String
        var received = 0
        var unconsumed = 0
        var ended = false
        var responded = false
    }

    private let control: TestServerControl?
    private var streams: [HTTP2StreamID: Stream] = [:]
    private var context: ChannelHandlerContext?
    private var releaseRegistered = false

    init(control: TestServerControl? = nil) {
        self.control = control
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let id, let head, let endStream):
            let path = head.path ?? "/"
            streams[id] = Stream(path: path)
            if path == "/echo" {
                send(.sendHeaders(id, [":status": "200", "content-type": "application/octet-stream"], endStream: false))
                if endStream { finishEcho(id, requestTrailers: nil) }
            } else if path.hasPrefix("/big") {
                let count = path.split(separator: "=").last.flatMap { Int($0) } ?? 1 << 20
                send(.sendHeaders(id, [":status": "200", "content-length": "\(count)"], endStream: false))
                sendBig(id, remaining: count, offset: 0)
            } else if path == "/hold" {
                registerRelease(context: context)
                if endStream { finishHold(id) }
            } else if endStream {
                respondStatic(id)
            }
        case .data(let id, let chunk, let endStream):
            guard var stream = streams[id] else { return }
            stream.received += chunk.readableBytes
            switch stream.path {
            case "/echo":
                let count = chunk.readableBytes
                streams[id] = stream
                context.writeAndFlush(wrapOutboundOut(.sendData(id, chunk, endStream: false))).assumeIsolated().whenSuccess {
                    [self] in send(.consume(id, bytes: count))
                }
                if endStream { finishEcho(id, requestTrailers: nil) }
            case "/hold":
                let released = control?.isReleased ?? true
                control?.record(chunk, consumed: released)
                if released {
                    send(.consume(id, bytes: chunk.readableBytes))
                } else {
                    stream.unconsumed += chunk.readableBytes
                }
                streams[id] = stream
                if endStream { finishHold(id) }
            default:
                streams[id] = stream
                send(.consume(id, bytes: chunk.readableBytes))
                if endStream { respondStatic(id) }
            }
        case .trailers(let id, let trailers):
            guard let stream = streams[id] else { return }
            switch stream.path {
            case "/echo": finishEcho(id, requestTrailers: trailers)
            case "/hold": finishHold(id)
            default: respondStatic(id)
            }
        case .streamClosed(let id, _):
            // Keep /hold's count until it is released (the consumer still owes `consume`).
            if streams[id]?.path != "/hold" || control?.isReleased ?? true { streams[id] = nil }
        case .goAway:
            break
        }
    }

    private func send(_ command: HTTP2Command) {
        context?.writeAndFlush(wrapOutboundOut(command), promise: nil)
    }

    private func respondStatic(_ id: HTTP2StreamID) {
        guard var stream = streams[id], !stream.responded else { return }
        stream.responded = true
        streams[id] = stream
        send(.sendHeaders(id, [":status": "200", "content-type": "text/plain", "content-length": "\(Self.staticBody.utf8.count)"], endStream: false))
        send(.sendData(id, ByteBuffer(string: Self.staticBody), endStream: true))
    }

    private func finishEcho(_ id: HTTP2StreamID, requestTrailers: HTTP2HeaderBlock?) {
        guard var stream = streams[id], !stream.responded else { return }
        stream.responded = true
        streams[id] = stream
        var trailers: HTTP2HeaderBlock = ["grpc-status": "0", "x-echo-bytes": "\(stream.received)"]
        for field in requestTrailers ?? [:] { trailers.add(name: "echo-\(field.name)", value: field.value) }
        send(.sendTrailers(id, trailers))
    }

    /// Answers a `/hold` stream once its request has ended and the control released it.
    private func finishHold(_ id: HTTP2StreamID) {
        guard var stream = streams[id], !stream.responded else { return }
        stream.ended = true
        streams[id] = stream
        guard control?.isReleased ?? true else { return }
        stream.responded = true
        streams[id] = stream
        send(.sendHeaders(id, [":status": "200"], endStream: false))
        send(.sendTrailers(id, ["x-received-bytes": "\(stream.received)"]))
    }

    private func sendBig(_ id: HTTP2StreamID, remaining: Int, offset: Int) {
        guard let context else { return }
        let count = min(remaining, 16 << 10)
        // 16 KiB is a multiple of nothing in 251: cut the chunk from a pattern that starts at offset % 251.
        let chunk = Self.bigPattern.getSlice(at: offset % 251, length: count)!
        let last = count == remaining
        context.writeAndFlush(wrapOutboundOut(.sendData(id, chunk, endStream: last))).assumeIsolated().whenSuccess { [self] in
            if !last { sendBig(id, remaining: remaining - count, offset: offset + count) }
        }
    }

    private func registerRelease(context: ChannelHandlerContext) {
        guard let control, !releaseRegistered else { return }
        releaseRegistered = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        control.onRelease { loop.execute { bound.value.consumeHeld() } }
    }

    private func consumeHeld() {
        for (id, var stream) in streams where stream.path == "/hold" && stream.unconsumed > 0 {
            send(.consume(id, bytes: stream.unconsumed))
            control?.markConsumed(stream.unconsumed)
            stream.unconsumed = 0
            streams[id] = stream
        }
        for (id, stream) in streams where stream.path == "/hold" && stream.ended { finishHold(id) }
    }
}
