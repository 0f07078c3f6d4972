import NIOCore

/// What the data path keeps per event loop, used only on that loop (no locks): the idle
/// upstream connections and the balancer's latency and load estimates.
final class LoopResources: @unchecked Sendable {  // used only on `eventLoop`
    let eventLoop: EventLoop
    let pool: UpstreamPool<UpstreamTarget>
    let balancer: EndpointBalancer
    /// HTTP/2 connections to upstreams, shared by the streams of this loop.
    let h2: HTTP2UpstreamConnections
    var rng = SystemRandomNumberGenerator()

    init(eventLoop: EventLoop, configuration: ProxyConfiguration) {
        self.eventLoop = eventLoop
        pool = UpstreamPool(eventLoop: eventLoop, idleTimeout: configuration.poolIdleTimeout,
                            maxIdlePerKey: configuration.poolMaxIdlePerKey)
        balancer = EndpointBalancer()
        h2 = HTTP2UpstreamConnections(eventLoop: eventLoop, idleTimeout: configuration.poolIdleTimeout)
    }
}
