import NIOCore
import NIOHTTP1
import SwitchyardAdmin
import SwitchyardModel

/// What to do with one HTTP request, as a forwarding policy decided it.
enum ForwardingPlan {
    /// Answer it here (`l5d-proxy-error`).
    case answer(ProxyError)
    /// Answer with a redirect (a RequestRedirect filter).
    case redirect(status: Int, location: String)
    /// Send it upstream.
    case forward(ForwardRequest)
}

/// A request ready to go upstream: its head after header preparation and filters, where it
/// may go, and what applies to its response.
struct ForwardRequest {
    var head: HTTPRequestHead
    /// The endpoints the balancer picks from (one for a pod or an inbound target).
    var targets: [UpstreamTarget]
    /// The ResponseHeaderModifier of the matched rule.
    var responseModifier: HTTPHeaderModifier?
    /// From the request head to the end of the response; nil: no limit.
    var timeout: TimeAmount?
    /// The per-route counter (`outbound_http_route_request_total`) for this request.
    var routeCounter: Counter?
    /// For logs: `route test/backend-router rule 0 -> backend-b-podinfo.test:9898`.
    var summary: String
}

/// Decides, per request, where an HTTP request goes (the outbound side's routing, or the
/// inbound side's fixed local target). Confined to the connection's event loop.
protocol HTTPForwardingPolicy: AnyObject {
    var direction: TrafficDirection { get }
    /// Whether the client side of this connection is mTLS (the `tls` label).
    var isTLS: Bool { get }
    func plan(_ head: HTTPRequestHead) -> ForwardingPlan
}
