import Logging
import NIOCore
import NIOHTTP1
import SwitchyardAdmin
import SwitchyardHTTP2
import SwitchyardTLS

/// The HTTP/1 proxy of one client connection (outbound or inbound), behind NIOHTTP1's server
/// codec and `HTTPServerPipelineHandler` (which keeps pipelined requests in order).
///
/// Each request is planned afresh by the connection's `HTTPForwardingPolicy` (so alternating
/// requests on one keep-alive connection may go to different backends), then streamed to an
/// upstream connection taken from the loop's pool or newly connected; the response streams
/// back. Backpressure both ways: the client is not read while the upstream is connecting or
/// not writable, and the upstream is not read while the client is not writable, so a body of
/// any size holds memory flat.
///
/// Answers it makes itself carry `l5d-proxy-error` (`ProxyErrorResponse`): the plan's
/// answers, 502 when no endpoint could be connected (each tried once, at most three, before a
/// byte was sent) or the upstream broke before responding, 504 when the route's timeout ran out
/// first. A connection taken from the pool that turns out closed is retried once on a fresh
/// connection when the request had no body.
///
/// A `101 Switching Protocols` answer to an `Upgrade` request turns both connections into an
/// opaque splice (`SpliceHandler`).
final class HTTPProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// At most this many endpoints are tried for one request.
    static let maxConnectAttempts = 3

    /// One request and its response.
    private final class Exchange {
        let plan: ForwardRequest
        let requestHead: HTTPRequestHead
        let start: NIODeadline
        let clientKeepAlive: Bool
        let isUpgrade: Bool
        var target: UpstreamTarget?
        var upstream: (any HTTPUpstream)?
        var excluded: Set<String> = []
        var attempts = 0
        var lastFailure: String?
        /// Parts that arrived while no upstream was attached (the head is in `plan`).
        var buffered: [HTTPServerRequestPart] = []
        var requestEnded = false
        var requestHadBody = false
        var responseStarted = false
        var responseEnded = false
        var upstreamKeepAlive = true
        var timer: Scheduled<Void>?
        var reused = false
        var retriedReuse = false
        var status = 0
        /// The upstream's 101 head, held until the decoder delivers that response's end.
        var switchingHead: HTTPResponseHead?

        init(plan: ForwardRequest, requestHead: HTTPRequestHead, start: NIODeadline) {
            self.plan = plan
            self.requestHead = requestHead
            self.start = start
            isUpgrade = HopByHop.requestsUpgrade(requestHead.headers)
            // NIOHTTP1 stops parsing after an upgrade request: unless it is switched, close.
            clientKeepAlive = requestHead.isKeepAlive && !isUpgrade
        }
    }

    private enum State {
        case idle
        case exchanging(Exchange)
        /// Answered here; the rest of the request (if any) is discarded.
        case answered
        case upgraded
        case closed
    }

    private let policy: any HTTPForwardingPolicy
    private let loop: LoopResources
    private let connector: UpstreamConnector
    private let metrics: ProxyMetrics
    private let side: ProxyMetrics.Side
    private let logger: Logger
    private let accessLog: Bool
    private let headerLimits: NIOHTTPDecoderLimitConfiguration
    private var state = State.idle
    private var pendingRead = false
    private var context: ChannelHandlerContext?
    private var errorCounters: [String: Counter] = [:]
    /// The response counter used last, and its status: most responses of a connection share one.
    private var lastResponseCounter: (status: Int, counter: Counter)?
    /// Inside a read burst from the client (between `channelRead` and `channelReadComplete`),
    /// whose end flushes the upstream: writes made meanwhile wait for it.
    private var inClientRead = false
    /// Response parts were written to the client since its last flush.
    private var clientUnflushed = false
    /// In front of the client's codec: told when a request has ended and its response has not.
    var readAhead: ClientReadAheadHandler?
    /// Shutting down: close after the response in flight, or now when idle.
    private var draining = false

    init(policy: any HTTPForwardingPolicy, loop: LoopResources, connector: UpstreamConnector,
         metrics: ProxyMetrics, logger: Logger, accessLog: Bool, headerLimits: NIOHTTPDecoderLimitConfiguration = .init()) {
        self.headerLimits = headerLimits
        self.policy = policy
        self.loop = loop
        self.connector = connector
        self.metrics = metrics
        self.side = metrics.side(policy.direction, tls: policy.isTLS)
        self.logger = logger
        self.accessLog = accessLog
    }

    // MARK: - Client side

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        inClientRead = true
        switch state {
        case .idle:
            guard case .head(let head) = part else { return }
            start(context: context, head: head)
        case .exchanging(let exchange):
            switch part {
            case .head:
                break  // HTTPServerPipelineHandler never delivers a head before the response ended
            case .body(let buffer):
                exchange.requestHadBody = true
                forward(.body(.byteBuffer(buffer)), exchange)
            case .end(let trailers):
                exchange.requestEnded = true
                if !exchange.responseEnded { readAhead?.awaitingResponse = true }
                forward(.end(trailers), exchange)
            }
        case .answered:
            if case .end = part { state = .idle }
        case .upgraded, .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inClientRead = false
        if case .exchanging(let exchange) = state { exchange.upstream?.flush() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state, !(exchange.upstream?.isWritable ?? false) {
            pendingRead = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state { exchange.upstream?.holdReads = !context.channel.isWritable }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = state {
            exchange.timer?.cancel()
            if let target = exchange.target, exchange.upstream != nil {
                loop.balancer.finished(target.balancerKey, latency: NIODeadline.now() - exchange.start, now: .now())
            }
            exchange.upstream?.close()
            exchange.upstream = nil
        }
        state = .closed
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let input = event as? ChannelEvent, input == .inputClosed {
            // The client will send nothing more (HTTP/1 half-close is not supported, as in
            // hyper/Linkerd): close, abandoning any upstream exchange. An upgraded stream is the splice's.
            switch state {
            case .upgraded, .closed:
                context.fireUserInboundEventTriggered(event)
            case .exchanging(let exchange):
                abandonUpstream(exchange)
                state = .closed
                context.close(promise: nil)
            case .idle, .answered:
                state = .closed
                context.close(promise: nil)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            // Idle keep-alive connection: close it. A request in flight is the timeout's business.
            if case .idle = state {
                state = .closed
                context.close(promise: nil)
            }
            return
        }
        if event is DrainRequested {
            draining = true
            if case .idle = state {
                state = .closed
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle where error is HTTPParserError:
            answer(context: context, .malformedRequest("could not parse the request: \(error)"), head: nil, close: true)
        case .exchanging(let exchange) where !exchange.responseStarted && error is HTTPParserError:
            abandonUpstream(exchange)
            answer(context: context, .malformedRequest("could not parse the request: \(error)"), head: exchange.requestHead, close: true)
        default:
            logger.debug("client connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func start(context: ChannelHandlerContext, head: HTTPRequestHead) {
        side.requests.increment()
        switch policy.plan(head) {
        case .answer(let error):
            answer(context: context, error, head: head, close: nil)
        case .redirect(let status, let location):
            redirect(context: context, head: head, status: status, location: location)
        case .forward(let plan):
            let exchange = Exchange(plan: plan, requestHead: head, start: .now())
            state = .exchanging(exchange)
            plan.routeCounter?.increment()
            if let timeout = plan.timeout {
                exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                    self?.timedOut(exchange, after: timeout)
                }
            }
            dispatch(exchange)
        }
    }

    private func forward(_ part: HTTPClientRequestPart, _ exchange: Exchange) {
        if let upstream = exchange.upstream {
            upstream.write(part)
        } else {
            switch part {
            case .body(.byteBuffer(let b)): exchange.buffered.append(.body(b))
            case .end(let t): exchange.buffered.append(.end(t))
            default: break
            }
        }
    }

    // MARK: - Choosing and connecting an upstream

    private func dispatch(_ exchange: Exchange) {
        guard let context else { return }
        guard let target = pick(exchange) else {
            let tried = exchange.attempts
            answer(context: context, .upstreamFailed(exchange.lastFailure.map { tried > 1 ? "\($0) (\(tried) endpoints tried)" : $0 }
                                                      ?? "no endpoint left to try"),
                   head: exchange.requestHead, close: nil, exchange: exchange)
            return
        }
        exchange.target = target
        exchange.attempts += 1
        if carriedAsStream(exchange, to: target) {
            exchange.reused = false
            openStream(target, for: exchange)
            return
        }
        if let channel = loop.pool.take(target),
           let upstream = try? channel.pipeline.syncOperations.handler(type: UpstreamHTTPHandler.self) {
            exchange.reused = true
            attach(upstream, to: exchange)
            return
        }
        exchange.reused = false
        connectUpstream(target, for: exchange, on: context.eventLoop)
    }

    /// Opens a new HTTP/1 upstream connection to `target` for `exchange`.
    private func connectUpstream(_ target: UpstreamTarget, for exchange: Exchange, on eventLoop: EventLoop) {
        let limits = headerLimits
        connector.connect(target, inner: .http1, on: eventLoop) { channel in
            try channel.pipeline.syncOperations.addUpstreamHTTPHandlers(limits: limits)
        }.assumeIsolated().whenComplete { [weak self] result in
            guard let self else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                return
            }
            self.connected(result, exchange: exchange, target: target)
        }
    }

    /// Whether `exchange` goes to `target` as a stream on a shared HTTP/2 mesh connection: a
    /// meshed target, `meshHTTP1OverHTTP2` on, and neither an Upgrade nor a CONNECT request.
    private func carriedAsStream(_ exchange: Exchange, to target: UpstreamTarget) -> Bool {
        target.isMeshed && loop.meshHTTP1OverHTTP2 && !exchange.isUpgrade && exchange.requestHead.method != .CONNECT
    }

    /// Sends `exchange` as a stream on a shared HTTP/2 connection to the meshed `target`'s node
    /// (`l5d-orig-proto`, docs/transport.md): no handshake when one is open already.
    private func openStream(_ target: UpstreamTarget, for exchange: Exchange, reuse: Bool = true) {
        let loop = self.loop
        if reuse, let connection = loop.h2.ready(for: target, connector: connector) {
            // Like a pooled connection: the peer may be closing it just now.
            exchange.reused = true
            return attach(HTTP1OverHTTP2Stream(connection: connection, target: target, batch: loop.h2.batch), to: exchange)
        }
        loop.h2.connection(to: target, connector: connector, metrics: metrics, logger: logger,
                           configuration: HTTP2Configuration()) { [weak self] result in
            guard let self else { return }
            guard case .exchanging(let current) = self.state, current === exchange, exchange.upstream == nil else { return }
            switch result {
            case .success(let connection):
                self.attach(HTTP1OverHTTP2Stream(connection: connection, target: target, batch: loop.h2.batch), to: exchange)
            case .failure(let error):
                self.connectFailed(exchange, target: target, error: error)
            }
        }
    }

    private func pick(_ exchange: Exchange) -> UpstreamTarget? {
        guard exchange.attempts < Self.maxConnectAttempts else { return nil }
        return loop.pick(exchange.plan.targets, excluding: exchange.excluded)
    }

    private func connected(_ result: Result<Channel, any Error>, exchange: Exchange, target: UpstreamTarget) {
        guard case .exchanging(let current) = state, current === exchange, exchange.upstream == nil else {
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch result {
        case .success(let channel):
            metrics.upstreamConnectTotal.labels(target.isMeshed ? "true" : "false", "success").increment()
            guard let upstream = try? channel.pipeline.syncOperations.handler(type: UpstreamHTTPHandler.self) else {
                channel.close(promise: nil)
                return
            }
            attach(upstream, to: exchange)
        case .failure(let error):
            metrics.upstreamConnectTotal.labels(target.isMeshed ? "true" : "false", "failure").increment()
            connectFailed(exchange, target: target, error: error)
        }
    }

    /// No connection to `target` could be made: the next endpoint is tried.
    private func connectFailed(_ exchange: Exchange, target: UpstreamTarget, error: any Error) {
        loop.balancer.connectFailed(target.balancerKey, now: .now())
        exchange.excluded.insert(target.balancerKey)
        exchange.lastFailure = "\(error)"
        if let failure = error as? UpstreamConnector.Failure, let tls = failure.tls {
            metrics.tlsRefusedTotal.labels(TrafficDirection.outbound.rawValue, tls.metricLabel).increment()
        }
        logger.warning("upstream connect failed", metadata: ["target": "\(target)", "error": "\(error)"])
        dispatch(exchange)
    }

    private func attach(_ upstream: any HTTPUpstream, to exchange: Exchange) {
        guard let context, let target = exchange.target else { return }
        upstream.delegate = self
        upstream.holdReads = !context.channel.isWritable
        upstream.exchanges += 1
        exchange.upstream = upstream
        loop.balancer.started(target.balancerKey)
        upstream.write(.head(exchange.plan.head))
        for part in exchange.buffered {
            switch part {
            case .body(let b): upstream.write(.body(.byteBuffer(b)))
            case .end(let t): upstream.write(.end(t))
            case .head: break
            }
        }
        exchange.buffered.removeAll()
        // In the client's read burst (a pooled connection, taken at once) the rest of the
        // request is probably in the same burst: its `channelReadComplete` flushes it all.
        if !inClientRead { upstream.flush() }
        resumeReads()
    }

    private func resumeReads() {
        guard pendingRead, let context else { return }
        if case .exchanging(let exchange) = state, !(exchange.upstream?.isWritable ?? false) { return }
        pendingRead = false
        context.read()
    }

    // MARK: - Finishing

    private func timedOut(_ exchange: Exchange, after timeout: TimeAmount) {
        guard case .exchanging(let current) = state, current === exchange, let context else { return }
        if let target = exchange.target, exchange.upstream != nil {
            loop.balancer.failed(target.balancerKey, now: .now())
        }
        abandonUpstream(exchange)
        if exchange.responseStarted {
            logger.warning("response timed out after it started; closing", metadata: ["route": "\(exchange.plan.summary)"])
            context.close(promise: nil)
            state = .closed
        } else {
            answer(context: context, .timeout("no response within \(timeout.nanoseconds / 1_000_000) ms (\(exchange.plan.summary))"),
                   head: exchange.requestHead, close: nil, exchange: exchange)
        }
    }

    private func abandonUpstream(_ exchange: Exchange) {
        exchange.timer?.cancel()
        exchange.upstream?.close()
        exchange.upstream = nil
    }

    /// Writes an answer made here. `close` nil: close when the error requires it, the client
    /// asked to, or its request body is still coming.
    private func answer(context: ChannelHandlerContext, _ error: ProxyError, head: HTTPRequestHead?, close: Bool?,
                        exchange: Exchange? = nil) {
        exchange?.timer?.cancel()
        let bodyPending = exchange.map { !$0.requestEnded } ?? head.map(Self.mayHaveBody) ?? true
        let mustClose = close ?? (error.requiresClose || !(head?.isKeepAlive ?? false) || bodyPending
                                  || (exchange?.isUpgrade ?? false) || draining)
        counter(for: error).increment()
        countResponse(status: Int(error.status.code))
        logger.warning("\(error.status.code) \(error.label): \(error.reason)",
                       metadata: head.map { ["method": "\($0.method.rawValue)", "uri": "\($0.uri)"] } ?? [:])
        let (responseHead, body) = ProxyErrorResponse.make(error, closeConnection: mustClose,
                                                           allocator: context.channel.allocator)
        writeResponse(context: context, head: responseHead, body: head?.method == .HEAD ? nil : body, close: mustClose)
    }

    private func redirect(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, location: String) {
        let mustClose = !head.isKeepAlive || Self.mayHaveBody(head) || draining
        var headers = HTTPHeaders()
        headers.add(name: "location", value: location)
        headers.add(name: "content-length", value: "0")
        if mustClose { headers.add(name: "connection", value: "close") }
        countResponse(status: status)
        let responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        writeResponse(context: context, head: responseHead, body: nil, close: mustClose)
    }

    private func writeResponse(context: ChannelHandlerContext, head: HTTPResponseHead, body: ByteBuffer?, close: Bool) {
        let requestEnded: Bool
        if case .exchanging(let exchange) = state { requestEnded = exchange.requestEnded } else { requestEnded = false }
        state = close ? .closed : (requestEnded ? .idle : .answered)
        readAhead?.awaitingResponse = false
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeEnd(context: context, trailers: nil, thenClose: close)
        resumeReads()
    }

    /// Ends the response (flushing), then closes the connection when `thenClose`.
    private func writeEnd(context: ChannelHandlerContext, trailers: HTTPHeaders?, thenClose: Bool) {
        clientUnflushed = false
        if thenClose {
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    private func countResponse(status: Int) {
        if let last = lastResponseCounter, last.status == status {
            last.counter.increment()
            return
        }
        let counter = side.responseCounter(status: status)
        lastResponseCounter = (status, counter)
        counter.increment()
    }

    private func counter(for error: ProxyError) -> Counter {
        if let counter = errorCounters[error.label] { return counter }
        let counter = metrics.proxyError(policy.direction, error)
        errorCounters[error.label] = counter
        return counter
    }

    /// Whether a request with this head may carry a body (a length or a transfer coding).
    static func mayHaveBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        if let length = head.headers.first(name: "content-length") { return length != "0" }
        return false
    }
}

// MARK: - Upstream side

extension HTTPProxyHandler: UpstreamHTTPDelegate {
    func upstream(_ upstream: any HTTPUpstream, received part: HTTPClientResponsePart) {
        guard case .exchanging(let exchange) = state, exchange.upstream === upstream, let context else {
            upstream.close()
            return
        }
        switch part {
        case .head(var head):
            if head.status.code >= 100 && head.status.code < 200 && head.status != .switchingProtocols {
                HopByHop.strip(&head.headers)
                clientUnflushed = true
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                return
            }
            if head.status == .switchingProtocols {
                exchange.switchingHead = head  // switched at its .end, once the decoder has finished with it
                return
            }
            exchange.responseStarted = true
            exchange.upstreamKeepAlive = head.isKeepAlive
            exchange.status = Int(head.status.code)
            side.latency.observe(milliseconds: Duration.nanoseconds((NIODeadline.now() - exchange.start).nanoseconds))
            countResponse(status: exchange.status)
            HopByHop.strip(&head.headers)
            RequestHeadMapping.apply(exchange.plan.responseModifier, toResponse: &head.headers)
            // Only when it differs: a head's storage is shared, so any assignment copies it.
            if head.version != exchange.requestHead.version { head.version = exchange.requestHead.version }
            if !exchange.clientKeepAlive || draining { head.headers.add(name: "connection", value: "close") }
            clientUnflushed = true
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let buffer):
            clientUnflushed = true
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { upstream.holdReads = true }
        case .end(let trailers):
            if let head = exchange.switchingHead {
                upgrade(context: context, exchange: exchange, head: head)
                return
            }
            finish(context: context, exchange: exchange, upstream: upstream, trailers: trailers)
        }
    }

    /// The end of the upstream's read burst: one flush for what it carried (none when the
    /// response's end already flushed it).
    func upstreamFlush(_ upstream: any HTTPUpstream) {
        guard clientUnflushed else { return }
        clientUnflushed = false
        context?.flush()
    }

    func upstream(_ upstream: any HTTPUpstream, closedWith error: (any Error)?) {
        guard case .exchanging(let exchange) = state, exchange.upstream === upstream, let context,
              let target = exchange.target else { return }
        exchange.upstream = nil
        upstream.delegate = nil
        // A stream the peer refused (REFUSED_STREAM: GOAWAY crossed it) was not processed.
        let refused = (error as? HTTP1OverHTTP2Stream.StreamReset)?.code == .refusedStream
        if (exchange.reused || refused) && !exchange.responseStarted && !exchange.retriedReuse && !exchange.requestHadBody
            && exchange.requestEnded {
            // A pooled connection the server had closed, or a refused stream: try once more on a
            // fresh connection (a bodiless request only: a body sent is gone).
            loop.balancer.finished(target.balancerKey, latency: NIODeadline.now() - exchange.start, now: .now())
            exchange.retriedReuse = true
            exchange.attempts -= 1
            exchange.buffered = [.end(nil)]  // the request had no body: head and end again
            dispatchFresh(exchange, target: target)
            return
        }
        loop.balancer.failed(target.balancerKey, now: .now())
        if exchange.responseStarted {
            logger.warning("upstream closed mid-response; closing the client connection",
                           metadata: ["target": "\(target)", "error": "\(error.map { "\($0)" } ?? "end of stream")"])
            exchange.timer?.cancel()
            state = .closed
            context.close(promise: nil)
        } else {
            let why = error.map { "\($0)" } ?? "connection closed before a response"
            answer(context: context, .upstreamFailed("\(target): \(why)"), head: exchange.requestHead, close: nil,
                   exchange: exchange)
        }
    }

    func upstreamWritabilityChanged(_ upstream: any HTTPUpstream, writable: Bool) {
        if writable { resumeReads() }
    }

    /// Retries `exchange` on a new connection (or stream) to the same target (its parts were kept).
    private func dispatchFresh(_ exchange: Exchange, target: UpstreamTarget) {
        guard let context else { return }
        exchange.attempts += 1
        exchange.reused = false
        if carriedAsStream(exchange, to: target) {
            return openStream(target, for: exchange, reuse: false)
        }
        connectUpstream(target, for: exchange, on: context.eventLoop)
    }

    private func finish(context: ChannelHandlerContext, exchange: Exchange, upstream: any HTTPUpstream,
                        trailers: HTTPHeaders?) {
        exchange.timer?.cancel()
        if let target = exchange.target {
            loop.balancer.finished(target.balancerKey, latency: NIODeadline.now() - exchange.start, now: .now())
            upstream.delegate = nil
            upstream.holdReads = false
            if exchange.upstreamKeepAlive && exchange.requestEnded, let channel = (upstream as? UpstreamHTTPHandler)?.channel {
                loop.pool.put(channel, for: target)
            } else {
                upstream.close()
            }
        }
        exchange.upstream = nil
        exchange.responseEnded = true
        readAhead?.awaitingResponse = false
        let closeClient = !exchange.clientKeepAlive || !exchange.requestEnded || draining
        state = closeClient ? .closed : .idle
        if accessLog {
            let h = exchange.requestHead
            logger.info("\(h.method.rawValue) \(h.uri) \(exchange.status)",
                        metadata: ["route": "\(exchange.plan.summary)", "upstream": "\(exchange.target.map { "\($0)" } ?? "-")",
                                   "ms": "\((NIODeadline.now() - exchange.start).nanoseconds / 1_000_000)"])
        }
        writeEnd(context: context, trailers: trailers, thenClose: closeClient)
        resumeReads()
    }

    /// 101 Switching Protocols: relay the head, then splice the two connections.
    private func upgrade(context: ChannelHandlerContext, exchange: Exchange, head: HTTPResponseHead) {
        guard exchange.isUpgrade, let upstream = exchange.upstream as? UpstreamHTTPHandler, let upstreamChannel = upstream.channel else {
            answer(context: context, .upstreamFailed("upstream switched protocols without an Upgrade request"),
                   head: exchange.requestHead, close: true, exchange: exchange)
            return
        }
        exchange.timer?.cancel()
        countResponse(status: 101)
        var head = head
        HopByHop.strip(&head.headers, keepingUpgrade: true)
        head.headers.replaceOrAdd(name: "connection", value: "upgrade")
        upstream.delegate = nil
        exchange.upstream = nil
        state = .upgraded
        readAhead?.awaitingResponse = false
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        let client = context.channel
        do {
            let clientSync = client.pipeline.syncOperations
            let upstreamSync = upstreamChannel.pipeline.syncOperations
            // Remove the message handlers first (nothing flows while this runs), splice, then
            // the codecs: their leftover bytes go into the splice.
            try clientSync.removeProxyServerMessageHandlers()
            clientSync.removeHandler(context: context, promise: nil)
            upstreamSync.removeHandler(upstream, promise: nil)
            try SpliceHandler.joinSync(client, upstreamChannel)
            // Encoders first, then the decoders, upstream's first: each decoder leaves on a later
            // tick and hands its leftover bytes to the splice, which writes them to the other
            // side (so no codec may be left there) as a read without a read-complete (so flush).
            clientSync.removeHandler(try clientSync.handler(type: HTTPResponseEncoder.self), promise: nil)
            upstreamSync.removeHandler(try upstreamSync.handler(type: HTTPRequestEncoder.self), promise: nil)
            let upstreamDecoderGone = upstreamChannel.eventLoop.makePromise(of: Void.self)
            let clientDecoderGone = client.eventLoop.makePromise(of: Void.self)
            upstreamSync.removeHandler(try upstreamSync.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self),
                                       promise: upstreamDecoderGone)
            clientSync.removeHandler(try clientSync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self),
                                     promise: clientDecoderGone)
            upstreamDecoderGone.futureResult.and(clientDecoderGone.futureResult).whenComplete { _ in
                client.flush()
                upstreamChannel.flush()
            }
        } catch {
            logger.warning("could not switch to an opaque stream after 101", metadata: ["error": "\(error)"])
            client.close(promise: nil)
            upstreamChannel.close(promise: nil)
        }
    }
}

extension TLSError {
    /// A short label for `switchyard_tls_handshake_refused_total{reason}`.
    var metricLabel: String {
        switch self {
        case .unknownCA: return "unknown_ca"
        case .expired: return "expired"
        case .notYetValid: return "not_yet_valid"
        case .identityMismatch: return "identity_mismatch"
        case .invalidPeerIdentity: return "invalid_peer_identity"
        case .certificateRejected: return "certificate_rejected"
        case .noClientCertificate: return "no_client_certificate"
        case .unknownServerName: return "unknown_server_name"
        case .handshakeTimeout: return "handshake_timeout"
        case .peerAlert: return "peer_alert"
        case .protocolViolation: return "protocol_violation"
        case .unexpectedClose: return "unexpected_close"
        case .bufferLimitExceeded: return "buffer_limit"
        case .invalidConfiguration: return "invalid_configuration"
        }
    }
}
