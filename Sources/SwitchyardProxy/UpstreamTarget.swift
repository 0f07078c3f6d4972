import SwitchyardInterception
import SwitchyardModel

/// Where one upstream connection goes and how: the endpoint the app serves, the address that
/// is dialled for it, and, for a meshed endpoint, the identities of both ends of the mTLS hop.
///
/// It is also the key of the connection pool: connections are reused only for the same
/// endpoint, the same dialled address and the same pair of identities.
struct UpstreamTarget: Hashable, Sendable, CustomStringConvertible {
    /// The pod (or address) IP:port that serves the request.
    let endpoint: IPEndpoint
    /// Where the TCP connection goes: `endpoint` in plaintext; the peer's inbound listener when meshed.
    let dial: IPEndpoint
    /// Meshed: the identity the peer must present (SNI and SAN). Nil: plaintext.
    let peerIdentity: String?
    /// Meshed: the identity whose certificate this side presents.
    let sourceIdentity: String?

    /// Whether the hop is mTLS.
    var isMeshed: Bool { peerIdentity != nil }

    /// The balancer's key for the endpoint (formatted once).
    let balancerKey: String

    /// The hash of every field, computed once: the pool looks targets up twice per request.
    private let hashKey: Int

    init(endpoint: IPEndpoint, dial: IPEndpoint, peerIdentity: String?, sourceIdentity: String?) {
        self.endpoint = endpoint
        self.dial = dial
        self.peerIdentity = peerIdentity
        self.sourceIdentity = sourceIdentity
        balancerKey = endpoint.description
        var hasher = Hasher()
        hasher.combine(endpoint)
        hasher.combine(dial)
        hasher.combine(peerIdentity)
        hasher.combine(sourceIdentity)
        hashKey = hasher.finalize()
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(hashKey)
    }

    static func == (a: UpstreamTarget, b: UpstreamTarget) -> Bool {
        a.hashKey == b.hashKey && a.endpoint == b.endpoint && a.dial == b.dial && a.peerIdentity == b.peerIdentity
            && a.sourceIdentity == b.sourceIdentity
    }

    var description: String {
        guard let peerIdentity else { return "\(endpoint) (plaintext)" }
        return "\(endpoint) via \(dial) (mTLS as \(sourceIdentity ?? "?") to \(peerIdentity))"
    }
}

/// Why an endpoint cannot be dialled.
struct TargetProblem: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension UpstreamTarget {
    /// mTLS to the peer's inbound listener for a meshed endpoint, plaintext otherwise.
    static func make(for endpoint: Endpoint, snapshot: MeshSnapshot, configuration: ProxyConfiguration,
                     sourceIdentity: String?) -> Result<UpstreamTarget, TargetProblem> {
        guard let address = IPEndpoint(endpoint.description) else {
            return .failure(TargetProblem(message: "endpoint \(endpoint) is not an IP address and port"))
        }
        guard endpoint.meshed, let identity = endpoint.identity else {
            return .success(UpstreamTarget(endpoint: address, dial: address, peerIdentity: nil, sourceIdentity: nil))
        }
        let dialIP: String
        switch configuration.mode {
        case .sidecar:
            dialIP = endpoint.ip
        case .node:
            guard let nodeName = endpoint.nodeName, let ip = snapshot.nodes[nodeName]?.internalIP else {
                return .failure(TargetProblem(message: "meshed endpoint \(endpoint) is on node \(endpoint.nodeName ?? "(none)"), whose InternalIP is unknown"))
            }
            dialIP = ip
        }
        guard let dial = IPEndpoint(Endpoint.format(ip: dialIP, port: Int(configuration.peerInboundPort))) else {
            return .failure(TargetProblem(message: "peer address \(dialIP) is not an IP address"))
        }
        return .success(UpstreamTarget(endpoint: address, dial: dial, peerIdentity: identity.description,
                                       sourceIdentity: sourceIdentity))
    }
}
