import NIOCore

/// Reads the transport preface off the front of an inbound mesh connection (after the mTLS
/// handler, so on plaintext), then gets out of the way.
///
/// - When a valid preface has arrived it fires `TransportPrefaceReceived` (a user inbound
///   event), then passes on, in order and unchanged, whatever bytes had already arrived after
///   the preface, and removes itself: everything later goes past it untouched.
/// - When the bytes can never be a preface (wrong magic, unknown version, too large, a bad
///   field; see `TransportPrefaceError`) it fires the error (`errorCaught`), closes the channel
///   and passes nothing on. It writes nothing back. The same happens when no complete preface
///   has arrived `timeout` after the channel became active (or the decoder was added to an
///   active channel), and when the peer's input ends first.
/// - While waiting it holds at most `TransportPreface.maximumSize` bytes, and asks for reads
///   itself (so it also works when autoRead is off). Removed by someone else before a
///   preface arrived, it drops what it held: an incomplete preface is never passed on as data.
///
/// Counting refusals is up to the handler that catches the error (`TransportPrefaceError.label`).
public final class TransportPrefaceDecoder: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// Ten seconds, like the TLS handshake timeout.
    public static let defaultTimeout: TimeAmount = .seconds(10)

    /// How long a connection may take to deliver its complete preface.
    public let timeout: TimeAmount

    private enum State {
        case waiting
        case received
        case refused
    }

    private var state = State.waiting
    /// Bytes of an incomplete preface (fewer than `TransportPreface.maximumSize`).
    private var pending: ByteBuffer?
    private var timer: Scheduled<Void>?

    /// How many bytes of an incomplete preface are held (for tests of the bound).
    var bufferedByteCount: Int { pending?.readableBytes ?? 0 }

    public init(timeout: TimeAmount = TransportPrefaceDecoder.defaultTimeout) {
        self.timeout = timeout
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        pending = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if state == .waiting { refuse(context: context, .closedEarly(receivedBytes: bufferedByteCount), close: false) }
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard state == .waiting, timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.timer = nil
            self.refuse(context: context, .timeout)
        }
        context.read()
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .waiting:
            break
        case .received:
            context.fireChannelRead(data)  // only until the removal has happened
            return
        case .refused:
            return
        }

        var input = unwrapInboundIn(data)
        var candidate: ByteBuffer
        if var held = pending.take() {
            // Take no more than a maximal preface could still need; the rest stays in `input`.
            let room = TransportPreface.maximumSize - held.readableBytes
            var head = input.readSlice(length: min(room, input.readableBytes))!
            held.writeBuffer(&head)
            candidate = held
        } else {
            candidate = input
            input.moveReaderIndex(to: input.writerIndex)
        }

        switch TransportPrefaceParser.parse(candidate) {
        case .needMoreData:
            // The parser wants more only while fewer than `maximumSize` bytes are here, so all
            // of `input` was taken.
            assert(input.readableBytes == 0 && candidate.readableBytes < TransportPreface.maximumSize)
            pending = candidate
        case .preface(let preface, let consumed):
            candidate.moveReaderIndex(forwardBy: consumed)
            received(context: context, preface, then: candidate, input)
        case .invalid(let error):
            refuse(context: context, error)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if state == .waiting { context.read() }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if state == .waiting, let event = event as? ChannelEvent, event == .inputClosed {
            refuse(context: context, .closedEarly(receivedBytes: bufferedByteCount))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func received(context: ChannelHandlerContext, _ preface: TransportPreface, then first: ByteBuffer, _ second: ByteBuffer) {
        state = .received
        cancelTimer()
        pending = nil
        context.fireUserInboundEventTriggered(TransportPrefaceReceived(preface: preface))
        // A handler that refused the target closed the channel: the bytes go nowhere.
        if context.channel.isActive {
            if first.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(first)) }
            if second.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(second)) }
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func refuse(context: ChannelHandlerContext, _ error: TransportPrefaceError, close: Bool = true) {
        guard state == .waiting else { return }
        state = .refused
        cancelTimer()
        pending = nil
        context.fireErrorCaught(error)
        if close { context.close(promise: nil) }
    }
}
