import NIOCore
import SwitchyardInterception
import SwitchyardModel

/// The data plane's settings: what `switchyard run` fills from its flags, `switchyard.yaml` and
/// `SWITCHYARD_*` variables (docs/configuration.md), with the defaults a node daemon uses.
public struct ProxyConfiguration: Sendable {
    /// Node mode: one daemon per node, pods found by source IP, peers dialled at their node's
    /// InternalIP. Sidecar mode: one proxy per pod (`pod`), peers dialled at the pod IP.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case node
        case sidecar
    }

    public var mode: Mode = .node
    /// This node's name (`v1 Node` metadata.name): which pods are local.
    public var nodeName: String
    /// Sidecar: the pod served. Node mode: the workload used when a source IP is not a local pod.
    public var pod: ResourceID?
    /// Where the outbound listener binds (`--outbound-listen`).
    public var outboundListen: IPEndpoint = IPEndpoint(IPv4Address(0, 0, 0, 0), port: 4140)
    /// Where the inbound listener binds (`--inbound-listen`).
    public var inboundListen: IPEndpoint = IPEndpoint(IPv4Address(0, 0, 0, 0), port: 4143)
    /// The port peers' inbound listeners use: where a meshed hop is dialled (mesh-wide).
    public var peerInboundPort: UInt16 = 4143
    /// Destination per request from `l5d-dst-override` / `Host` instead of `SO_ORIGINAL_DST`.
    public var ingressMode = false
    /// Ports whose connections are spliced without detection.
    public var opaquePorts: OpaquePorts = .linkerdDefault
    /// Inbound plaintext (not mTLS) is refused when true.
    public var requireMTLS = false
    /// How long protocol detection may wait for the first bytes.
    public var detectTimeout: TimeAmount = ProtocolDetectionHandler.defaultTimeout
    /// How long a TCP connect (and a TLS handshake) to an upstream may take.
    public var connectTimeout: TimeAmount = .seconds(1)
    /// How long a response may take when the route sets no timeout (0: no limit).
    public var defaultResponseTimeout: TimeAmount = .zero
    /// How long an idle pooled upstream connection is kept.
    public var poolIdleTimeout: TimeAmount = .seconds(30)
    /// How many idle connections are kept per (endpoint, identity) and event loop.
    public var poolMaxIdlePerKey = 1024
    /// How long an idle client keep-alive connection is kept open.
    public var clientIdleTimeout: TimeAmount = .seconds(300)
    /// The largest HTTP/1 request or response head accepted (bytes).
    public var maxHeaderBytes = 64 * 1024
    /// SO_MARK on upstream sockets in node mode without `ingressMode` (so the redirect rules
    /// skip them; needs CAP_NET_ADMIN); nil: none.
    public var upstreamSocketMark: UInt32? = 0x5359
    /// HTTP/1 requests to meshed pods travel between proxies as streams on shared HTTP/2
    /// connections, marked `l5d-orig-proto` and turned back into HTTP/1.1 for the app (as
    /// Linkerd does); false: each on an HTTP/1 mTLS connection of its own, pooled per pod.
    /// Upgrade (WebSocket) and CONNECT requests always take an HTTP/1 connection.
    public var meshHTTP1OverHTTP2 = true
    /// One log line per request at info level when true.
    public var accessLog = false

    public init(nodeName: String) {
        self.nodeName = nodeName
    }
}
