import Logging
import NIOCore
import SwitchyardHTTP2
import SwitchyardInterception

/// What an HTTP/2 stream to an upstream reports to the exchange that opened it. Called on the
/// event loop of the connection (the exchange's own).
protocol HTTP2UpstreamStreamDelegate: AnyObject {
    func upstreamHeaders(_ block: HTTP2HeaderBlock, endStream: Bool)
    func upstreamData(_ buffer: ByteBuffer, endStream: Bool)
    func upstreamTrailers(_ block: HTTP2HeaderBlock)
    /// The stream is over: `.noError` when both sides ended it, else the reset's code.
    func upstreamClosed(_ code: HTTP2ErrorCode)
}

/// One HTTP/2 client connection to an upstream: a pod that speaks HTTP/2, or, for meshed pods,
/// the peer's inbound over mTLS (the transport preface names the first pod; each stream names
/// its own). Many streams share it. Confined to its event loop.
final class HTTP2Upstream {
    let target: UpstreamTarget
    let channel: Channel
    /// The credentials generation its handshake used (`CredentialSnapshot.generation`).
    let generation: Int
    fileprivate let mux: HTTP2UpstreamMux
    private let batch: HTTP2FlushBatch

    fileprivate init(target: UpstreamTarget, channel: Channel, generation: Int, mux: HTTP2UpstreamMux, batch: HTTP2FlushBatch) {
        self.target = target
        self.channel = channel
        self.generation = generation
        self.mux = mux
        self.batch = batch
    }

    /// No new streams go on it; it closes once its streams have ended (the credentials it was
    /// made with were replaced).
    func retire() {
        mux.retire()
    }

    /// Streams open on it now.
    var openStreams: Int { mux.streams.count }
    /// Whether new streams may go on it (open, no GOAWAY seen).
    var acceptsStreams: Bool { channel.isActive && !mux.goingAway }

    /// Opens a stream with `block`; the delegate hears what comes back. Nil when the
    /// connection could not open one (it is closing): the caller tries another.
    func openStream(_ block: HTTP2HeaderBlock, endStream: Bool, delegate: HTTP2UpstreamStreamDelegate) -> HTTP2StreamID? {
        guard let codec = mux.codec, let id = codec.openStream(block, endStream: endStream) else { return nil }
        // Known before the flush, which may bring the stream's first events.
        mux.streams[id] = delegate
        mux.streamsChanged()
        batch.flush(self)
        return id
    }

    /// Whether a flush is due at the end of the loop's current read burst.
    var flushScheduled = false

    /// Sends a command about one of its streams; `then` runs when it is done (data: written).
    /// Within a read burst of the loop (`batch`), the flush waits for the burst's end, so the
    /// frames of many streams go out in one write.
    func send(_ command: HTTP2Command, then: ((Result<Void, any Error>) -> Void)? = nil) {
        var promise: EventLoopPromise<Void>?
        if let then {
            promise = channel.eventLoop.makePromise(of: Void.self)
            promise!.futureResult.assumeIsolated().whenComplete(then)
        }
        mux.perform(command, promise: promise)
        batch.flush(self)
    }

    /// The exchange no longer listens to `id` (it ended or was reset by our side).
    func forget(_ id: HTTP2StreamID) {
        mux.streams.removeValue(forKey: id)
        mux.streamsChanged()
    }
}

/// After the client `HTTP2ConnectionHandler` of an upstream connection: hands each stream's
/// events to its delegate.
final class HTTP2UpstreamMux: ChannelInboundHandler, HTTP2EventReceiver {
    typealias InboundIn = HTTP2Event

    /// The codec in front, which takes commands and hands events over directly.
    weak var codec: HTTP2ConnectionHandler?

    /// Carries out `command` on the connection (directly on the codec, or as a write).
    func perform(_ command: HTTP2Command, promise: EventLoopPromise<Void>?) {
        if let codec {
            codec.perform(command, promise: promise)
        } else {
            context?.channel.write(command, promise: promise) ?? promise?.fail(HTTP2Error.connectionClosed)
        }
    }

