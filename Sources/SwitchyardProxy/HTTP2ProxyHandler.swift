import Logging
import NIOCore
import NIOHTTP1
import SwitchyardAdmin
import SwitchyardHTTP2

/// The HTTP/2 proxy of one client connection, after its server `HTTP2ConnectionHandler`: every
/// stream is a request of its own, planned by the forwarding policy (the outbound side routes
/// each one; the inbound side sends each to its local pod with `l5d-client-id`) and relayed to
/// a stream on a shared HTTP/2 connection to the chosen endpoint (docs/transport.md).
///
/// Flow control runs end to end: a DATA chunk from one side is given back to its sender's
/// window (`consume`) only once the other side has written it, so a slow reader slows its
/// writer. A reset on either side resets the other (a client's cancel cancels the upstream
/// stream). Answers the proxy makes itself carry `l5d-proxy-error`; for gRPC they are
/// trailers-only responses with the matching `grpc-status`.
final class HTTP2ProxyHandler: ChannelInboundHandler, HTTP2BatchFlushable, HTTP2EventReceiver {
    typealias InboundIn = HTTP2Event
    typealias OutboundOut = HTTP2Command

    let policy: any HTTPForwardingPolicy
    let loop: LoopResources
    let connector: UpstreamConnector
    let metrics: ProxyMetrics
    let side: ProxyMetrics.Side
    let logger: Logger
    let configuration: HTTP2Configuration
    /// A connection without streams for this long is shut down (GOAWAY); zero: never.
    let idleTimeout: TimeAmount
    fileprivate var context: ChannelHandlerContext?
    fileprivate var exchanges: [HTTP2StreamID: HTTP2Exchange] = [:]
    private var idleTimer: Scheduled<Void>?
    /// When the last stream ended (the connection has been idle since; meaningless while streams are open).
    private var idleSince = NIODeadline.now()
    private var shuttingDown = false
    /// How long a drain (or an idle shutdown) lets the streams in flight finish.
    static let shutdownGrace: TimeAmount = .seconds(30)

    init(policy: any HTTPForwardingPolicy, loop: LoopResources, connector: UpstreamConnector, metrics: ProxyMetrics,
         logger: Logger, configuration: HTTP2Configuration = HTTP2Configuration(), idleTimeout: TimeAmount = .zero) {
        self.policy = policy
        self.loop = loop
        self.connector = connector
        self.metrics = metrics
        self.side = metrics.side(policy.direction, tls: policy.isTLS)
        self.logger = logger
        self.configuration = configuration
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armIdleTimer()
    }

