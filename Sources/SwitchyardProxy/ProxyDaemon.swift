import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardInterception
import SwitchyardTLS

/// The data plane of one node (or one pod, in sidecar mode): the outbound and inbound
/// listeners over a shared event loop group, the snapshot in force and the credentials.
///
/// `switchyard run` builds one, `start()`s it, and on SIGTERM calls `shutdown(gracePeriod:)`.
/// Accepted connections are set up by `OutboundConnection` and `InboundConnection`.
public final class ProxyDaemon: Sendable {
    /// Where the listeners ended up (ports may have been 0).
    public struct BoundAddresses: Sendable {
        public var outbound: SocketAddress
        public var inbound: SocketAddress
    }

    /// A listener that could not be bound.
    public struct BindError: Error, CustomStringConvertible {
        public var listener: String
        public var address: String
        public var reason: String
        public var description: String { "cannot listen on \(address) (\(listener)): \(reason)" }
    }

    public let configuration: ProxyConfiguration
    public let mesh: MeshState
    public let credentials: CredentialStore
    public let metrics: ProxyMetrics
    public let group: any EventLoopGroup
    public let logger: Logger

    let loops: LoopTable
    let connections = ConnectionTracker()
    private let listeners = NIOLockedValueBox<[Channel]>([])

    public init(configuration: ProxyConfiguration, mesh: MeshState, credentials: CredentialStore,
                metrics: ProxyMetrics, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.mesh = mesh
        self.credentials = credentials
        self.metrics = metrics
        self.group = group
        self.logger = logger
        loops = LoopTable(group: group, configuration: configuration)
    }

    var connector: UpstreamConnector {
        UpstreamConnector(credentials: credentials, connectTimeout: configuration.connectTimeout,
                          socketMark: configuration.mode == .node && !configuration.ingressMode ? configuration.upstreamSocketMark : nil,
                          metrics: metrics)
    }

    /// Binds both listeners; throws naming the address that could not be bound.
    public func start() async throws -> BoundAddresses {
        let outbound = try await bind("outbound", configuration.outboundListen) { [self] channel in
            OutboundConnection(daemon: self).initialize(channel)
        }
        let inbound: Channel
        do {
            inbound = try await bind("inbound", configuration.inboundListen) { [self] channel in
                InboundConnection(daemon: self).initialize(channel)
            }
        } catch {
            try? await outbound.close()
            throw error
        }
        listeners.withLockedValue { $0 = [outbound, inbound] }
        guard let o = outbound.localAddress, let i = inbound.localAddress else {
            throw BindError(listener: "outbound", address: "\(configuration.outboundListen)", reason: "no local address")
        }
        logger.info("listening", metadata: ["outbound": "\(o)", "inbound": "\(i)", "mode": "\(configuration.mode.rawValue)",
                                            "ingress-mode": "\(configuration.ingressMode)"])
        return BoundAddresses(outbound: o, inbound: i)
    }

    private func bind(_ name: String, _ endpoint: IPEndpoint,
                      initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) async throws -> Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [connections] channel in
                connections.add(channel)
                return initializer(channel)
            }
        do {
            return try await bootstrap.bind(to: try endpoint.socketAddress()).get()
        } catch {
            throw BindError(listener: name, address: "\(endpoint)", reason: UpstreamConnector.describe(error))
        }
    }

    /// Stops accepting, lets in-flight requests finish for up to `gracePeriod`, then closes
    /// every connection that is left. Returns when all are closed.
    public func shutdown(gracePeriod: TimeAmount) async {
        let listening = listeners.withLockedValue { l in defer { l = [] }; return l }
        for channel in listening { try? await channel.close() }
        connections.drain()
        let deadline = NIODeadline.now() + gracePeriod
        while connections.count > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = connections.count
        if left > 0 {
            logger.warning("closing connections still open after the grace period", metadata: ["count": "\(left)"])
            connections.closeAll()
        }
        for loop in loops.all {
            try? await loop.eventLoop.submit {
                loop.resources.pool.closeAll()
                loop.resources.h2.closeAll()
            }.get()
        }
    }
}

/// Each event loop's `LoopResources`, found by the loop. Built once; each entry is used only
/// on its own loop.
struct LoopTable: @unchecked Sendable {
    struct Entry {
        let eventLoop: EventLoop
        let resources: LoopResources
    }

    let all: [Entry]
    private let byLoop: [ObjectIdentifier: LoopResources]

    init(group: any EventLoopGroup, configuration: ProxyConfiguration) {
        var entries: [Entry] = []
        var table: [ObjectIdentifier: LoopResources] = [:]
        for loop in group.makeIterator() {
            let resources = LoopResources(eventLoop: loop, configuration: configuration)
            entries.append(Entry(eventLoop: loop, resources: resources))
            table[ObjectIdentifier(loop)] = resources
        }
        all = entries
        byLoop = table
    }

    /// The resources of `eventLoop` (call on that loop).
    func resources(for eventLoop: EventLoop) -> LoopResources {
        eventLoop.preconditionInEventLoop()
        if let resources = byLoop[ObjectIdentifier(eventLoop)] { return resources }
        preconditionFailure("event loop \(eventLoop) is not in the daemon's group")
    }
}
