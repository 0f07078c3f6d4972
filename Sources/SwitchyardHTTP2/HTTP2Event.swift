import NIOCore

/// What `HTTP2ConnectionHandler` fires down the pipeline (`fireChannelRead`), one per
/// stream-level happening, in the order nghttp2 reported them.
///
/// Every stream the consumer knows of (a server: from its first `.headers`; a client: from
/// the `HTTP2Command.openStream` that made it) ends with exactly one `.streamClosed`.
public enum HTTP2Event: Sendable {
    /// A header block that is not trailers: a request head (`:method`, `:path`, `:scheme`,
    /// `:authority`) on a server, a response head (`:status`, informational 1xx included) on a
    /// client. `endStream`: the peer sends nothing more on this stream.
    case headers(HTTP2StreamID, HTTP2HeaderBlock, endStream: Bool)
    /// A chunk of the body, a slice of the bytes read when it could be. Once processed, say so
    /// with `HTTP2Command.consume(stream, bytes: chunk.readableBytes)`: until then the bytes
    /// count against the stream's and the connection's receive windows. An empty chunk with
    /// `endStream` just ends the stream.
    case data(HTTP2StreamID, ByteBuffer, endStream: Bool)
    /// Trailers (gRPC's `grpc-status`, `grpc-message`); they always end the peer's side.
    case trailers(HTTP2StreamID, HTTP2HeaderBlock)
    /// The stream is gone. `.noError`: both sides ended it normally; otherwise the RST_STREAM
    /// code (the peer's, or ours after `HTTP2Command.resetStream`), `.refusedStream` for
    /// streams a GOAWAY cut off, `.cancel` when the connection closed under it.
    case streamClosed(HTTP2StreamID, HTTP2ErrorCode)
    /// The peer sent GOAWAY: streams above `lastStreamID` were not processed (they close with
    /// `.refusedStream`), no new ones may be opened. A graceful shutdown notice has
    /// `lastStreamID` 2^31-1 and `.noError`.
    case goAway(lastStreamID: HTTP2StreamID, HTTP2ErrorCode, debugData: ByteBuffer)
}
