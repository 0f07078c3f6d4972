import NIOCore

/// Mutual TLS 1.3 for one channel, on OpenSSL over memory BIOs: ciphertext on the channel side,
/// plaintext on the pipeline side.
///
/// - Handshake: starts when the channel is active (or at once when added to an active channel);
///   a client sends its ClientHello, a server waits for one. When the peer has been verified it
///   fires `TLSHandshakeCompleted` once; `peerIdentity` and `negotiatedALPN` are set from then on.
///   A handshake still running after `TLSConfiguration.handshakeTimeout` fails with
///   `TLSError.handshakeTimeout`.
/// - Reads follow `read()`: plaintext is decrypted and passed on only while a read is wanted
///   (with autoRead on, the channel asks all the time); meanwhile ciphertext waits in OpenSSL,
///   at most `maximumBufferedCiphertext` bytes.
/// - Writes are held until a flush, then encrypted — small writes coalesced into shared
///   records — and passed to the channel in few large writes followed by one flush. A write's
///   promise completes when the channel has written the ciphertext carrying its last byte.
///   Encryption pauses while the channel is not writable and resumes when it is again.
/// - Close sends close_notify, then closes once it is written; `close(mode: .output)` sends it
///   and half-closes. A close_notify from the peer fires `ChannelEvent.inputClosed` when the
///   channel allows half-closure, else answers with ours and closes.
/// - Failures are fired as `TLSError` (`errorCaught`), after sending the alert OpenSSL produced;
///   then the channel is closed.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The verified peer, once the handshake has completed.
    public private(set) var peerIdentity: PeerIdentity?
    /// The ALPN protocol agreed, once the handshake has completed.
    public private(set) var negotiatedALPN: String?
    /// Server side: the SNI the client sent (known during the handshake).
    public var requestedServerName: String? { connection.record.requestedServerName }

    private let connection: TLSConnection
    private let configuration: TLSConfiguration
    private var state = TLSStateMachine()
    private var outbound = TLSOutboundBuffer()
    private var staging: ByteBuffer?
    private var completedPromises: [EventLoopPromise<Void>] = []
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// A close waiting for our close_notify to be written.
    private var pendingClose: (mode: CloseMode, promise: EventLoopPromise<Void>)?
    private var isEncrypting = false
    private var encryptAgain = false
    private var isDelivering = false

    /// One TLS record's worth of plaintext.
    private static let recordSize = 16 * 1024

    /// A server connection: presents the identity the client's SNI names, requires a client certificate.
    public init(context: TLSServerContext) throws(TLSError) {
        connection = try TLSConnection(context: context)
        configuration = context.configuration
    }

    /// A client connection to the workload proving `serverIdentity` (sent as SNI; the server
    /// leaf's DNS SAN must equal it).
    public init(context: TLSClientContext, serverIdentity: String) throws(TLSError) {
        connection = try TLSConnection(context: context, serverIdentity: serverIdentity)
        configuration = context.configuration
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        fail(outbound.removeAll(), with: ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        drainBeforeInputEnds(context: context)
        if let error = state.channelInactive() {
            context.fireErrorCaught(error)
        }
        fail(outbound.removeAll(), with: ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard state.activate() else { return }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.handshakeTimeout) {
            if let error = self.state.handshakeTimedOut() { self.fail(context: context, error: error) }
        }
        advanceHandshake(context: context)
        if state.isHandshaking { context.read() }
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch state.handshakeStepped(connection.handshake()) {
        case .continueHandshake:
            sendProduced(context: context)
        case .completed:
            handshakeCompleted(context: context)
        case .fail(let error):
            fail(context: context, error: error)
        case .ignore:
            break
        }
    }

    private func handshakeCompleted(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        peerIdentity = connection.peer
        negotiatedALPN = connection.negotiatedALPN
        sendProduced(context: context)
        context.fireUserInboundEventTriggered(TLSHandshakeCompleted(peer: peerIdentity, alpn: negotiatedALPN))
        if outbound.hasFlushedData { encryptAndWrite(context: context) }
        if state.shouldDeliverOnReceive { _ = deliver(context: context, inReadCycle: true) }
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = unwrapInboundIn(data)
        switch state.state {
        case .idle, .handshaking:
            guard receive(context: context, ciphertext) else { return }
            if state.isHandshaking { advanceHandshake(context: context) }
        case .open, .outputClosed:
            guard receive(context: context, ciphertext) else { return }
            if state.shouldDeliverOnReceive { _ = deliver(context: context, inReadCycle: true) }
        case .inputClosed, .closing, .closed:
            break  // after close_notify or a failure, nothing more is read
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        let (fireReadComplete, readAgain) = state.channelReadComplete()
        if fireReadComplete { context.fireChannelReadComplete() }
        if readAgain { context.read() }
    }

    public func read(context: ChannelHandlerContext) {
        switch state.readRequested() {
        case .forward:
            context.read()
        case .serveBufferedThenForward:
            if !isDelivering {
                let delivered = deliver(context: context, inReadCycle: false)
                state.plaintextServed(delivered)
                if delivered { context.fireChannelReadComplete() }
            }
            if state.canReceive { context.read() }
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            drainBeforeInputEnds(context: context)
            if let error = state.transportInputClosed() {
                fail(context: context, error: error)
            } else if state.state == .inputClosed || state.state == .closing {
                // Already told (at close_notify), or no longer interesting.
            } else {
                context.fireUserInboundEventTriggered(event)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The transport's input ended: whatever is still buffered (asked for or not) is all that
    /// will ever come, and the peer's close_notify may be in it. Pass it on now, so the data is
    /// not lost and a clean close is not taken for a truncation.
    private func drainBeforeInputEnds(context: ChannelHandlerContext) {
        guard state.canReceive, connection.bufferedInboundBytes > 0 || connection.hasUnreadInput else { return }
        if deliver(context: context, inReadCycle: false) { context.fireChannelReadComplete() }
    }

    /// Hands ciphertext to OpenSSL, unless that would buffer more than allowed.
    private func receive(context: ChannelHandlerContext, _ ciphertext: ByteBuffer) -> Bool {
        guard connection.bufferedInboundBytes + ciphertext.readableBytes <= configuration.maximumBufferedCiphertext else {
            if state.failed() { fail(context: context, error: .bufferLimitExceeded) }
            return false
        }
        connection.receive(ciphertext)
        return true
    }

    /// Decrypts every complete record and passes the plaintext on, in buffers of up to a
    /// record. Returns whether any plaintext went on.
    private func deliver(context: ChannelHandlerContext, inReadCycle: Bool) -> Bool {
        isDelivering = true
        defer { isDelivering = false }
        var delivered = false
        reading: while state.canReceive {
            // Plaintext is never longer than its ciphertext: size the buffer by what is buffered.
            // (OpenSSL may also hold a record it has read but not processed, e.g. a close_notify.)
            guard connection.bufferedInboundBytes > 0 || connection.hasUnreadInput else { break }
            let size = min(Self.recordSize, max(connection.bufferedInboundBytes + connection.bufferedPlaintextBytes, 256))
            var buffer = context.channel.allocator.buffer(capacity: size)
            switch connection.read(into: &buffer, maxBytes: size) {
            case .read(let count):
                if count > 0 {
                    delivered = true
                    if inReadCycle { state.plaintextDelivered() }
                    context.fireChannelRead(wrapInboundOut(buffer))
                }
            case .wantRead:
                break reading
            case .closeNotify:
                receivedCloseNotify(context: context)
                break reading
            case .failed(let error):
                if state.failed() { fail(context: context, error: error) }
                break reading
            }
        }
        // Reading may have produced records to send (a KeyUpdate answer).
        if state.canSend && connection.pendingOutboundBytes > 0 { sendProduced(context: context) }
        return delivered
    }

    private func receivedCloseNotify(context: ChannelHandlerContext) {
        let halfClosure = (try? context.channel.syncOptions?.getOption(ChannelOptions.allowRemoteHalfClosure)) ?? false
        switch state.receivedCloseNotify(halfClosureAllowed: halfClosure) {
        case .fireInputClosed:
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case .sendCloseNotifyAndClose:
            sendCloseNotifyThenClose(context: context, mode: .all, promise: nil)
        case .close:
            closeNow(context: context, mode: .all, promise: nil)
        case .ignore:
            break
        }
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state.state {
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        case .outputClosed:
            promise?.fail(ChannelError.outputClosed)
            return
        case .idle, .handshaking, .open, .inputClosed:
            break
        }
        if !outbound.append(unwrapOutboundIn(data), promise: promise, limit: configuration.maximumBufferedPlaintext) {
            promise?.fail(TLSError.bufferLimitExceeded)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        outbound.markFlushed()
        if state.canSend { encryptAndWrite(context: context) }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && state.canSend && outbound.hasFlushedData {
            encryptAndWrite(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Encrypts flushed plaintext and writes it in batches of about `maximumCiphertextWriteSize`,
    /// while the channel is writable (or regardless, when `force`), then flushes once.
    private func encryptAndWrite(context: ChannelHandlerContext, force: Bool = false) {
        if isEncrypting {
            encryptAgain = true
            return
        }
        isEncrypting = true
        defer { isEncrypting = false }
        repeat {
            encryptAgain = false
            var wrote = false
            while outbound.hasFlushedData && (force || (state.canSend && context.channel.isWritable)) {
                var staging = self.staging ?? context.channel.allocator.buffer(capacity: Self.recordSize)
                self.staging = nil
                while connection.pendingOutboundBytes < configuration.maximumCiphertextWriteSize,
                      let plaintext = outbound.takeFlushed(maxBytes: Self.recordSize, staging: &staging, completed: &completedPromises) {
                    if let error = plaintext.withUnsafeReadableBytes({ connection.write($0) }) {
                        self.staging = staging
                        let stranded = completedPromises
                        completedPromises.removeAll(keepingCapacity: true)
                        fail(stranded, with: error)
                        if state.failed() { fail(context: context, error: error) }
                        return
                    }
                }
                self.staging = staging
                writeBatch(context: context)
                wrote = true
            }
            if wrote { context.flush() }
        } while encryptAgain
    }

    /// Writes all ciphertext produced so far as one buffer, completing the promises of the
    /// writes it finishes.
    private func writeBatch(context: ChannelHandlerContext) {
        let promise: EventLoopPromise<Void>?
        switch completedPromises.count {
        case 0:
            promise = nil
        case 1:
            promise = completedPromises[0]
        default:
            let batch = context.eventLoop.makePromise(of: Void.self)
            let promises = completedPromises
            batch.futureResult.whenComplete { result in
                for promise in promises { promise.completeWith(result) }
            }
            promise = batch
        }
        completedPromises.removeAll(keepingCapacity: true)
        if let ciphertext = connection.takeOutbound(allocator: context.channel.allocator) {
            context.write(wrapOutboundOut(ciphertext), promise: promise)
        } else if let promise {
            // Only empty writes: complete them in order behind what was written before.
            context.write(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        }
    }

    /// Writes and flushes whatever OpenSSL produced on its own (handshake records, alerts).
    private func sendProduced(context: ChannelHandlerContext) {
        guard let ciphertext = connection.takeOutbound(allocator: context.channel.allocator) else { return }
        context.writeAndFlush(wrapOutboundOut(ciphertext), promise: nil)
    }

    // MARK: - Close

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch state.close(mode: mode) {
        case .forward:
            context.close(mode: mode, promise: promise)
        case .closeNow(let mode):
            closeNow(context: context, mode: mode, promise: promise)
        case .sendCloseNotify(let then):
            sendCloseNotifyThenClose(context: context, mode: then, promise: promise)
        case .joinPendingClose:
            if let pendingClose, pendingClose.mode == .all {
                if let promise { pendingClose.promise.futureResult.cascade(to: promise) }
            } else {
                context.close(mode: mode, promise: promise)
            }
        case .fail(let error):
            promise?.fail(error)
        }
    }

    private func closeNow(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        cancelTimers()
        fail(outbound.removeAll(), with: ChannelError.ioOnClosedChannel)
        // A half-close still waiting for its close_notify is overtaken by this close.
        if let pendingClose {
            self.pendingClose = nil
            pendingClose.promise.succeed()
        }
        context.close(mode: mode, promise: promise)
    }

    /// Sends what was flushed, drops what was not, sends close_notify, and closes (`mode`) once
    /// that is written or `closeTimeout` has passed.
    private func sendCloseNotifyThenClose(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        handshakeTimer?.cancel()
        fail(outbound.removeUnflushed(), with: mode == .output ? ChannelError.outputClosed : ChannelError.ioOnClosedChannel)
        encryptAndWrite(context: context, force: true)
        connection.shutdown()
        let closePromise = promise ?? context.eventLoop.makePromise()
        pendingClose = (mode, closePromise)
        closeTimer?.cancel()
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.closeTimeout) {
            self.finishPendingClose(context: context)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.finishPendingClose(context: context)
        }
        if let ciphertext = connection.takeOutbound(allocator: context.channel.allocator) {
            context.writeAndFlush(wrapOutboundOut(ciphertext), promise: written)
        } else {
            written.succeed()
        }
    }

    private func finishPendingClose(context: ChannelHandlerContext) {
        guard let pendingClose else { return }
        self.pendingClose = nil
        closeTimer?.cancel()
        closeTimer = nil
        if context.channel.isActive {
            context.close(mode: pendingClose.mode, promise: pendingClose.promise)
        } else {
            pendingClose.promise.succeed()  // closed meanwhile, which is what was asked
        }
    }

    // MARK: - Failure

    /// The connection failed (the state machine has moved to closing): send the alert OpenSSL
    /// produced, fail the writes, fire the error, close.
    private func fail(context: ChannelHandlerContext, error: TLSError) {
        cancelTimers()
        sendProduced(context: context)
        fail(outbound.removeAll(), with: error)
        context.fireErrorCaught(error)
        if let pendingClose {
            self.pendingClose = nil
            context.close(mode: .all, promise: pendingClose.promise)
        } else {
            context.close(mode: .all, promise: nil)
        }
    }

    private func fail(_ promises: [EventLoopPromise<Void>], with error: any Error) {
        for promise in promises { promise.fail(error) }
    }

    private func cancelTimers() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        closeTimer?.cancel()
        closeTimer = nil
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
