import Logging
import NIOCore
import NIOHTTP1
import SwitchyardHTTP2

/// An HTTP/1 request from an app, carried to a meshed pod as a stream on a shared HTTP/2 mesh
/// connection (docs/transport.md, "HTTP/1 between proxies"): the outbound side of Linkerd's
/// `l5d-orig-proto`. To the HTTP/1 proxy it is an upstream like a pooled connection; to the
/// HTTP/2 connection it is one stream.
///
/// - The request head becomes a header block with `l5d-orig-proto: HTTP/1.1` (the inbound turns
///   the stream back into HTTP/1.1 for the app) and `switchyard-target` (the pod).
/// - What the client sent in one read burst goes out at `flush()` in one flush: a request
///   without a body is one HEADERS frame with END_STREAM; the last body chunk carries
///   END_STREAM itself (an app that answers once its content-length is in then finds the
///   stream ended, not still open). `isWritable` turns false while more than `writeHighWater`
///   bytes of the body wait for the flush, the connection's flow control or the socket.
/// - The response comes back as HTTP/1 parts; its DATA is given back to the peer's window at
///   once, or, while the client is not writable (`holdReads`), when it is again.
final class HTTP1OverHTTP2Stream: HTTPUpstream, HTTP2UpstreamStreamDelegate, HTTP2BatchFlushable {
    /// The field naming the HTTP version the app spoke (Linkerd's name).
    static let origProtoField = "l5d-orig-proto"
    /// Request bytes waiting to be sent beyond which the client is not read.
    static let writeHighWater = 64 * 1024

    weak var delegate: (any UpstreamHTTPDelegate)?
    var exchanges = 0
    var flushScheduled = false
    private let connection: HTTP2Upstream
    private let target: UpstreamTarget
    private let batch: HTTP2FlushBatch
    private var heldHead: HTTPRequestHead?
    /// The last request body chunk, and the promise of its write, until the flush.
    private var heldBody: (buffer: ByteBuffer, promise: EventLoopPromise<Void>?)?
    /// The request's end (trailers, promise), until the flush.
    private var heldEnd: (trailers: HTTPHeaders?, promise: EventLoopPromise<Void>?)?
    private var streamID: HTTP2StreamID?
    /// The stream is over (ended both ways, reset, or abandoned).
    private var closed = false
    private var requestEnded = false
    private var responseEnded = false
    private var waitingBytes = 0
    private var unconsumed = 0
    private var responseUnflushed = false

    var holdReads = false {
        didSet {
            guard !holdReads, unconsumed > 0, let streamID, !closed else { return }
            connection.send(.consume(streamID, bytes: unconsumed))
            unconsumed = 0
        }
    }

    var isWritable: Bool { !closed && waitingBytes < Self.writeHighWater }

    init(connection: HTTP2Upstream, target: UpstreamTarget, batch: HTTP2FlushBatch) {
        self.connection = connection
        self.target = target
        self.batch = batch
    }

