import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2

/// `TestServerApplication` behind `HTTP2ConnectionHandler` on 127.0.0.1, an ephemeral port.
final class LoopbackServer: Sendable {
    let channel: Channel
    let control: TestServerControl
    private let connections: NIOLockedValueBox<[Channel]>
    var port: Int { channel.localAddress!.port! }

    static func start(configuration: HTTP2Configuration = HTTP2Configuration()) async throws -> LoopbackServer {
        let control = TestServerControl()
        let connections = NIOLockedValueBox<[Channel]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        HTTP2ConnectionHandler(mode: .server, configuration: configuration),
                        TestServerApplication(control: control),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return LoopbackServer(channel: channel, control: control, connections: connections)
    }

    private init(channel: Channel, control: TestServerControl, connections: NIOLockedValueBox<[Channel]>) {
        self.channel = channel
        self.control = control
        self.connections = connections
    }

    /// Sends `HTTP2Command.shutdown` into every accepted connection.
    func shutdownConnections(gracePeriod: TimeAmount) async {
        for connection in connections.withLockedValue({ $0 }) {
            try? await connection.writeAndFlush(HTTP2Command.shutdown(gracePeriod: gracePeriod))
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        try? await channel.close()
        for connection in connections.withLockedValue({ $0 }) { try? await connection.close() }
    }
}
