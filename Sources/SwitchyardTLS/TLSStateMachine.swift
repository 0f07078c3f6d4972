import NIOCore

/// The life of one TLS connection as `TLSHandler` drives it, without OpenSSL or channels:
/// each event returns what the handler must do. Also tracks read demand (backpressure):
/// plaintext is decrypted and passed on only while someone asked to read.
struct TLSStateMachine {
    enum State: Equatable {
        /// The channel is not active yet.
        case idle
        case handshaking
        /// Established, both directions open.
        case open
        /// The peer's close_notify arrived (half-closure allowed): we may still write.
        case inputClosed
        /// Our close_notify went out (`close(mode: .output)`): we may still read.
        case outputClosed
        /// Closing for good: after a full close, an error, or a close during the handshake.
        case closing
        /// The channel is inactive.
        case closed
    }

    private(set) var state: State = .idle
    /// Someone downstream called `read()` and has not been given plaintext since.
    private(set) var readDemand = false
    /// Plaintext went downstream since the last `channelReadComplete` we passed on.
    private(set) var deliveredSinceReadComplete = false
    /// `TLSHandshakeCompleted` has been fired.
    private(set) var handshakeCompleted = false

    /// Plaintext may be decrypted and passed on.
    var canReceive: Bool { state == .open || state == .outputClosed }
    /// Plaintext may be encrypted and sent.
    var canSend: Bool { state == .open || state == .inputClosed }
    var isHandshaking: Bool { state == .handshaking }

    // MARK: - Handshake

    /// The channel is active (or the handler joined an active channel). True: start the
    /// handshake and its timer.
    mutating func activate() -> Bool {
        guard state == .idle else { return false }
        state = .handshaking
        return true
    }

    enum HandshakeAction: Equatable {
        /// Send what OpenSSL produced; ask for more ciphertext.
        case continueHandshake
        /// Send what OpenSSL produced; cancel the timer, fire `TLSHandshakeCompleted`, then
        /// encrypt flushed writes and pass on any plaintext already received if asked to.
        case completed
        /// Send what OpenSSL produced (its alert), fail the writes, fire the error, close.
        case fail(TLSError)
        /// Not handshaking any more (closed meanwhile): do nothing.
        case ignore
    }

    mutating func handshakeStepped(_ result: TLSConnection.HandshakeResult) -> HandshakeAction {
        guard state == .handshaking else { return .ignore }
        switch result {
        case .wantRead:
            return .continueHandshake
        case .complete:
            state = .open
            handshakeCompleted = true
            return .completed
        case .failed(let error):
            state = .closing
            return .fail(error)
        }
    }

    /// The handshake timer fired: the error to fail with, if still handshaking.
    mutating func handshakeTimedOut() -> TLSError? {
        guard state == .handshaking else { return nil }
        state = .closing
        return .handshakeTimeout
    }

    /// A failure outside the handshake (a bad record, an alert, a buffer limit). True: send
    /// what OpenSSL produced, fail the writes, fire the error, close. False: already closing.
    mutating func failed() -> Bool {
        switch state {
        case .closing, .closed:
            return false
        case .idle, .handshaking, .open, .inputClosed, .outputClosed:
            state = .closing
            return true
        }
    }

    // MARK: - Closing

    enum CloseAction: Equatable {
        /// Close the channel as asked, without a close_notify (none is possible or due).
        case closeNow(CloseMode)
        /// Encrypt flushed writes, fail unflushed ones, send close_notify, then close as asked
        /// once it is written (or the close timer fires).
        case sendCloseNotify(then: CloseMode)
        /// A close is already under way: complete this promise with it.
        case joinPendingClose
        /// Pass the request on unchanged.
        case forward
        /// Fail the promise: not possible in this state.
        case fail(ChannelError)
    }

    mutating func close(mode: CloseMode) -> CloseAction {
        switch (mode, state) {
        case (.input, _):
            return .forward
        case (_, .closed):
            return .forward
        case (_, .closing):
            return .joinPendingClose
        case (.all, .idle), (.all, .handshaking):
            state = .closing
            return .closeNow(.all)
        case (.all, .open), (.all, .inputClosed):
            state = .closing
            return .sendCloseNotify(then: .all)
        case (.all, .outputClosed):
            state = .closing
            return .closeNow(.all)
        case (.output, .open):
            state = .outputClosed
            return .sendCloseNotify(then: .output)
        case (.output, .inputClosed):
            state = .closing
            return .sendCloseNotify(then: .all)
        case (.output, .outputClosed):
            return .fail(.outputClosed)
        case (.output, .idle), (.output, .handshaking):
            return .fail(.operationUnsupported)
        }
    }

    enum CloseNotifyAction: Equatable {
        /// Tell the pipeline: fire `ChannelEvent.inputClosed`.
        case fireInputClosed
        /// Answer with our close_notify and close the channel.
        case sendCloseNotifyAndClose
        /// Ours went out already: close the channel.
        case close
        case ignore
    }

    /// The peer's close_notify arrived.
    mutating func receivedCloseNotify(halfClosureAllowed: Bool) -> CloseNotifyAction {
        switch state {
        case .open:
            if halfClosureAllowed {
                state = .inputClosed
                return .fireInputClosed
            }
            state = .closing
            return .sendCloseNotifyAndClose
        case .outputClosed:
            state = .closing
            return .close
        case .idle, .handshaking, .inputClosed, .closing, .closed:
            return .ignore
        }
    }

    /// The transport's input ended (`ChannelEvent.inputClosed` from the channel). Without the
    /// peer's close_notify first, that is a truncation: the error to fail with.
    mutating func transportInputClosed() -> TLSError? {
        switch state {
        case .handshaking, .open, .outputClosed:
            state = .closing
            return .unexpectedClose
        case .idle, .inputClosed, .closing, .closed:
            return nil
        }
    }

    /// The channel went inactive: the error to fire first, if the peer vanished without a
    /// close_notify while we still expected data.
    mutating func channelInactive() -> TLSError? {
        defer { state = .closed }
        switch state {
        case .handshaking, .open, .outputClosed:
            return .unexpectedClose
        case .idle, .inputClosed, .closing, .closed:
            return nil
        }
    }

    // MARK: - Read demand

    enum ReadAction: Equatable {
        /// Pass plaintext already decryptable on (`plaintextServed`), then forward the read.
        case serveBufferedThenForward
        /// Forward the read.
        case forward
    }

    /// Someone downstream called `read()`.
    mutating func readRequested() -> ReadAction {
        readDemand = true
        return canReceive ? .serveBufferedThenForward : .forward
    }

    /// After `.serveBufferedThenForward`: whether plaintext went on. If it did, the demand is
    /// met: fire `channelReadComplete`; what the forwarded read brings waits for the next `read()`.
    mutating func plaintextServed(_ delivered: Bool) {
        if delivered { readDemand = false }
    }

    /// Ciphertext arrived: decrypt and pass plaintext on now?
    var shouldDeliverOnReceive: Bool { readDemand && canReceive }

    /// Plaintext went downstream during a read cycle of the channel.
    mutating func plaintextDelivered() {
        deliveredSinceReadComplete = true
    }

    /// The channel finished a read cycle.
    mutating func channelReadComplete() -> (fireReadComplete: Bool, readAgain: Bool) {
        let fire = deliveredSinceReadComplete
        if fire {
            deliveredSinceReadComplete = false
            readDemand = false
        }
        // The handshake needs ciphertext whoever asked; an unmet demand needs the next read.
        let again = state == .handshaking || (readDemand && canReceive)
        return (fire, again)
    }
}
