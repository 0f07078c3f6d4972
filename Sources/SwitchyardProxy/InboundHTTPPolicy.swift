import NIOHTTP1
import SwitchyardInterception

/// The inbound side: every request of the connection goes to the one local pod the transport
/// preface (or `SO_ORIGINAL_DST`) named, with `l5d-client-id` set to the verified client
/// identity and any client-supplied one removed.
final class InboundHTTPPolicy: HTTPForwardingPolicy {
    let target: IPEndpoint
    let clientIdentity: String?
    /// The one upstream target, in the array every plan carries (made once, not per request).
    private let upstreams: [UpstreamTarget]
    /// For logs; the same for every request of the connection, so formatted once.
    private let summary: String
    let direction = TrafficDirection.inbound
    var isTLS: Bool { clientIdentity != nil }

    init(target: IPEndpoint, clientIdentity: String?) {
        self.target = target
        self.clientIdentity = clientIdentity
        upstreams = [UpstreamTarget(endpoint: target, dial: target, peerIdentity: nil, sourceIdentity: nil)]
        summary = "local pod \(target)"
    }

    func plan(_ head: HTTPRequestHead) -> ForwardingPlan {
        var head = head
        InboundHeaders.prepare(&head.headers, clientIdentity: clientIdentity,
                               keepingUpgrade: HopByHop.requestsUpgrade(head.headers))
        return .forward(ForwardRequest(head: head, targets: upstreams, responseModifier: nil, timeout: nil,
                                       routeCounter: nil, summary: summary))
    }
}