    /// One timer for the connection's life (not one per stream): when it fires, a connection
    /// idle for `idleTimeout` is shut down, otherwise it is set again for the rest of the time.
    private func armIdleTimer(in delay: TimeAmount? = nil) {
        guard idleTimeout > .zero, !shuttingDown, let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay ?? idleTimeout) { [weak self] in
            guard let self else { return }
            self.idleTimer = nil
            guard self.exchanges.isEmpty else { return self.armIdleTimer() }
            let left = self.idleTimeout - (NIODeadline.now() - self.idleSince)
            if left > .zero { return self.armIdleTimer(in: left) }
            self.shutDown()
        }
    }

    /// A graceful GOAWAY: streams in flight finish, no new ones are taken, then the codec closes.
    private func shutDown() {
        guard !shuttingDown, let context else { return }
        shuttingDown = true
        idleTimer?.cancel()
        context.writeAndFlush(wrapOutboundOut(.shutdown(gracePeriod: Self.shutdownGrace)), promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        defer { loop.h2.batch.end() }
        self.context = nil
        let left = exchanges
        exchanges.removeAll()
        for exchange in left.values { exchange.downstreamClosed(.cancel) }
    }

    /// The codec in front, which takes commands and hands events over directly (`addHTTP2ProxyHandlers`).
    weak var codec: HTTP2ConnectionHandler?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data))
    }

    func receive(_ event: HTTP2Event) {
        loop.h2.batch.begin()
        switch event {
        case .headers(let id, let block, let endStream):
            guard exchanges[id] == nil else { return }  // a second head (1xx does not come from clients)
            let exchange = HTTP2Exchange(id: id, handler: self, requestBlock: block, requestEnded: endStream)
            exchanges[id] = exchange
            side.requests.increment()
            exchange.start()
        case .data(let id, let buffer, let endStream):
            if let exchange = exchanges[id] {
                exchange.requestData(buffer, endStream: endStream)
            } else if buffer.readableBytes > 0 {
                send(.consume(id, bytes: buffer.readableBytes))
            }
        case .trailers(let id, let block):
            exchanges[id]?.requestTrailers(block)
        case .streamClosed(let id, let code):
            exchanges.removeValue(forKey: id)?.downstreamClosed(code)
            if exchanges.isEmpty { idleSince = .now() }
        case .goAway:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The listeners allow half-closure (for opaque splices); HTTP/2 has no use for it: the
        // client's FIN ends the connection and every stream on it.
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        if event is DrainRequested {
            shutDown()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.notice("HTTP/2 client connection failed", metadata: ["direction": "\(policy.direction.rawValue)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// Writes a command to the client's connection (flushed now, or at the end of the loop's
    /// read burst); `then` runs when it is done.
    fileprivate func send(_ command: HTTP2Command, then: ((Result<Void, any Error>) -> Void)? = nil) {
        guard let context else {
            then?(.failure(HTTP2Error.connectionClosed))
            return
        }
        var promise: EventLoopPromise<Void>?
        if let then {
            promise = context.eventLoop.makePromise(of: Void.self)
            promise!.futureResult.assumeIsolated().whenComplete(then)
        }
        if let codec {
            codec.perform(command, promise: promise)
        } else {
            context.write(wrapOutboundOut(command), promise: promise)
        }
        loop.h2.batch.flush(self)
    }

    /// Whether a flush is due at the end of the loop's current read burst.
    var flushScheduled = false

    func flushNow() { context?.flush() }

    func channelReadComplete(context: ChannelHandlerContext) {
        loop.h2.batch.end()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The codec reports the streams cut off by the close as events, with no read burst end.
        loop.h2.batch.end()
        context.fireChannelInactive()
    }

    fileprivate func finished(_ exchange: HTTP2Exchange) {
        if exchanges[exchange.id] === exchange { exchanges.removeValue(forKey: exchange.id) }
        if exchanges.isEmpty { idleSince = .now() }
    }
}

/// One stream of the client's connection and its upstream stream. Confined to the loop.
final class HTTP2Exchange: HTTP2UpstreamStreamDelegate {
    let id: HTTP2StreamID
    private unowned let handler: HTTP2ProxyHandler
    private let requestBlock: HTTP2HeaderBlock
    private let grpc: Bool
    private let started = NIODeadline.now()
    private var requestEnded: Bool
    /// Request body and trailers received before the upstream stream was open.
    private var pending: [(ByteBuffer, Bool)] = []
    private var pendingTrailers: HTTP2HeaderBlock?
    private var plan: ForwardRequest?
    private var target: UpstreamTarget?
    /// Where the request goes, once it has been sent there.
    private var stream: HTTP2ExchangeUpstream?
    /// Inbound: the stream carries an app's HTTP/1 request (`l5d-orig-proto`), which goes to the
    /// pod as HTTP/1.1.
    private var origProto = false
    private var responseStarted = false
    private var done = false
    private var timer: Scheduled<Void>?
    private var excluded: Set<String> = []
    private var attempts = 0
    /// Request body or trailers went upstream (a refused stream cannot be sent again then).
    private var bodySent = false
    private var retriedRefused = false

    init(id: HTTP2StreamID, handler: HTTP2ProxyHandler, requestBlock: HTTP2HeaderBlock, requestEnded: Bool) {
        self.id = id
        self.handler = handler
        self.requestBlock = requestBlock
        self.requestEnded = requestEnded
        self.grpc = HTTP2Mapping.isGRPC(requestBlock)
    }

    // MARK: - The request

    func start() {
        var head: HTTPRequestHead
        switch HTTP2Mapping.requestHead(requestBlock) {
        case .failure(let error): return answer(error)
        case .success(let h): head = h
        }
        // Only a meshed client's mark is believed; nobody's passes on.
        if head.headers.contains(name: HTTP1OverHTTP2Stream.origProtoField) {
            origProto = handler.policy.direction == .inbound && handler.policy.isTLS
            head.headers.remove(name: HTTP1OverHTTP2Stream.origProtoField)
        }
        switch handler.policy.plan(head) {
        case .answer(let error):
            answer(error)
        case .redirect(let status, let location):
            var block = HTTP2HeaderBlock()
            block.add(name: ":status", value: String(status))
            block.add(name: "location", value: location)
            respondLocally(block, body: nil, status: status)
        case .forward(let request):
            plan = request
            if let timeout = request.timeout {
                timer = handler.loop.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in self?.timedOut() }
            }
            connect()
        }
    }

    private func connect() {
        guard let plan, !done else { return }
        let loop = handler.loop
        guard let target = loop.pick(plan.targets, excluding: excluded) else {
            return answer(.upstreamFailed(attempts == 0 ? "no usable endpoint" : "every endpoint failed"))
        }
        attempts += 1
        self.target = target
        if origProto { return connectHTTP1(target) }
        if let upstream = loop.h2.ready(for: target, connector: handler.connector) { return open(on: upstream, target: target) }
        loop.h2.connection(to: target, connector: handler.connector, metrics: handler.metrics, logger: handler.logger,
                           configuration: handler.configuration) { [weak self] result in
            guard let self, !self.done else { return }
            switch result {
            case .success(let upstream):
                self.open(on: upstream, target: target)
            case .failure(let error):
                self.connectFailed(target, error)
            }
        }
    }

    private func connectFailed(_ target: UpstreamTarget, _ error: any Error) {
        guard let plan else { return }
        handler.loop.balancer.connectFailed(target.balancerKey, now: .now())
        excluded.insert(target.balancerKey)
        if attempts < 3 && excluded.count < plan.targets.count {
            connect()
        } else {
            answer(.upstreamFailed(UpstreamConnector.describe(error)))
        }
    }

    /// Inbound `l5d-orig-proto`: an HTTP/1 connection to the pod, pooled or new.
    private func connectHTTP1(_ target: UpstreamTarget, fresh: Bool = false) {
        let loop = handler.loop
        if !fresh, let channel = loop.pool.take(target),
           let upstream = try? channel.pipeline.syncOperations.handler(type: UpstreamHTTPHandler.self) {
            return open(HTTP1Relay(exchange: self, upstream: upstream, target: target, pool: loop.pool, reused: true, batch: loop.h2.batch), target: target)
        }
        let metrics = handler.metrics
        handler.connector.connect(target, inner: .http1, on: loop.eventLoop) { channel in
            try channel.pipeline.syncOperations.addUpstreamHTTPHandlers(limits: NIOHTTPDecoderLimitConfiguration())
        }.assumeIsolated().whenComplete { [weak self] result in
            metrics.upstreamConnectTotal.labels(target.isMeshed ? "true" : "false", result.isSuccess ? "success" : "failure").increment()
            switch result {
            case .success(let channel):
                guard let self, !self.done,
                      let upstream = try? channel.pipeline.syncOperations.handler(type: UpstreamHTTPHandler.self) else {
                    channel.close(promise: nil)
                    return
                }
                self.open(HTTP1Relay(exchange: self, upstream: upstream, target: target, pool: loop.pool, reused: false,
                                     batch: loop.h2.batch),
                          target: target)
            case .failure(let error):
                self?.connectFailed(target, error)
            }
        }
    }

    private func open(_ relay: HTTP1Relay, target: UpstreamTarget) {
        guard let plan, !done else { return relay.cancel() }
        handler.loop.balancer.started(target.balancerKey)
        plan.routeCounter?.increment()
        stream = .http1(relay)
        relay.start(head: plan.head, endStream: requestEnded && pending.isEmpty && pendingTrailers == nil)
        sendPending()
    }

    /// Inbound `l5d-orig-proto`: a pooled connection turned out closed before any of the
    /// response (and the request had no body): once more on a new connection.
    func retryHTTP1() {
        guard !done, let target else { return }
        stream = nil
        connectHTTP1(target, fresh: true)
    }

    /// Inbound `l5d-orig-proto`: the HTTP/1 connection to the pod failed.
    func upstreamBroke(_ reason: String) {
        guard !done else { return }
        stream = nil
        if let target { handler.loop.balancer.failed(target.balancerKey, now: .now()) }
        if responseStarted {
            handler.send(.resetStream(id, .internalError))
            finish()
        } else {
            answer(.upstreamFailed(reason))
        }
    }

    private func open(on upstream: HTTP2Upstream, target: UpstreamTarget) {
        guard let plan else { return }
        var block = HTTP2Mapping.requestBlock(plan.head)
        // The pod this stream is for: the mesh connection may carry streams for several pods of
        // the peer's identity. Whatever a client sent under that name never passes.
        if block.contains(name: InboundHTTP2Policy.targetField) { block.remove(name: InboundHTTP2Policy.targetField) }
        if target.isMeshed, handler.policy.direction == .outbound {
            block.add(name: InboundHTTP2Policy.targetField, value: target.balancerKey)
        }
        // `te: trailers` is hop-by-hop to HTTP/1 (the policy's header preparation drops it) but
        // end to end in HTTP/2, and gRPC servers require it.
        if requestBlock.first(name: "te")?.lowercased() == "trailers", !block.contains(name: "te") {
            block.add(name: "te", value: "trailers")
        }
        let endStream = requestEnded && pending.isEmpty && pendingTrailers == nil
        guard let upstreamID = upstream.openStream(block, endStream: endStream, delegate: self) else {
            return answer(.upstreamFailed("the HTTP/2 connection to \(target) is closing"))
        }
        handler.loop.balancer.started(target.balancerKey)
        plan.routeCounter?.increment()
        stream = .stream(upstream, upstreamID)
        sendPending()
    }

    /// What the client sent before the request could go: sent now.
    private func sendPending() {
        let queued = pending
        pending.removeAll()
        for (chunk, end) in queued { forwardRequestData(chunk, endStream: end) }
        if let trailers = pendingTrailers {
            pendingTrailers = nil
            stream?.sendTrailers(trailers)
        }
    }

    func requestData(_ buffer: ByteBuffer, endStream: Bool) {
        if endStream { requestEnded = true }
        guard !done else {
            if buffer.readableBytes > 0 { handler.send(.consume(id, bytes: buffer.readableBytes)) }
            return
        }
        if stream == nil {
            pending.append((buffer, endStream))
        } else {
            forwardRequestData(buffer, endStream: endStream)
        }
    }

    private func forwardRequestData(_ buffer: ByteBuffer, endStream: Bool) {
        guard let stream else { return }
        let bytes = buffer.readableBytes
        guard bytes > 0 else { return stream.sendData(buffer, endStream: endStream, then: nil) }
        bodySent = true
        let id = self.id
        let handler = self.handler
        stream.sendData(buffer, endStream: endStream) { _ in
            // Written upstream (or dropped with the stream): the client may send more.
            handler.send(.consume(id, bytes: bytes))
        }
    }

    func requestTrailers(_ block: HTTP2HeaderBlock) {
        requestEnded = true
        guard !done else { return }
        if let stream {
            bodySent = true
            stream.sendTrailers(block)
        } else {
            pendingTrailers = block
        }
    }

    /// The client's stream is over: reset by the client (or the connection went), or ended
    /// normally once both sides were done.
    func downstreamClosed(_ code: HTTP2ErrorCode) {
        guard !done else { return }
        if code != .noError, let stream {
            self.stream = nil
            stream.cancel()
            if let target { handler.loop.balancer.failed(target.balancerKey, now: .now()) }
        }
        finish()
    }

    // MARK: - The response

    func upstreamHeaders(_ block: HTTP2HeaderBlock, endStream: Bool) {
        guard !done else { return }
        let status = HTTP2Mapping.status(block) ?? 502
        let out = HTTP2Mapping.responseBlock(block, modifier: (100..<200).contains(status) ? nil : plan?.responseModifier)
        if !(100..<200).contains(status) {
            responseStarted = true
            timer?.cancel()
            handler.side.countResponse(status: status)
        }
        handler.send(.sendHeaders(id, out, endStream: endStream))
    }

    func upstreamData(_ buffer: ByteBuffer, endStream: Bool) {
        guard !done, let stream else { return }
        let bytes = buffer.readableBytes
        guard bytes > 0 else { return handler.send(.sendData(id, buffer, endStream: endStream)) }
        handler.send(.sendData(id, buffer, endStream: endStream)) { _ in
            // Written to the client (or dropped with the stream): the upstream may send more.
            stream.consume(bytes)
        }
    }

    func upstreamTrailers(_ block: HTTP2HeaderBlock) {
        guard !done else { return }
        handler.send(.sendTrailers(id, block))
    }

    func upstreamClosed(_ code: HTTP2ErrorCode) {
        guard !done else { return }
        stream = nil
        if code == .noError {
            if let target { handler.loop.balancer.finished(target.balancerKey, latency: .now() - started, now: .now()) }
            handler.side.latency.observe(milliseconds: Duration.nanoseconds((NIODeadline.now() - started).nanoseconds))
            // The client's stream closes by itself once our side of it has been sent; if the
            // client is still sending, tell it to stop (RFC 9113 §8.1).
            if !requestEnded { handler.send(.resetStream(id, .noError)) }
            finish()
            return
        }
        if let target { handler.loop.balancer.failed(target.balancerKey, now: .now()) }
        if code == .refusedStream, !responseStarted, !bodySent, requestEnded, pendingTrailers == nil, !retriedRefused {
            // Refused (GOAWAY crossed it, or the peer's stream limit): nothing was processed, so
            // a bodiless request goes once more, on a connection that takes it.
            retriedRefused = true
            attempts -= 1
            return connect()
        }
        if responseStarted {
            handler.send(.resetStream(id, code))
            finish()
        } else {
            answer(.upstreamFailed("the upstream reset the stream (\(code))"))
        }
    }

    private func timedOut() {
        guard !done else { return }
        stream.take()?.cancel()
        if responseStarted {
            handler.send(.resetStream(id, .cancel))
            finish()
        } else {
            answer(.timeout("no response within the route's timeout"))
        }
    }

    // MARK: - Answers made here

    private func answer(_ error: ProxyError) {
        guard !done else { return }
        handler.metrics.proxyError(handler.policy.direction, error).increment()
        stream.take()?.cancel()
        let (block, body) = HTTP2Mapping.answer(error, grpc: grpc)
        respondLocally(block, body: body, status: grpc ? 200 : Int(error.status.code))
    }

    private func respondLocally(_ block: HTTP2HeaderBlock, body: ByteBuffer?, status: Int) {
        handler.side.countResponse(status: status, failure: status >= 500 || grpc)
        responseStarted = true
        if let body {
            handler.send(.sendHeaders(id, block, endStream: false))
            handler.send(.sendData(id, body, endStream: true))
        } else {
            handler.send(.sendHeaders(id, block, endStream: true))
        }
        if !requestEnded { handler.send(.resetStream(id, .noError)) }
        // Whatever the client sent and is still held is given back.
        for (chunk, _) in pending where chunk.readableBytes > 0 { handler.send(.consume(id, bytes: chunk.readableBytes)) }
        pending.removeAll()
        finish()
    }

    private func finish() {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        stream.take()?.forget()
        handler.finished(self)
    }
}

/// Where an exchange's request went: a stream on an HTTP/2 connection, or (inbound,
/// `l5d-orig-proto`) an HTTP/1 exchange with the pod.
enum HTTP2ExchangeUpstream {
    case stream(HTTP2Upstream, HTTP2StreamID)
    case http1(HTTP1Relay)

    func sendData(_ buffer: ByteBuffer, endStream: Bool, then: ((Result<Void, any Error>) -> Void)?) {
        switch self {
        case .stream(let connection, let id): connection.send(.sendData(id, buffer, endStream: endStream), then: then)
        case .http1(let relay): relay.sendData(buffer, endStream: endStream, then: then)
        }
    }

    func sendTrailers(_ block: HTTP2HeaderBlock) {
        switch self {
        case .stream(let connection, let id): connection.send(.sendTrailers(id, block))
        case .http1(let relay): relay.sendTrailers(block)
        }
    }

    /// `bytes` of the response have been written to the client: the upstream may send more.
    func consume(_ bytes: Int) {
        switch self {
        case .stream(let connection, let id): connection.send(.consume(id, bytes: bytes))
        case .http1(let relay): relay.consumed(bytes)
        }
    }

    /// Abandons it: the stream is reset (CANCEL), the HTTP/1 connection closed.
    func cancel() {
        switch self {
        case .stream(let connection, let id):
            connection.forget(id)
            connection.send(.resetStream(id, .cancel))
        case .http1(let relay):
            relay.cancel()
        }
    }

    /// The exchange is over and no longer listens.
    func forget() {
        switch self {
        case .stream(let connection, let id): connection.forget(id)
        case .http1(let relay): relay.release()
        }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// A client connection that speaks HTTP/2: the server side of the codec, then `handler`.
    func addHTTP2ProxyHandlers(_ handler: HTTP2ProxyHandler) throws {
        let codec = HTTP2ConnectionHandler(mode: .server, configuration: handler.configuration)
        codec.receiver = handler
        handler.codec = codec
        try addHandler(codec)
        try addHandler(handler)
    }
}