    var streams: [HTTP2StreamID: HTTP2UpstreamStreamDelegate] = [:]
    var goingAway = false
    /// Closing once the last stream has ended.
    private var retiring = false
    private let logger: Logger
    private let target: UpstreamTarget
    private let batch: HTTP2FlushBatch
    /// A connection without streams for this long is closed; zero: never.
    private let idleTimeout: TimeAmount
    private var idleTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(target: UpstreamTarget, logger: Logger, batch: HTTP2FlushBatch, idleTimeout: TimeAmount) {
        self.target = target
        self.logger = logger
        self.batch = batch
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        idleSince = .now()
        armIdleTimer(in: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    /// When the last stream ended (meaningless while streams are open).
    private var idleSince = NIODeadline.now()

    /// Notes when the connection became idle; a retiring one closes then.
    func streamsChanged() {
        guard streams.isEmpty else { return }
        idleSince = .now()
        if retiring, let context {
            // Not from inside the caller's own event handling.
            context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
        }
    }

    /// See `HTTP2Upstream.retire()`.
    func retire() {
        guard !retiring else { return }
        retiring = true
        goingAway = true
        streamsChanged()
    }

    /// One timer for the connection's life (not one per stream): when it fires, a connection
    /// idle for `idleTimeout` is closed, otherwise it is set again for the rest of the time.
    private func armIdleTimer(in delay: TimeAmount) {
        guard idleTimeout > .zero, let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            guard let self, let context = self.context else { return }
            self.idleTimer = nil
            guard self.streams.isEmpty else { return self.armIdleTimer(in: self.idleTimeout) }
            let left = self.idleTimeout - (NIODeadline.now() - self.idleSince)
            if left > .zero { return self.armIdleTimer(in: left) }
            self.goingAway = true
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        batch.end()
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data))
    }

    func receive(_ event: HTTP2Event) {
        batch.begin()
        switch event {
        case .headers(let id, let block, let endStream):
            streams[id]?.upstreamHeaders(block, endStream: endStream)
        case .data(let id, let buffer, let endStream):
            if let delegate = streams[id] {
                delegate.upstreamData(buffer, endStream: endStream)
            } else if buffer.readableBytes > 0 {
                // Nobody reads it any more: give the window back at once.
                perform(.consume(id, bytes: buffer.readableBytes), promise: nil)
                context?.flush()
            }
        case .trailers(let id, let block):
            streams[id]?.upstreamTrailers(block)
        case .streamClosed(let id, let code):
            streams.removeValue(forKey: id)?.upstreamClosed(code)
            streamsChanged()
        case .goAway:
            goingAway = true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        goingAway = true
        // The connection handler has closed every open stream (.cancel) before this.
        let left = streams
        streams.removeAll()
        for delegate in left.values { delegate.upstreamClosed(.cancel) }
        // The streams' last events came without a read burst's end.
        batch.end()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("HTTP/2 upstream connection failed", metadata: ["upstream": "\(target)", "error": "\(error)"])
        context.close(promise: nil)
    }

}

/// What HTTP/2 connections are shared by: the dialled address and the two identities. A meshed
/// connection goes to a peer's inbound as one client identity to one server identity, and
/// carries streams for every pod of that identity on that node (each stream names its pod);
/// a plaintext one goes to one pod.
struct HTTP2ConnectionKey: Hashable {
    var dial: IPEndpoint
    var peerIdentity: String?
    var sourceIdentity: String?

    init(_ target: UpstreamTarget) {
        dial = target.dial
        peerIdentity = target.peerIdentity
        sourceIdentity = target.sourceIdentity
    }
}

/// The HTTP/2 client connections of one event loop, by `HTTP2ConnectionKey`: a stream goes on
/// a connection of its key with room for it, else a new one is made (streams that ask while
/// it is being made wait for it). Confined to the loop.
final class HTTP2UpstreamConnections {
    let eventLoop: EventLoop
    /// Streams put on one connection before another is opened (below what peers allow: 100).
    let maxStreamsPerConnection: Int
    /// How long a connection without streams is kept (the pool's idle timeout).
    let idleTimeout: TimeAmount
    private var connections: [HTTP2ConnectionKey: [HTTP2Upstream]] = [:]
    private var waiting: [HTTP2ConnectionKey: [(Result<HTTP2Upstream, any Error>) -> Void]] = [:]

    init(eventLoop: EventLoop, maxStreamsPerConnection: Int = 100, idleTimeout: TimeAmount = .seconds(30)) {
        self.eventLoop = eventLoop
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.idleTimeout = idleTimeout
    }

    /// How many connections are open (for tests and metrics).
    var count: Int { connections.values.reduce(0) { $0 + $1.count } }

    /// A connection to `target` with room for a stream, made with `connector` when there is none.
    /// The loop's flush batch (shared with the client side's handlers).
    let batch = HTTP2FlushBatch()

    /// A connection to `target` with room for a stream, if one is open now (no closure, no
    /// allocation: the common case of a busy mesh). A meshed connection made with credentials
    /// older than `connector`'s current ones is retired on the way: it takes no new streams and
    /// closes when its last one ends, so new streams handshake with the new certificates.
    func ready(for target: UpstreamTarget, connector: UpstreamConnector) -> HTTP2Upstream? {
        guard let list = connections[HTTP2ConnectionKey(target)] else { return nil }
        let generation = target.isMeshed ? connector.credentials.current.generation : 0
        for upstream in list where upstream.acceptsStreams {
            if upstream.generation != generation {
                upstream.retire()
                continue
            }
            if upstream.openStreams < maxStreamsPerConnection { return upstream }
        }
        return nil
    }

