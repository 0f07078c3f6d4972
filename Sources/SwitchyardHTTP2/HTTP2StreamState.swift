import NIOCore

/// What the handler keeps per stream beside nghttp2's own state: the header block being
/// decoded, bytes delivered but not yet consumed, and the outbound body waiting for the
/// data provider.
final class HTTP2StreamState {
    let id: Int32

    // MARK: Inbound

    /// The header block nghttp2 is decoding (between begin_headers and frame_recv).
    var receiving: HTTP2HeaderBlock?
    /// Its size as RFC 9113 counts it, to enforce SETTINGS_MAX_HEADER_LIST_SIZE.
    var receivingSize = 0
    var receivingTooLarge = false
    /// A final (non-1xx) head was delivered: the next header block is trailers.
    var receivedFinalHead = false
    /// The consumer knows the stream (it got its first event, or opened it), so it gets
    /// `.streamClosed` at the end.
    var announced = false
    /// Bytes of `.data` delivered and not yet consumed.
    var unconsumed = 0
    /// nghttp2 closed the stream; the state lingers only while `unconsumed > 0`.
    var closed = false
    /// We refused the peer's header block (too large): the code `.streamClosed` reports,
    /// whatever nghttp2 says (the stream may end normally when the block carried END_STREAM).
    var refusedWith: HTTP2ErrorCode?
    /// Server: the request's body is still coming but is not wanted (a refused request, or the
    /// consumer reset with NO_ERROR before its response was out); reset once the response is.
    var resetAfterResponse = false
    /// Our side of the stream has ended: a HEADERS or DATA frame with END_STREAM went out.
    var sentEndStream = false

    // MARK: Outbound

    /// Body chunks waiting for the data provider, with the promise of each.
    var outbound = CircularBuffer<(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)>()
    /// A data provider is attached (the head was sent without END_STREAM).
    var hasDataProvider = false
    /// The data provider returned NGHTTP2_ERR_DEFERRED; resume it when data comes.
    var deferred = false
    /// The consumer ended the body (`endStream` or trailers); no more data is accepted.
    var endRequested = false
    /// Trailers to submit once the queue is empty.
    var trailers: HTTP2HeaderBlock?
    /// Our side sent its head (server: the final response; client: the request).
    var sentFinalHead = false

    init(id: Int32) {
        self.id = id
    }
}
