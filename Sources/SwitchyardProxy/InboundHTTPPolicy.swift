import NIOHTTP1
import SwitchyardInterception

/// The inbound side: every request of the connection goes to the one local pod the transport
/// preface (or `SO_ORIGINAL_DST`) named, with `l5d-client-id` set to the verified client
/// identity and any client-supplied one removed.
final class InboundHTTPPolicy: HTTPForwardingPolicy {
    let target: IPEndpoint
    let clientIdentity: String?
    private let upstream: UpstreamTarget
    let direction = TrafficDirection.inbound
    var isTLS: Bool { clientIdentity != nil }

    init(target: IPEndpoint, clientIdentity: String?) {
        self.target = target
        self.clientIdentity = clientIdentity
        upstream = UpstreamTarget(endpoint: target, dial: target, peerIdentity: nil, sourceIdentity: nil)
    }

    func plan(_ head: HTTPRequestHead) -> ForwardingPlan {
        var head = head
        InboundHeaders.prepare(&head.headers, clientIdentity: clientIdentity,
                               keepingUpgrade: HopByHop.requestsUpgrade(head.headers))
        return .forward(ForwardRequest(head: head, targets: [upstream], responseModifier: nil, timeout: nil,
                                       routeCounter: nil, summary: "local pod \(target)"))
    }
}