    func connection(to target: UpstreamTarget, connector: UpstreamConnector, metrics: ProxyMetrics, logger: Logger,
                    configuration: HTTP2Configuration,
                    _ completion: @escaping (Result<HTTP2Upstream, any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        let key = HTTP2ConnectionKey(target)
        if let ready = ready(for: target, connector: connector) {
            completion(.success(ready))
            return
        }
        if waiting[key] != nil {
            waiting[key]!.append(completion)
            return
        }
        waiting[key] = [completion]
        let generation = target.isMeshed ? connector.credentials.current.generation : 0
        let batch = NIOLoopBound(self.batch, eventLoop: eventLoop)
        let idleTimeout = self.idleTimeout
        let connected = connector.connect(target, inner: .http2, on: eventLoop) { channel in
            let sync = channel.pipeline.syncOperations
            let codec = HTTP2ConnectionHandler(mode: .client, configuration: configuration)
            let mux = HTTP2UpstreamMux(target: target, logger: logger, batch: batch.value, idleTimeout: idleTimeout)
            codec.receiver = mux
            mux.codec = codec
            try sync.addHandler(codec)
            try sync.addHandler(mux)
        }
        connected.assumeIsolated().whenComplete { result in
            let waiters = self.waiting.removeValue(forKey: key) ?? []
            metrics.upstreamConnectTotal.labels(target.isMeshed ? "true" : "false", result.isSuccess ? "success" : "failure").increment()
            switch result {
            case .success(let channel):
                guard let mux = try? channel.pipeline.syncOperations.handler(type: HTTP2UpstreamMux.self) else {
                    channel.close(promise: nil)
                    for waiter in waiters { waiter(.failure(HTTP2Error.connectionClosed)) }
                    return
                }
                let upstream = HTTP2Upstream(target: target, channel: channel, generation: generation, mux: mux, batch: self.batch)
                self.connections[key, default: []].append(upstream)
                channel.closeFuture.assumeIsolated().whenComplete { _ in
                    self.connections[key]?.removeAll { $0 === upstream }
                    if self.connections[key]?.isEmpty == true { self.connections.removeValue(forKey: key) }
                }
                for waiter in waiters { waiter(.success(upstream)) }
            case .failure(let error):
                for waiter in waiters { waiter(.failure(error)) }
            }
        }
    }

    /// Closes every connection (the daemon's shutdown, once the client connections are gone).
    func closeAll() {
        for upstream in connections.values.flatMap({ $0 }) { upstream.channel.close(promise: nil) }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

/// Something whose flush can wait for the end of the loop's read burst (`HTTP2FlushBatch`).
protocol HTTP2BatchFlushable: AnyObject {
    /// Whether it is already in the batch.
    var flushScheduled: Bool { get set }
    func flushNow()
}

/// Flushes deferred to the end of the event loop's current read burst: while one connection's
/// events are handled, the commands they cause on other connections (a client stream's frames
/// toward its upstream, an upstream's answer toward its client) are written at once but flushed
/// once, when the burst ends. Outside a burst (timers, connects, write completions) a flush goes
/// out at once. One per loop; confined to it.
final class HTTP2FlushBatch {
    private var active = false
    private var upstreams: [HTTP2Upstream] = []
    private var clients: [any HTTP2BatchFlushable] = []

    /// A connection's read burst has begun (its first event).
    func begin() { active = true }

    /// Runs `body` inside a burst: its flushes go out together when it returns (or with the
    /// burst already under way).
    func during(_ body: () -> Void) {
        guard !active else { return body() }
        active = true
        body()
        end()
    }

    /// Flushes `upstream` now, or at the end of the burst.
    func flush(_ upstream: HTTP2Upstream) {
        guard active else {
            upstream.channel.flush()
            return
        }
        if !upstream.flushScheduled {
            upstream.flushScheduled = true
            upstreams.append(upstream)
        }
    }

    /// Flushes `client` (a client connection, an HTTP/1 exchange's stream) now, or at the end
    /// of the burst.
    func flush(_ client: any HTTP2BatchFlushable) {
        guard active else {
            client.flushNow()
            return
        }
        if !client.flushScheduled {
            client.flushScheduled = true
            clients.append(client)
        }
    }

    /// The burst has ended: every deferred flush goes out.
    func end() {
        guard active else { return }
        active = false
        while !upstreams.isEmpty || !clients.isEmpty {
            let (u, c) = (upstreams, clients)
            upstreams.removeAll(keepingCapacity: true)
            clients.removeAll(keepingCapacity: true)
            for upstream in u {
                upstream.flushScheduled = false
                upstream.channel.flush()
            }
            for client in c {
                client.flushScheduled = false
                client.flushNow()
            }
        }
    }
}
