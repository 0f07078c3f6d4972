import NIOHTTP1
import SwitchyardInterception

/// The inbound side of an HTTP/2 mesh connection: each stream goes to the local pod its
/// `switchyard-target` field names (the outbound side sets it on every stream of a meshed
/// connection, so one connection carries streams for every local pod of the identity the
/// client asked for), else to the pod the transport preface named. The field is checked like
/// the preface's target (a meshed pod of this node whose identity is the connection's SNI),
/// then removed; `l5d-client-id` is set to the verified client identity.
final class InboundHTTP2Policy: HTTPForwardingPolicy {
    /// The per-stream target field (docs/transport.md).
    static let targetField = "switchyard-target"

    let connection: InboundConnection
    let defaultTarget: IPEndpoint
    let clientIdentity: String?
    /// The identity the client asked for (SNI); nil on plaintext, where the field is ignored.
    let serverName: String?
    let direction = TrafficDirection.inbound
    var isTLS: Bool { clientIdentity != nil }
    /// Per connection, made once: the upstream and log summary of each pod, and the parsed
    /// target fields (a connection's streams name the same few pods over and over).
    private var targets: [IPEndpoint: (target: UpstreamTarget, summary: String)] = [:]
    private var parsed: [String: IPEndpoint] = [:]

    init(connection: InboundConnection, defaultTarget: IPEndpoint, clientIdentity: String?, serverName: String?) {
        self.connection = connection
        self.defaultTarget = defaultTarget
        self.clientIdentity = clientIdentity
        self.serverName = serverName
    }

    func plan(_ head: HTTPRequestHead) -> ForwardingPlan {
        var head = head
        var target = defaultTarget
        if let named = head.headers.first(name: Self.targetField) {
            head.headers.remove(name: Self.targetField)
            if clientIdentity != nil {
                let endpoint: IPEndpoint
                if let known = parsed[named] {
                    endpoint = known
                } else {
                    guard let fresh = IPEndpoint(named) else {
                        return .answer(.malformedRequest("\(Self.targetField) \(named) is not an IP address and port"))
                    }
                    endpoint = fresh
                    if parsed.count < 64 { parsed[named] = fresh }
                }
                if endpoint != defaultTarget, let problem = connection.localPodProblem(endpoint, sni: serverName) {
                    return .answer(.malformedRequest(problem))
                }
                target = endpoint
            }
        }
        InboundHeaders.prepare(&head.headers, clientIdentity: clientIdentity,
                               keepingUpgrade: HopByHop.requestsUpgrade(head.headers))
        let upstream: (target: UpstreamTarget, summary: String)
        if let known = targets[target] {
            upstream = known
        } else {
            upstream = (UpstreamTarget(endpoint: target, dial: target, peerIdentity: nil, sourceIdentity: nil),
                        "local pod \(target)")
            if targets.count < 64 { targets[target] = upstream }
        }
        return .forward(ForwardRequest(head: head, targets: [upstream.target], responseModifier: nil, timeout: nil,
                                       routeCounter: nil, summary: upstream.summary))
    }
}
