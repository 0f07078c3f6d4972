import NIOCore

/// HTTP/2 on one connection, with nghttp2 doing the framing, HPACK, stream states and flow
/// control: bytes in and out on the channel side, `HTTP2Event`s fired and `HTTP2Command`s
/// taken on the pipeline side.
///
/// - Input: every read is handed to nghttp2 at once (`nghttp2_session_mem_recv`); the events
///   it produced are fired after it returned, in order. Commands written in reaction to them
///   are applied at once and their frames go out with everything else at the end of the read
///   burst (`channelReadComplete`): one channel write and one flush per burst.
/// - Output: outside a read burst, a flush serializes whatever is pending
///   (`nghttp2_session_mem_send`) in writes of up to `outputChunkSize` bytes, as long as the
///   channel is writable; it resumes on `channelWritabilityChanged`.
/// - Flow control: nghttp2 opens no window by itself; the consumer's `consume` commands do.
///   Bodies wait in per-stream queues until the peer's window and our writability let them out.
/// - Limits: SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_HEADER_LIST_SIZE (431 or reset), a
///   rapid-reset guard. A peer that breaks the protocol gets nghttp2's GOAWAY (PROTOCOL_ERROR,
///   ENHANCE_YOUR_CALM, ...), `errorCaught` fires with `HTTP2Error.protocolViolation`, and the
///   channel closes once the GOAWAY is written.
/// - End: when GOAWAY was sent or received and no stream is left, or after a fatal GOAWAY, the
///   handler closes the channel. Streams still open when the channel goes inactive end with
///   `.streamClosed(_, .cancel)`. `ChannelShouldQuiesceEvent` starts a graceful shutdown.
/// Takes a connection's stream events straight from its `HTTP2ConnectionHandler` (set as its
/// `receiver`), instead of as channel reads: no `NIOAny` box per event and no pipeline walk.
/// The read burst's end, inactivity and errors still travel the pipeline. Called on the loop.
public protocol HTTP2EventReceiver: AnyObject {
    func receive(_ event: HTTP2Event)
}