    // MARK: - The request

    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        guard !closed else {
            promise?.fail(HTTP2Error.connectionClosed)
            return
        }
        switch part {
        case .head(let head):
            heldHead = head
            promise?.succeed(())
        case .body(.byteBuffer(let buffer)):
            let wasWritable = isWritable
            waitingBytes += buffer.readableBytes
            if let older = heldBody.take() {
                // More than one chunk in a burst: the older one goes now (with the head).
                guard open(endStream: false), let streamID else { return fail(promise) }
                sendData(streamID, older.buffer, endStream: false, promise: older.promise)
            }
            heldBody = (buffer, promise)
            if wasWritable && !isWritable { delegate?.upstreamWritabilityChanged(self, writable: false) }
        case .body:
            promise?.fail(HTTP2Error.connectionClosed)  // file regions never come from a client
        case .end(let trailers):
            requestEnded = true
            heldEnd = (trailers, promise)
        }
    }

    /// Sends what was written since the last flush, in one flush of the connection: the usual
    /// request (head, maybe one body chunk, end) becomes HEADERS with END_STREAM, or HEADERS and
    /// one DATA with END_STREAM.
    func flush() {
        guard !closed, heldHead != nil || heldBody != nil || heldEnd != nil else { return }
        batch.during { sendHeld() }
    }

    private func sendHeld() {
        let end = heldEnd.take()
        let endsWithData = end != nil && (end?.trailers?.isEmpty ?? true)
        if heldHead != nil {
            let bodyless = heldBody == nil && endsWithData
            guard open(endStream: bodyless) else {
                heldBody.take()?.promise?.fail(HTTP2Error.connectionClosed)
        heldEnd.take()?.promise?.fail(HTTP2Error.connectionClosed)
                end?.promise?.fail(HTTP2Error.connectionClosed)
                return
            }
            if bodyless {
                end?.promise?.succeed(())
                return
            }
        }
        guard let streamID else { return }
        let body = heldBody.take()
        if let body { sendData(streamID, body.buffer, endStream: endsWithData, promise: body.promise) }
        guard let end else { return }
        if let trailers = end.trailers, !trailers.isEmpty {
            connection.send(.sendTrailers(streamID, HTTP2Mapping.trailerBlock(trailers)),
                            then: end.promise.map { promise in { promise.completeWith($0) } })
        } else if body == nil {
            sendData(streamID, ByteBuffer(), endStream: true, promise: end.promise)
        } else {
            end.promise?.succeed(())
        }
    }

    /// Opens the stream with the held head (no-op once open); false when it could not be.
    private func open(endStream: Bool) -> Bool {
        guard let head = heldHead else { return streamID != nil }
        heldHead = nil
        var block = HTTP2Mapping.requestBlock(head)
        block.remove(name: Self.origProtoField)
        block.remove(name: InboundHTTP2Policy.targetField)
        block.add(name: Self.origProtoField, value: head.version == .http1_0 ? "HTTP/1.0" : "HTTP/1.1")
        block.add(name: InboundHTTP2Policy.targetField, value: target.balancerKey)
        guard let id = connection.openStream(block, endStream: endStream, delegate: self) else {
            closed = true
            let delegate = self.delegate
            // Reported outside the caller's write (the proxy handler is in the middle of one).
            connection.channel.eventLoop.assumeIsolated().execute {
                delegate?.upstream(self, closedWith: HTTP2Error.connectionClosed)
            }
            return false
        }
        streamID = id
        return true
    }

    /// Sends a chunk already counted in `waitingBytes` (by `write`).
    private func sendData(_ id: HTTP2StreamID, _ buffer: ByteBuffer, endStream: Bool, promise: EventLoopPromise<Void>?) {
        let bytes = buffer.readableBytes
        connection.send(.sendData(id, buffer, endStream: endStream)) { [weak self] result in
            promise?.completeWith(result)
            guard let self else { return }
            let before = self.isWritable
            self.waitingBytes -= bytes
            if !before && self.isWritable { self.delegate?.upstreamWritabilityChanged(self, writable: true) }
        }
    }

    private func fail(_ promise: EventLoopPromise<Void>?) {
        promise?.fail(HTTP2Error.connectionClosed)
    }

    func close() {
        delegate = nil
        heldHead = nil
        heldBody.take()?.promise?.fail(HTTP2Error.connectionClosed)
        heldEnd.take()?.promise?.fail(HTTP2Error.connectionClosed)
        guard !closed else { return }
        closed = true
        guard let streamID else { return }
        connection.forget(streamID)
        // Both ways ended: the stream closes by itself. Otherwise what is left is abandoned.
        if !(requestEnded && responseEnded) { connection.send(.resetStream(streamID, .cancel)) }
    }

    // MARK: - The response

    func upstreamHeaders(_ block: HTTP2HeaderBlock, endStream: Bool) {
        guard let delegate, !closed else { return }
        delegate.upstream(self, received: .head(HTTP2Mapping.responseHead(block)))
        if endStream {
            responseEnded = true
            delegate.upstream(self, received: .end(nil))
        }
        scheduleFlush()
    }

    func upstreamData(_ buffer: ByteBuffer, endStream: Bool) {
        guard let delegate, !closed, let streamID else { return }
        let bytes = buffer.readableBytes
        if bytes > 0 {
            delegate.upstream(self, received: .body(buffer))
            if holdReads || closed {
                unconsumed += bytes
            } else {
                connection.send(.consume(streamID, bytes: bytes))
            }
        }
        if endStream {
            responseEnded = true
            delegate.upstream(self, received: .end(nil))
        }
        scheduleFlush()
    }

    func upstreamTrailers(_ block: HTTP2HeaderBlock) {
        guard let delegate, !closed else { return }
        responseEnded = true
        delegate.upstream(self, received: .end(HTTP2Mapping.trailerHeaders(block)))
        scheduleFlush()
    }

    func upstreamClosed(_ code: HTTP2ErrorCode) {
        guard !closed else { return }
        closed = true
        streamID = nil
        guard code != .noError, let delegate = delegate.take() else { return }
        delegate.upstream(self, closedWith: StreamReset(code: code))
    }

    /// Why the stream ended before its response did.
    struct StreamReset: Error, CustomStringConvertible {
        var code: HTTP2ErrorCode
        var description: String { "the peer reset the HTTP/2 stream (\(code))" }
    }

    private func scheduleFlush() {
        responseUnflushed = true
        batch.flush(self)
    }

    func flushNow() {
        guard responseUnflushed else { return }
        responseUnflushed = false
        delegate?.upstreamFlush(self)
    }
}
