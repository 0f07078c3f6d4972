import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin HTTP/1.1 server: `GET /live`, `GET /ready`, `GET /metrics` (Prometheus text
/// 0.0.4), with keep-alive, a bounded request size and a graceful close.
///
/// Request heads are bounded by NIOHTTP1's parser (80 KiB; beyond it the client gets 400 and
/// the connection closes); bodies by `Configuration.maxRequestBodyBytes` (413 and close).
public final class AdminServer: Sendable {
    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// The address to bind (default `0.0.0.0`).
        public var host: String
        /// The port to bind (default 4191; 0 picks a free one).
        public var port: Int
        /// The largest request body accepted (admin requests have none).
        public var maxRequestBodyBytes: Int
        /// How long `close()` lets in-flight requests finish before closing their connections.
        public var shutdownGracePeriod: TimeAmount

        public init(
            host: String = "0.0.0.0", port: Int = 4191, maxRequestBodyBytes: Int = 4096,
            shutdownGracePeriod: TimeAmount = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.maxRequestBodyBytes = maxRequestBodyBytes
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    public enum Error: Swift.Error, Equatable {
        case alreadyStarted
    }

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var started = false
        var closing = false
    }

    public let registry: MetricsRegistry
    public let readiness: Readiness
    public let configuration: Configuration
    private let state = NIOLockedValueBox(State())

    public init(registry: MetricsRegistry, readiness: Readiness, configuration: Configuration = .init()) {
        self.registry = registry
        self.readiness = readiness
        self.configuration = configuration
    }

    /// Binds and starts accepting; returns the bound address (useful with port 0).
    @discardableResult
    public func start(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> SocketAddress {
        try state.withLockedValue { state in
            guard !state.started else { throw Error.alreadyStarted }
            state.started = true
        }
        let registry = self.registry
        let readiness = self.readiness
        let maxBody = configuration.maxRequestBodyBytes
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)  // IPPROTO_TCP; at SOL_SOCKET, 1 is SO_DEBUG (needs CAP_NET_ADMIN)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        AdminHTTPHandler(registry: registry, readiness: readiness, maxBodyBytes: maxBody))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        state.withLockedValue { $0.serverChannel = channel }
        return channel.localAddress!
    }

    /// The bound address, once started.
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.serverChannel?.localAddress }
    }

    /// Stops accepting, lets each connection finish the request it is answering (idle
    /// keep-alive connections close at once), and after the grace period closes what is left.
    public func close() async throws {
        let (server, connections) = state.withLockedValue { state in
            state.closing = true
            return (state.serverChannel, Array(state.connections.values))
        }
        guard let server else { return }
        try? await server.close()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let grace = configuration.shutdownGracePeriod
        for connection in connections {
            let timer = connection.eventLoop.scheduleTask(in: grace) { connection.close(promise: nil) }
            try? await connection.closeFuture.get()
            timer.cancel()
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let closing = state.withLockedValue { state in
            state.connections[id] = channel
            return state.closing
        }
        if closing { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
        }
    }
}
