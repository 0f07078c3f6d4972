import NIOCore
import SwitchyardAdmin

/// Splices two channels of one event loop into a byte pipe each way: opaque TCP, and WebSocket
/// after an HTTP 101 Upgrade. One `SpliceHandler` sits at the end of each pipeline and the two
/// know each other; `join(_:_:aRead:aWritten:)` sets that up.
///
/// - What one side reads is written to the other and flushed when the read cycle ends.
/// - Backpressure: a side's `read()` is passed on only while its partner's channel is writable
///   and still open for writing; otherwise it is held, and issued when the partner becomes
///   writable again. With autoRead on (which the splice relies on) a slow reader on one side
///   so stops the other side being read, and memory stays flat.
/// - Half-close (both channels need `ChannelOptions.allowRemoteHalfClosure`):
///   `ChannelEvent.inputClosed` on one side shuts down the other's output, once everything
///   already written to it has gone out. When both directions have ended, both channels are
///   closed.
/// - One side going inactive or failing closes the other, again after what was already
///   written to it has gone out. A peer that never reads keeps that side open: an idle timeout
///   in front of the splice bounds it.
public final class SpliceHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// What may still be written to this handler's channel.
    private enum WriteSide: Equatable {
        case open
        /// What was written is going out; then the channel is closed with this mode.
        case draining(then: CloseMode)
        case outputClosed
        case closed
    }

    private var partner: SpliceHandler?
    private var context: ChannelHandlerContext?
    private var writeSide = WriteSide.open
    /// This channel's peer has stopped sending (`inputClosed`).
    private var inputEnded = false
    /// A `read()` held back until the partner can take more writes.
    private var readHeld = false
    private let readBytes: Counter?
    private let writtenBytes: Counter?

    /// Whether a `read()` is held back because the partner cannot take more (for tests).
    var isHoldingRead: Bool { readHeld }

    private init(readBytes: Counter?, writtenBytes: Counter?) {
        self.readBytes = readBytes
        self.writtenBytes = writtenBytes
    }

    /// Adds a SpliceHandler to the end of each pipeline and joins them, on `a`'s event loop.
    /// `aRead` and `aWritten` (optional) count the bytes read from `a`, the client side, and the
    /// bytes passed to it to write, for `tcp_read_bytes_total` and `tcp_write_bytes_total`.
    ///
    /// Both channels must be on the same event loop, with autoRead on. If either is no longer
    /// active, both are closed and nothing is added.
    public static func join(
        _ a: Channel, _ b: Channel, aRead: Counter? = nil, aWritten: Counter? = nil
    ) -> EventLoopFuture<Void> {
        if a.eventLoop.inEventLoop {
            return a.eventLoop.makeCompletedFuture { try joinSync(a, b, aRead: aRead, aWritten: aWritten) }
        }
        return a.eventLoop.submit { try joinSync(a, b, aRead: aRead, aWritten: aWritten) }
    }

    /// `join(_:_:aRead:aWritten:)` for a caller already on the channels' event loop.
    public static func joinSync(_ a: Channel, _ b: Channel, aRead: Counter? = nil, aWritten: Counter? = nil) throws {
        precondition(a.eventLoop === b.eventLoop, "SpliceHandler joins channels of one event loop")
        a.eventLoop.preconditionInEventLoop()
        guard a.isActive, b.isActive else {
            a.close(promise: nil)
            b.close(promise: nil)
            return
        }
        let aSide = SpliceHandler(readBytes: aRead, writtenBytes: aWritten)
        let bSide = SpliceHandler(readBytes: nil, writtenBytes: nil)
        aSide.partner = bSide
        bSide.partner = aSide
        do {
            try a.pipeline.syncOperations.addHandler(aSide)
            try b.pipeline.syncOperations.addHandler(bSide)
        } catch {
            a.close(promise: nil)
            b.close(promise: nil)
            throw error
        }
        aSide.readIfPartnerCanTakeIt()
        bSide.readIfPartnerCanTakeIt()
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        if readHeld {
            readHeld = false
            context.read()
        }
        self.context = nil
        partner?.partner = nil
        partner = nil
    }

    // MARK: - Inbound: this side's bytes and events, passed to the partner

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        readBytes?.increment(by: UInt64(bytes.readableBytes))
        partner?.write(bytes)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
        context.fireChannelReadComplete()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent, !inputEnded {
            inputEnded = true
            partner?.finishWriting(then: .output)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        writeSide = .closed
        readHeld = false
        partner?.finishWriting(then: .all)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Handled here, at the end of the pipeline: the splice ends on both sides.
        writeSide = .closed
        context.close(promise: nil)
        partner?.finishWriting(then: .all)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let partner, partner.readHeld {
            partner.readIfPartnerCanTakeIt()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Outbound: reads are gated on the partner

    public func read(context: ChannelHandlerContext) {
        readIfPartnerCanTakeIt()
    }

    private func readIfPartnerCanTakeIt() {
        guard let context else { return }
        if let partner, partner.canTakeWrites {
            readHeld = false
            context.read()
        } else {
            readHeld = true
        }
    }

    // MARK: - Called by the partner

    private var canTakeWrites: Bool {
        writeSide == .open && (context?.channel.isWritable ?? false)
    }

    private func write(_ bytes: ByteBuffer) {
        guard writeSide == .open, let context else { return }
        writtenBytes?.increment(by: UInt64(bytes.readableBytes))
        context.write(wrapOutboundOut(bytes), promise: nil)
    }

    private func flush() {
        guard writeSide == .open else { return }
        context?.flush()
    }

    /// Ends writing to this channel: once what was written has gone out, closes it with `mode`
    /// (`.output` is a half-close; `.all` replaces a half-close still under way).
    private func finishWriting(then mode: CloseMode) {
        switch (writeSide, mode) {
        case (.open, _):
            writeSide = .draining(then: mode)
            drain()
        case (.draining(then: .output), .all):
            writeSide = .draining(then: .all)
        case (.outputClosed, .all):
            writeSide = .closed
            context?.close(promise: nil)
        default:
            break
        }
    }

    /// Writes an empty buffer behind everything queued: its promise completes when the channel
    /// has written all that came before it (or failed to).
    private func drain() {
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in self.drained() }
    }

    private func drained() {
        guard case .draining(let mode) = writeSide else { return }
        if mode == .output && !inputEnded {
            writeSide = .outputClosed
            context?.close(mode: .output, promise: nil)
        } else {
            // Both directions have ended (or the other side is gone): close both.
            writeSide = .closed
            context?.close(promise: nil)
            partner?.finishWriting(then: .all)
        }
    }
}
