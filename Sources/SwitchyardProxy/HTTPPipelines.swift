import NIOCore
import NIOHTTP1

/// The HTTP/1 codecs of the proxy's two kinds of connection, and their removal when a
/// connection switches to an opaque stream after `101 Switching Protocols`.
extension ChannelPipeline.SynchronousOperations {
    /// The client side: `ClientReadAheadHandler`, NIOHTTP1's server codec (leftover bytes kept for an upgrade; responses
    /// to HEAD framed without a body; heads up to `maxHeaderBytes`), pipelining assistance and
    /// response-header validation, an idle timer (`clientIdleTimeout`, `ClientIdleHandler`), then `handler`.
    func addProxyServerHandlers(_ handler: HTTPProxyHandler, configuration: ProxyConfiguration) throws {
        let readAhead = ClientReadAheadHandler()
        handler.readAhead = readAhead
        try addHandler(readAhead)
        // An upgrade configuration without upgraders: no upgrade is done by NIO (the proxy relays
        // it), but the request decoder keeps the bytes after an Upgrade request for the splice.
        let upgrade: NIOHTTPServerUpgradeConfiguration = (upgraders: [], completionHandler: { _ in })
        try configureHTTPServerPipeline(withPipeliningAssistance: true, withServerUpgrade: upgrade,
                                        withErrorHandling: false, withOutboundHeaderValidation: true,
                                        withEncoderConfiguration: .init(),
                                        withDecoderLimitConfiguration: configuration.headerLimits)
        if configuration.clientIdleTimeout > .zero {
            try addHandler(ClientIdleHandler(timeout: configuration.clientIdleTimeout))
        }
        try addHandler(handler)
    }

    /// The upstream side: the HTTP/1 client codec (1xx answers forwarded, leftover bytes kept)
    /// and an `UpstreamHTTPHandler`.
    func addUpstreamHTTPHandlers(limits: NIOHTTPDecoderLimitConfiguration) throws {
        try addHandler(HTTPRequestEncoder())
        try addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes,
                                                                informationalResponseStrategy: .forward,
                                                                limitConfiguration: limits)))
        try addHandler(UpstreamHTTPHandler())
    }

    /// Removes the server side's message-level handlers (before the splice is added).
    func removeProxyServerMessageHandlers() throws {
        if let h = try? handler(type: HTTPServerPipelineHandler.self) { removeHandler(h, promise: nil) }
        if let h = try? handler(type: NIOHTTPResponseHeadersValidator.self) { removeHandler(h, promise: nil) }
        if let h = try? handler(type: HTTPServerUpgradeHandler.self) { removeHandler(h, promise: nil) }
        if let h = try? handler(type: ClientReadAheadHandler.self) { removeHandler(h, promise: nil) }
    }
}

extension ProxyConfiguration {
    /// NIOHTTP1's parser limits for `maxHeaderBytes`.
    var headerLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeaderBytes
        limits.maxHeaderListSize = maxHeaderBytes
        limits.maxHeaderFieldCount = 1024
        return limits
    }
}
