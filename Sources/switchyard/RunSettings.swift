import Logging
import SwitchyardInterception
import SwitchyardModel
import SwitchyardProxy

/// The settings of `switchyard run`, typed and validated, each with where its value came from.
///
/// Every setting is read from, in this order of precedence: a command-line flag
/// (`--outbound-listen`), an environment variable (`SWITCHYARD_OUTBOUND_LISTEN`), a key of the
/// YAML settings file (`outboundListen`), and finally its default. `RunSettings+Resolve.swift`
/// merges the layers, `RunSettings+Parsing.swift` turns text into values, `RunSettings+File.swift`
/// reads the file, and docs/configuration.md is the reference.
struct RunSettings {
    /// Directory of Kubernetes manifests.
    var manifests: String
    /// This node's name (`v1 Node` metadata.name).
    var node: String
    var mode: ProxyConfiguration.Mode
    /// Sidecar: the pod served. Node mode: the workload for sources that are not local pods.
    var pod: ResourceID?
    /// `<identityDir>/<namespace>/<serviceAccount>/{tls.crt,tls.key}`.
    var identityDir: String
    /// PEM file of one or more trust anchors.
    var trustBundle: String
    var trustDomain: String
    var outboundListen: IPEndpoint
    var inboundListen: IPEndpoint
    var adminListen: IPEndpoint
    var ingressMode: Bool
    /// Event loop threads.
    var threads: Int
    var opaquePorts: OpaquePorts
    var requireMTLS: Bool
    var accessLog: Bool
    var logLevel: Logger.Level
    /// How long SIGTERM lets in-flight requests finish, in whole seconds.
    var shutdownGrace: Int
    /// The port peers' inbound listeners use (mesh-wide).
    var peerInboundPort: UInt16
    /// Idle connections kept per (endpoint, identity) and event loop; 0 turns reuse off.
    var upstreamIdleConnections: Int
    /// How apps' HTTP/1 requests to meshed pods travel between proxies.
    var meshHTTP1: MeshHTTP1
    /// The account the daemon switches to when started as root (`root`: stay root).
    var user: String
    /// Node mode: keep the redirect rules in step with the meshed pods of this node, re-applying
    /// them whenever the manifests change (needs CAP_NET_ADMIN and CAP_NET_RAW).
    var manageRedirect: Bool

    /// The settings file that was read, if any.
    var configFile: String?
    /// Where each setting's value came from.
    var sources: [Setting: Source]
}

extension RunSettings {
    /// How apps' HTTP/1 requests to meshed pods travel between proxies (`--mesh-http1`);
    /// Upgrade (WebSocket) and CONNECT requests always take an HTTP/1 connection.
    enum MeshHTTP1: String, CaseIterable {
        /// As streams on shared HTTP/2 mTLS connections, marked `l5d-orig-proto` and turned back
        /// into HTTP/1.1 for the app at the inbound (as Linkerd does).
        case http2
        /// Each on an HTTP/1 mTLS connection of its own, pooled per pod.
        case http1
    }
}
