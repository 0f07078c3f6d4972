import NIOCore
import NIOHTTP1

/// What the client side of a proxied exchange hears from its upstream connection.
/// Called on the event loop both channels share.
protocol UpstreamHTTPDelegate: AnyObject {
    func upstream(_ upstream: any HTTPUpstream, received part: HTTPClientResponsePart)
    /// The end of a burst of parts: one flush toward the client for all of them.
    func upstreamFlush(_ upstream: any HTTPUpstream)
    func upstream(_ upstream: any HTTPUpstream, closedWith error: (any Error)?)
    func upstreamWritabilityChanged(_ upstream: any HTTPUpstream, writable: Bool)
}

/// Where the HTTP/1 proxy sends one request and hears its response from: a (pooled) HTTP/1
/// connection, `UpstreamHTTPHandler`, or a stream on a shared HTTP/2 mesh connection,
/// `HTTP1OverHTTP2Stream` (docs/transport.md). Confined to the exchange's event loop.
protocol HTTPUpstream: AnyObject {
    var delegate: (any UpstreamHTTPDelegate)? { get set }
    /// Whether the response is held back (the client is not writable).
    var holdReads: Bool { get set }
    /// Whether more of the request may be written now.
    var isWritable: Bool { get }
    /// How many exchanges this upstream has carried (0 for a fresh one).
    var exchanges: Int { get set }
    /// Writes a request part (sent by `flush()`).
    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?)
    func flush()
    /// Detaches the delegate and abandons whatever is in flight.
    func close()
}

extension HTTPUpstream {
    func write(_ part: HTTPClientRequestPart) { write(part, promise: nil) }
}

/// The last handler of an upstream HTTP/1 connection (after NIOHTTP1's client codec): hands
/// responses to the exchange that currently owns the connection, and holds reads back while
/// that exchange's client cannot take more (`holdReads`).
///
/// An idle pooled connection has no delegate; any response bytes arriving then are a
/// protocol violation and the connection is closed.
final class UpstreamHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler, HTTPUpstream {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    weak var delegate: (any UpstreamHTTPDelegate)?
    private(set) var context: ChannelHandlerContext?
    /// Whether reads wait until `holdReads` turns false (the client is not writable).
    var holdReads = false {
        didSet {
            if !holdReads, pendingRead, let context {
                pendingRead = false
                context.read()
            }
        }
    }
    private var pendingRead = false
    /// Whether `write` wrote since the last `flush`.
    private var unflushed = false
    /// How many exchanges this connection has carried (0 for a fresh one).
    var exchanges = 0

    var channel: Channel? { context?.channel }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let delegate else {
            context.close(promise: nil)
            return
        }
        delegate.upstream(self, received: part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamFlush(self)
    }

    func channelInactive(context: ChannelHandlerContext) {
        delegate.take()?.upstream(self, closedWith: nil)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The server closed its side: no further response can come on this connection.
            delegate.take()?.upstream(self, closedWith: nil)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        delegate.take()?.upstream(self, closedWith: error)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(self, writable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if holdReads {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Writes a request part toward the upstream (flushed by `flush()`).
    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        unflushed = true
        context.write(wrapOutboundOut(part), promise: promise)
    }

    /// Flushes what `write` wrote since the last flush; nothing when it wrote nothing (a flush
    /// walks the pipeline, the TLS handler included, even with nothing to send).
    func flush() {
        guard unflushed else { return }
        unflushed = false
        context?.flush()
    }

    /// Detaches the delegate and closes the connection.
    func close() {
        delegate = nil
        context?.close(promise: nil)
    }
}
