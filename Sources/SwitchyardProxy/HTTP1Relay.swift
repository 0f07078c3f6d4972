import NIOCore
import NIOHTTP1
import SwitchyardHTTP2

/// The inbound side of `l5d-orig-proto` (docs/transport.md, "HTTP/1 between proxies"): a stream
/// that carries an app's HTTP/1 request over the mesh's HTTP/2 goes to the local pod as
/// HTTP/1.1, on a pooled connection, and the pod's response comes back as the stream's.
///
/// - The request is framed for HTTP/1: its `content-length` when it has one, else chunked when
///   a body follows the head.
/// - The response head and its first body chunk wait for the end or the end of the app's read
///   burst: a response read at once goes back as HEADERS and one DATA with END_STREAM (or one
///   HEADERS with END_STREAM when it has no body), in one flush; trailers become HTTP/2
///   trailers.
/// - Flow control: the request's DATA is given back to the client's window once written to the
///   pod (by the exchange); the pod is not read while more than `readHighWater` bytes of the
///   response wait to be written to the client.
/// - The connection goes back to the pool when both sides ended and the pod allows keep-alive;
///   otherwise it is closed. Confined to the event loop.
final class HTTP1Relay: UpstreamHTTPDelegate {
    static let readHighWater = 64 * 1024

    private weak var exchange: HTTP2Exchange?
    private let upstream: UpstreamHTTPHandler
    private let target: UpstreamTarget
    private let pool: UpstreamPool<UpstreamTarget>
    /// The connection came from the pool (it may have been closed by the pod meanwhile).
    private let reused: Bool
    private var requestEnded = false
    private var requestHadBody = false
    private var heldHead: HTTPResponseHead?
    /// The last body chunk, held until the next part: with the response's end it goes out as
    /// one DATA frame with END_STREAM.
    private var heldBody: ByteBuffer?
    private let batch: HTTP2FlushBatch
    private var responseStarted = false
    private var responseEnded = false
    private var keepAlive = true
    private var unwritten = 0
    private var done = false

    init(exchange: HTTP2Exchange, upstream: UpstreamHTTPHandler, target: UpstreamTarget,
         pool: UpstreamPool<UpstreamTarget>, reused: Bool, batch: HTTP2FlushBatch) {
        self.batch = batch
        self.exchange = exchange
        self.upstream = upstream
        self.target = target
        self.pool = pool
        self.reused = reused
    }

    // MARK: - The request

    func start(head: HTTPRequestHead, endStream: Bool) {
        upstream.delegate = self
        upstream.holdReads = false
        upstream.exchanges += 1
        var head = head
        if head.version != .http1_1 { head.version = .http1_1 }
        if !endStream, !head.headers.contains(name: "content-length") {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        upstream.write(.head(head))
        if endStream {
            requestEnded = true
            upstream.write(.end(nil))
        }
        upstream.flush()
    }

    func sendData(_ buffer: ByteBuffer, endStream: Bool, then: ((Result<Void, any Error>) -> Void)?) {
        guard !done, !requestEnded else {
            then?(.success(()))
            return
        }
        if buffer.readableBytes > 0 {
            requestHadBody = true
            var promise: EventLoopPromise<Void>?
            if let then {
                promise = upstream.channel?.eventLoop.makePromise(of: Void.self)
                promise?.futureResult.assumeIsolated().whenComplete(then)
                if promise == nil { then(.failure(ChannelError.ioOnClosedChannel)) }
            }
            upstream.write(.body(.byteBuffer(buffer)), promise: promise)
        } else {
            then?(.success(()))
        }
        if endStream {
            requestEnded = true
            upstream.write(.end(nil))
        }
        upstream.flush()
    }

    func sendTrailers(_ block: HTTP2HeaderBlock) {
        guard !done, !requestEnded else { return }
        requestEnded = true
        upstream.write(.end(HTTP2Mapping.trailerHeaders(block)))
        upstream.flush()
    }

    /// `bytes` of the response have been written to the client.
    func consumed(_ bytes: Int) {
        guard !done else { return }
        unwritten -= bytes
        if upstream.holdReads, unwritten < Self.readHighWater { upstream.holdReads = false }
    }

    /// Abandons the exchange: the connection is closed.
    func cancel() {
        guard !done else { return }
        done = true
        upstream.close()
    }

    /// The exchange is over: the connection goes back to the pool when it can carry another.
    func release() {
        guard !done else { return }
        done = true
        upstream.delegate = nil
        upstream.holdReads = false
        if requestEnded && responseEnded && keepAlive, let channel = upstream.channel {
            pool.put(channel, for: target)
        } else {
            upstream.close()
        }
    }

    // MARK: - The response

    func upstream(_ upstream: any HTTPUpstream, received part: HTTPClientResponsePart) {
        guard !done, let exchange else { return }
        // What one part causes toward the client goes out in one flush.
        batch.during {
            switch part {
            case .head(let head):
                if head.status.code < 200 && head.status != .switchingProtocols {
                    exchange.upstreamHeaders(HTTP2Mapping.responseBlock(head), endStream: false)
                    return
                }
                guard head.status != .switchingProtocols else {
                    cancel()
                    return exchange.upstreamBroke("\(target) switched protocols on a request without Upgrade")
                }
                responseStarted = true
                keepAlive = head.isKeepAlive
                heldHead = head
            case .body(let buffer):
                // Head and body wait together for the end (one HEADERS + one DATA with
                // END_STREAM, in one flush) or the read burst's end; a second chunk sends them.
                if heldBody != nil { sendHeld(exchange) }
                unwritten += buffer.readableBytes
                if unwritten >= Self.readHighWater { self.upstream.holdReads = true }
                heldBody = buffer
            case .end(let trailers):
                responseEnded = true
                if let trailers, !trailers.isEmpty {
                    sendHeld(exchange)
                    exchange.upstreamTrailers(HTTP2Mapping.trailerBlock(trailers))
                } else {
                    sendHeld(exchange, endStream: true)
                }
                release()
                exchange.upstreamClosed(.noError)
            }
        }
    }

    /// Sends the held head and body chunk, the last of them ending the stream when `endStream`.
    private func sendHeld(_ exchange: HTTP2Exchange, endStream: Bool = false) {
        if let head = heldHead.take() {
            exchange.upstreamHeaders(HTTP2Mapping.responseBlock(head), endStream: endStream && heldBody == nil)
            if endStream && heldBody == nil { return }
        }
        if let body = heldBody.take() {
            exchange.upstreamData(body, endStream: endStream)
        } else if endStream {
            exchange.upstreamData(ByteBuffer(), endStream: true)
        }
    }

    func upstreamFlush(_ upstream: any HTTPUpstream) {
        // The read burst is over: what is held goes now.
        guard !done, let exchange else { return }
        batch.during { sendHeld(exchange) }
    }

    func upstream(_ upstream: any HTTPUpstream, closedWith error: (any Error)?) {
        guard !done, let exchange else { return }
        done = true
        self.upstream.delegate = nil
        self.upstream.close()
        if reused && !responseStarted && requestEnded && !requestHadBody {
            exchange.retryHTTP1()
        } else {
            exchange.upstreamBroke("\(target): \(error.map { "\($0)" } ?? "connection closed before the response ended")")
        }
    }

    func upstreamWritabilityChanged(_ upstream: any HTTPUpstream, writable: Bool) {
        // The exchange gives the client's window back as each write completes.
    }
}
