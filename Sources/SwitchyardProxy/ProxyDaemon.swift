import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardTLS

/// The data plane of one node (or one pod, in sidecar mode): the outbound and inbound
/// listeners over a shared event loop group, the snapshot in force and the credentials.
///
/// `switchyard run` builds one, `start()`s it, and on SIGTERM calls `shutdown(gracePeriod:)`.
public final class ProxyDaemon: Sendable {
    /// Where the listeners ended up (ports may have been 0).
    public struct BoundAddresses: Sendable {
        public var outbound: SocketAddress
        public var inbound: SocketAddress
    }

    public let configuration: ProxyConfiguration
    public let mesh: MeshState
    public let credentials: CredentialStore
    public let metrics: ProxyMetrics
    public let group: any EventLoopGroup
    public let logger: Logger

    public init(configuration: ProxyConfiguration, mesh: MeshState, credentials: CredentialStore,
                metrics: ProxyMetrics, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.mesh = mesh
        self.credentials = credentials
        self.metrics = metrics
        self.group = group
        self.logger = logger
    }

    /// Binds both listeners; throws naming the address that could not be bound.
    public func start() async throws -> BoundAddresses {
        fatalError("not yet")
    }

    /// Stops accepting, lets in-flight requests finish for up to `gracePeriod`, then closes
    /// every connection that is left. Returns when all are closed.
    public func shutdown(gracePeriod: TimeAmount) async {
    }
}
