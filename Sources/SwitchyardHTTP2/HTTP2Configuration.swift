import NIOCore

/// The settings and limits of one HTTP/2 connection. Defaults suit a proxy hop.
public struct HTTP2Configuration: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise: streams the peer may have open at once.
    /// nghttp2 refuses more with RST_STREAM(REFUSED_STREAM), or GOAWAY(PROTOCOL_ERROR) once
    /// the peer has acknowledged the setting.
    public var maxConcurrentStreams: UInt32 = 100
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise: what the peer may send on a stream before
    /// the consumer has consumed any of it.
    public var initialStreamWindowSize: Int32 = 1 << 20
    /// Our connection-level receive window (WINDOW_UPDATE on stream 0 at the start).
    public var connectionWindowSize: Int32 = 4 << 20
    /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (RFC 9113 §6.5.2 sizes: name
    /// and value bytes plus 32 per field). A server answers a request over it with 431 and
    /// ends the stream; a client resets a response over it with PROTOCOL_ERROR.
    public var maxHeaderListSize: UInt32 = 64 << 10
    /// SETTINGS_MAX_FRAME_SIZE we advertise.
    public var maxFrameSize: UInt32 = 16 << 10
    /// Rapid-reset guard: more than `maxResetsPerWindow` RST_STREAM frames from the peer within
    /// `resetWindow` closes the connection with GOAWAY(ENHANCE_YOUR_CALM).
    public var maxResetsPerWindow: Int = 200
    public var resetWindow: TimeAmount = .seconds(1)
    /// How long a graceful shutdown started by `ChannelShouldQuiesceEvent` lets streams in
    /// flight finish before the connection is cut (`HTTP2Command.shutdown` names its own).
    public var shutdownGracePeriod: TimeAmount = .seconds(30)
    /// Bytes of output produced per channel write while the channel stays writable.
    public var outputChunkSize: Int = 64 << 10

    public init() {}
}
