import NIOCore

/// Peeks at the front of an outbound connection to say what it speaks (HTTP/1, HTTP/2 prior
/// knowledge or opaque), then gets out of the way. Nothing is consumed and nothing is refused:
/// every byte the peer sent is passed on unchanged and in order (docs/detection.md).
///
/// - It holds inbound bytes (at most `peekLimit`) until `ProtocolSniffer` decides, then fires
///   `ProtocolDetected` (a user inbound event), passes on every byte held, in order, and removes
///   itself: everything later goes past it untouched. A handler reacting to the event installs
///   HTTP/1, HTTP/2 or an opaque splice behind it; if it closes the channel instead, the held
///   bytes go nowhere.
/// - It never fails a connection. No decision within `timeout` of the channel becoming active
///   (or of the handler being added to an active channel): opaque, reason `.timeout`. The
///   peer's input ending first (`ChannelEvent.inputClosed` or the channel going inactive):
///   opaque, reason `.endOfInput`, and the bytes go on before that event. `peekLimit` bytes
///   with no decision: opaque, reason `.peekLimit`.
/// - While undecided it asks for reads itself (so it also works with autoRead off); once it
///   has decided, reads are the application's business.
/// - Removed by someone else before deciding, it passes on what it held, without an event.
///
/// Ports in `OpaquePorts` do not get this handler at all: see `needsDetection(port:opaquePorts:)`.
public final class ProtocolDetectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// Ten seconds, Linkerd's detection timeout.
    public static let defaultTimeout: TimeAmount = .seconds(10)

    /// Whether a connection to `port` goes through detection; false for opaque ports, whose
    /// bytes are spliced from the first one (a server-speaks-first protocol would otherwise
    /// wait out the whole timeout).
    public static func needsDetection(port: UInt16, opaquePorts: OpaquePorts = .linkerdDefault) -> Bool {
        !opaquePorts.contains(port)
    }

    /// How many bytes may be held while undecided.
    public let peekLimit: Int
    /// How long a connection may take to say what it speaks.
    public let timeout: TimeAmount

    private enum State {
        case waiting
        case decided
    }

    private var state = State.waiting
    /// Bytes received while undecided (fewer than `peekLimit`).
    private var held: ByteBuffer?
    private var scan = ProtocolSniffer.Scan()
    private var timer: Scheduled<Void>?

    /// How many bytes are held while undecided (for tests of the bound).
    var bufferedByteCount: Int { held?.readableBytes ?? 0 }

    public init(
        peekLimit: Int = ProtocolSniffer.defaultPeekLimit,
        timeout: TimeAmount = ProtocolDetectionHandler.defaultTimeout
    ) {
        precondition(peekLimit >= ProtocolSniffer.minimumPeekLimit, "peek limit below \(ProtocolSniffer.minimumPeekLimit)")
        self.peekLimit = peekLimit
        self.timeout = timeout
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        if state == .waiting, let bytes = held.take(), bytes.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        held = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        // The pipeline is being torn down: no need to leave it.
        if state == .waiting { decide(context: context, .opaque, reason: .endOfInput, then: nil, remove: false) }
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard state == .waiting, timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.timer = nil
            if self.state == .waiting { self.decide(context: context, .opaque, reason: .timeout, then: nil) }
        }
        context.read()
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .waiting else {
            context.fireChannelRead(data)  // only until the removal has happened
            return
        }

        var input = unwrapInboundIn(data)
        var candidate: ByteBuffer
        if var bytes = held.take() {
            // Take no more than the limit allows; the rest stays in `input`.
            var head = input.readSlice(length: min(peekLimit - bytes.readableBytes, input.readableBytes))!
            bytes.writeBuffer(&head)
            candidate = bytes
        } else {
            candidate = input
            input.moveReaderIndex(to: input.writerIndex)
        }

        let limit = peekLimit
        if let detected = candidate.withUnsafeReadableBytes({ scan.advance(over: $0, limit: limit) }) {
            decide(context: context, detected, reason: .classified, first: candidate, then: input)
        } else if scan.scanned >= peekLimit {
            decide(context: context, .opaque, reason: .peekLimit, first: candidate, then: input)
        } else {
            // Undecided means fewer than `peekLimit` bytes are here, so all of `input` was taken.
            assert(input.readableBytes == 0 && candidate.readableBytes < peekLimit)
            held = candidate
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if state == .waiting { context.read() }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard state == .waiting, let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The bytes, then the end of input, then leave (a removed context passes nothing on).
        decide(context: context, .opaque, reason: .endOfInput, then: nil, remove: false)
        guard context.channel.isActive else { return }  // closed on the event: nothing more to say
        context.fireUserInboundEventTriggered(event)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Decides with the held bytes (used when no more are coming: timeout, end of input).
    private func decide(
        context: ChannelHandlerContext, _ detected: DetectedProtocol, reason: ProtocolDetected.Reason,
        then: ByteBuffer?, remove: Bool = true
    ) {
        let bytes = held.take() ?? context.channel.allocator.buffer(capacity: 0)
        decide(context: context, detected, reason: reason, first: bytes, then: then, remove: remove)
    }

    private func decide(
        context: ChannelHandlerContext, _ detected: DetectedProtocol, reason: ProtocolDetected.Reason,
        first: ByteBuffer, then second: ByteBuffer?, remove: Bool = true
    ) {
        state = .decided
        cancelTimer()
        held = nil
        let seen = first.readableBytes + (second?.readableBytes ?? 0)
        let wasActive = context.channel.isActive
        context.fireUserInboundEventTriggered(ProtocolDetected(protocol: detected, bytesSeen: seen, reason: reason))
        // A handler that closed the channel on the event wants none of its bytes.
        if !wasActive || context.channel.isActive {
            if first.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(first)) }
            if let second, second.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(second)) }
        }
        if remove { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
