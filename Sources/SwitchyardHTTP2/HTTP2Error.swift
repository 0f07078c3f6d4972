/// Why a command failed, or why the connection ended: the error of a failed write promise,
/// or fired with `errorCaught` before the handler closes the channel.
public enum HTTP2Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command names a stream this connection does not have (never opened, or closed).
    case unknownStream(HTTP2StreamID)
    /// The command does not fit the stream's state (data after the end of stream, a second
    /// response, data on a stream whose headers ended it, ...).
    case invalidState(HTTP2StreamID, String)
    /// The command is not available to this side (a server opening a stream, a client
    /// answering one).
    case wrongRole(String)
    /// No new stream can be opened: GOAWAY was sent or received, or stream IDs ran out.
    case streamsExhausted
    /// The stream was closed (reset by either side, or the connection ended) before the
    /// data went out.
    case streamClosed(HTTP2StreamID, HTTP2ErrorCode)
    /// The connection closed before the command could be carried out.
    case connectionClosed
    /// nghttp2 refused a call; the text is `nghttp2_strerror`'s.
    case nghttp2(code: Int32, String)
    /// The peer broke the protocol; the connection was closed with this GOAWAY code.
    case protocolViolation(HTTP2ErrorCode, String)

    public var description: String {
        switch self {
        case .unknownStream(let id): "HTTP/2: no stream \(id)"
        case .invalidState(let id, let why): "HTTP/2: stream \(id): \(why)"
        case .wrongRole(let why): "HTTP/2: \(why)"
        case .streamsExhausted: "HTTP/2: no new streams can be opened on this connection"
        case .streamClosed(let id, let code): "HTTP/2: stream \(id) closed (\(code))"
        case .connectionClosed: "HTTP/2: connection closed"
        case .nghttp2(let code, let text): "nghttp2: \(text) (\(code))"
        case .protocolViolation(let code, let why): "HTTP/2: peer misbehaved, GOAWAY \(code): \(why)"
        }
    }
}
