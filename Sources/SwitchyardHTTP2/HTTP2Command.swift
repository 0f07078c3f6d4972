import NIOCore

/// What the consumer writes into `HTTP2ConnectionHandler` (`write`/`writeAndFlush`). Frames go
/// out at the next flush (coalesced with whatever else is pending, in one channel write), or
/// at the end of the current read burst when the command came in reaction to an event.
///
/// A write promise fails with `HTTP2Error` when the command cannot be carried out. It
/// succeeds, for `.sendData`, once the chunk's last byte went out in a DATA frame written to
/// the channel (so waiting for it is backpressure: the peer's window and the channel's
/// writability both hold it back); for the others once nghttp2 accepted them.
public enum HTTP2Command: Sendable {
    /// Client: opens a stream with a request head (`:method`, `:scheme`, `:authority`,
    /// `:path` first). `endStream`: no body follows. `streamID` learns the new stream's ID at
    /// once (before the write returns), so the consumer can match the events that follow.
    case openStream(HTTP2HeaderBlock, endStream: Bool, streamID: EventLoopPromise<HTTP2StreamID>?)
    /// Server: a response head (`:status` first) on a stream the peer opened; a 1xx status
    /// sends an informational head and the final one follows. `endStream`: no body follows.
    case sendHeaders(HTTP2StreamID, HTTP2HeaderBlock, endStream: Bool)
    /// A chunk of the body. It waits in the stream's queue until the peer's window and the
    /// channel's writability let it out.
    case sendData(HTTP2StreamID, ByteBuffer, endStream: Bool)
    /// Trailers after the body; they end our side of the stream.
    case sendTrailers(HTTP2StreamID, HTTP2HeaderBlock)
    /// Resets the stream (RST_STREAM); queued data is dropped, its promises fail.
    case resetStream(HTTP2StreamID, HTTP2ErrorCode)
    /// The consumer processed `bytes` bytes of the stream's `.data`: they are given back to
    /// the peer's windows (WINDOW_UPDATE, batched by nghttp2).
    case consume(HTTP2StreamID, bytes: Int)
    /// Sends GOAWAY now with the last stream processed. `.noError`: streams in flight finish,
    /// then the connection closes; any other code closes it as soon as the GOAWAY is written.
    case goAway(HTTP2ErrorCode)
    /// Graceful shutdown. A server sends a shutdown notice (GOAWAY 2^31-1) and a PING; when
    /// the PING comes back it sends the final GOAWAY naming the last stream it took. A client
    /// sends GOAWAY. Either way in-flight streams finish, then the connection closes; after
    /// `gracePeriod` whatever is left is cut off.
    case shutdown(gracePeriod: TimeAmount)
}
