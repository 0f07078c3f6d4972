import NIOCore

/// What the data path keeps per event loop, used only on that loop (no locks): the idle
/// upstream connections and the balancer's latency and load estimates.
final class LoopResources: @unchecked Sendable {  // used only on `eventLoop`
    let eventLoop: EventLoop
    let pool: UpstreamPool<UpstreamTarget>
    let balancer: EndpointBalancer
    /// HTTP/2 connections to upstreams, shared by the streams of this loop.
    let h2: HTTP2UpstreamConnections
    /// Whether HTTP/1 requests to meshed pods travel as HTTP/2 streams (`l5d-orig-proto`).
    let meshHTTP1OverHTTP2: Bool
    var rng = SystemRandomNumberGenerator()

    init(eventLoop: EventLoop, configuration: ProxyConfiguration) {
        self.eventLoop = eventLoop
        pool = UpstreamPool(eventLoop: eventLoop, idleTimeout: configuration.poolIdleTimeout,
                            maxIdlePerKey: configuration.poolMaxIdlePerKey)
        balancer = EndpointBalancer()
        h2 = HTTP2UpstreamConnections(eventLoop: eventLoop, idleTimeout: configuration.poolIdleTimeout)
        meshHTTP1OverHTTP2 = configuration.meshHTTP1OverHTTP2
    }
}

extension LoopResources {
    /// The balancer's choice among `targets`, skipping the endpoints in `excluded`; nil when
    /// none is left. A single target (the usual Service of one pod, a pod, an inbound target)
    /// is taken without asking the balancer, so nothing is allocated for it.
    func pick(_ targets: [UpstreamTarget], excluding excluded: Set<String> = []) -> UpstreamTarget? {
        if targets.count == 1 {
            return excluded.contains(targets[0].balancerKey) ? nil : targets[0]
        }
        guard let key = balancer.pick(targets.map(\.balancerKey), excluding: excluded, now: .now(), using: &rng) else {
            return nil
        }
        return targets.first { $0.balancerKey == key }
    }
}