public final class HTTP2ConnectionHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = HTTP2Event
    public typealias OutboundIn = HTTP2Command
    public typealias OutboundOut = ByteBuffer

    /// Which end of the connection this is.
    public enum Mode: Sendable {
        /// Accepts streams; expects the client's connection preface first.
        case server
        /// Opens streams; sends the connection preface.
        case client
    }

    public let mode: Mode
    public let configuration: HTTP2Configuration
    private let session: NGHTTP2Session
    private var started = false
    private var isClosed = false
    private var inReadBurst = false
    /// Inside `channelReadComplete` (whose own end is forwarded after the output is produced).
    private var completingRead = false
    /// Events were delivered outside a read burst (after a write, a flush, writability): a
    /// `channelReadComplete` follows them, so that handlers which batch work per read burst
    /// (the proxy's flush batch) see the burst end.
    private var eventsOutsideRead = false
    private var producing = false
    private var produceAgain = false
    private var delivering = false
    /// The peer broke the protocol: its further input is ignored.
    private var inputStopped = false
    private var closeScheduled = false
    private var violation: HTTP2Error?
    private var shutdownTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// Where events go when set (the handler after this one, usually); otherwise they are
    /// fired as channel reads.
    public weak var receiver: (any HTTP2EventReceiver)?

    public init(mode: Mode, configuration: HTTP2Configuration = HTTP2Configuration()) {
        self.mode = mode
        self.configuration = configuration
        session = NGHTTP2Session(
            role: mode == .server ? .server : .client, configuration: configuration, allocator: ByteBufferAllocator())
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        shutdownTimer?.cancel()
        if !isClosed {
            isClosed = true
            session.connectionClosed()
            completeFailedPromises()
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        session.start()
        flushOutput(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        shutdownTimer?.cancel()
        shutdownTimer = nil
        if !isClosed {
            isClosed = true
            session.connectionClosed()
            deliverEvents(context: context)
        }
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            shutdown(gracePeriod: configuration.shutdownGracePeriod, context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Input

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !inputStopped, !isClosed else { return }
        inReadBurst = true
        if let error = session.receive(unwrapInboundIn(data)) {
            inputStopped = true
            violation = error
        }
        deliverEvents(context: context)
        if inputStopped { flushOutput(context: context) }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        completingRead = true
        flushOutput(context: context)
        completingRead = false
        eventsOutsideRead = false
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flushOutput(context: context) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Commands

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        perform(unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// Carries out `command` as a write of it would (without the pipeline walk and the `NIOAny`
    /// box of one), on the connection's event loop; flush as usual. After the handler was
    /// removed, the command fails.
    public func perform(_ command: HTTP2Command, promise: EventLoopPromise<Void>?) {
        guard let context else {
            if case .openStream(_, _, let streamID) = command { streamID?.fail(HTTP2Error.connectionClosed) }
            promise?.fail(HTTP2Error.connectionClosed)
            return
        }
        perform(command, context: context, promise: promise)
    }

    /// Opens a stream at once, as `.openStream` does, and returns its ID (no promise); nil when
    /// the connection cannot open one (closed, closing, out of stream IDs).
    public func openStream(_ headers: HTTP2HeaderBlock, endStream: Bool) -> HTTP2StreamID? {
        guard context != nil, !isClosed else { return nil }
        return try? session.openStream(headers, endStream: endStream)
    }

    private func perform(_ command: HTTP2Command, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard !isClosed else {
            if case .openStream(_, _, let streamID) = command { streamID?.fail(HTTP2Error.connectionClosed) }
            promise?.fail(HTTP2Error.connectionClosed)
            return
        }
        do {
            switch command {
            case .openStream(let headers, let endStream, let streamIDPromise):
                do {
                    let id = try session.openStream(headers, endStream: endStream)
                    streamIDPromise?.succeed(id)
                } catch {
                    streamIDPromise?.fail(error)
                    throw error
                }
                promise?.succeed()
            case .sendHeaders(let id, let headers, let endStream):
                try session.sendHeaders(id, headers, endStream: endStream)
                promise?.succeed()
            case .sendData(let id, let buffer, let endStream):
                try session.sendData(id, buffer, endStream: endStream, promise: promise)
            case .sendTrailers(let id, let headers):
                try session.sendTrailers(id, headers)
                promise?.succeed()
            case .resetStream(let id, let code):
                try session.resetStream(id, code)
                promise?.succeed()
            case .consume(let id, let bytes):
                session.consume(id, bytes: bytes)
                promise?.succeed()
            case .goAway(let code):
                session.goAway(code)
                promise?.succeed()
            case .shutdown(let gracePeriod):
                shutdown(gracePeriod: gracePeriod, context: context)
                promise?.succeed()
            }
        } catch {
            promise?.fail(error)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        // Within a read burst the output waits for channelReadComplete, to go out in one write.
        if !inReadBurst { flushOutput(context: context) }
    }

    private func shutdown(gracePeriod: TimeAmount, context: ChannelHandlerContext) {
        guard shutdownTimer == nil, !isClosed else { return }
        session.beginShutdown()
        shutdownTimer = context.eventLoop.assumeIsolated().scheduleTask(in: gracePeriod) { [self] in
            guard !isClosed else { return }
            session.terminate(.noError)
            flushOutput(context: context)
        }
        if !inReadBurst { flushOutput(context: context) }
    }

    // MARK: - Output

    /// Serializes pending frames and writes them, while the channel is writable; then fires
    /// the events sending caused (streams that closed) and closes the channel if the session
    /// is over.
    private func flushOutput(context: ChannelHandlerContext) {
        guard started, !isClosed else { return }
        guard !producing else {
            produceAgain = true
            return
        }
        producing = true
        defer { producing = false }
        repeat {
            produceAgain = false
            var wrote = false
            while context.channel.isWritable && session.wantsWrite {
                var buffer = context.channel.allocator.buffer(capacity: 4096)
                let more = session.produce(into: &buffer, limit: configuration.outputChunkSize)
                if buffer.readableBytes > 0 {
                    write(buffer, context: context)
                    wrote = true
                }
                if !more { break }
            }
            if wrote { context.flush() }
            // Body chunks that were empty were framed with no bytes of their own.
            for promise in session.flushedPromises { promise.succeed() }
            session.flushedPromises.removeAll(keepingCapacity: true)
            deliverEvents(context: context)
        } while produceAgain && !isClosed
        if eventsOutsideRead {
            eventsOutsideRead = false
            context.fireChannelReadComplete()
        }
        closeIfFinished(context: context)
    }

    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        if session.flushedPromises.isEmpty {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        // The chunks that went into these frames are sent when the frames are written.
        if session.flushedPromises.count == 1 {
            let only = session.flushedPromises[0]
            session.flushedPromises.removeAll(keepingCapacity: true)
            context.write(wrapOutboundOut(buffer), promise: only)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        for promise in session.flushedPromises { written.futureResult.cascade(to: promise) }
        session.flushedPromises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(buffer), promise: written)
    }

    private func closeIfFinished(context: ChannelHandlerContext) {
        guard !closeScheduled, !isClosed, session.isFinished || (inputStopped && !session.wantsWrite) else { return }
        closeScheduled = true
        if let error = violation ?? fatalGoAwayError() { context.fireErrorCaught(error) }
        // Writes complete in order: when this empty one has, everything before it was written.
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// nghttp2 ended the session with an error GOAWAY of its own (a malformed frame, a
    /// flood, ...).
    private func fatalGoAwayError() -> HTTP2Error? {
        guard let code = session.sentGoAwayCode, code != .noError else { return nil }
        return .protocolViolation(code, session.terminationReason ?? session.lastLibraryError ?? "connection error")
    }

    // MARK: - Events

    private func deliverEvents(context: ChannelHandlerContext) {
        completeFailedPromises()
        guard !delivering else { return }
        delivering = true
        defer { delivering = false }
        while let event = session.events.popFirst() {
            if !inReadBurst && !completingRead { eventsOutsideRead = true }
            if let receiver {
                receiver.receive(event)
            } else {
                context.fireChannelRead(wrapInboundOut(event))
            }
            completeFailedPromises()
        }
    }

    private func completeFailedPromises() {
        while !session.failedPromises.isEmpty {
            let failed = session.failedPromises
            session.failedPromises.removeAll()
            for (promise, error) in failed { promise.fail(error) }
        }
    }
}

@available(*, unavailable)
extension HTTP2ConnectionHandler: Sendable {}
