import NIOCore
import NIOEmbedded
import SwitchyardHTTP2

/// A client and a server `HTTP2ConnectionHandler`, each on its own `EmbeddedChannel`, joined
/// in memory: `pump()` moves bytes both ways (one read burst per batch, as a socket would)
/// until neither side has more to say, and collects each side's events.
final class InMemoryConnection {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    private(set) var clientEvents: [HTTP2Event] = []
    private(set) var serverEvents: [HTTP2Event] = []
    /// Errors each side fired (`errorCaught`), e.g. a protocol violation.
    private(set) var clientErrors: [Error] = []
    private(set) var serverErrors: [Error] = []

    init(client clientConfiguration: HTTP2Configuration = HTTP2Configuration(),
         server serverConfiguration: HTTP2Configuration = HTTP2Configuration(),
         serverApplication: (any ChannelHandler)? = nil) throws {
        client = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .client, configuration: clientConfiguration))
        server = EmbeddedChannel(handler: HTTP2ConnectionHandler(mode: .server, configuration: serverConfiguration))
        if let serverApplication { try server.pipeline.syncOperations.addHandler(serverApplication) }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try client.connect(to: address).wait()
        try server.connect(to: address).wait()
        try pump()
    }

    /// Writes a command into the client's pipeline (and flushes).
    @discardableResult
    func client(_ command: HTTP2Command) -> EventLoopFuture<Void> {
        client.writeAndFlush(command)
    }

    @discardableResult
    func server(_ command: HTTP2Command) -> EventLoopFuture<Void> {
        server.writeAndFlush(command)
    }

    /// Opens a stream from the client; returns its ID.
    func open(_ headers: HTTP2HeaderBlock, endStream: Bool = false) throws -> HTTP2StreamID {
        let id = client.eventLoop.makePromise(of: HTTP2StreamID.self)
        client(.openStream(headers, endStream: endStream, streamID: id))
        return try id.futureResult.wait()
    }

    /// Moves bytes until both sides are quiet; returns the number of bytes moved.
    @discardableResult
    func pump(limit: Int = 10_000) throws -> Int {
        var total = 0
        for _ in 0..<limit {
            let toServer = try drain(client)
            let toClient = try drain(server)
            if !toServer.isEmpty { deliver(toServer, to: server) }
            if !toClient.isEmpty { deliver(toClient, to: client) }
            collect()
            let moved = toServer.reduce(0) { $0 + $1.readableBytes } + toClient.reduce(0) { $0 + $1.readableBytes }
            total += moved
            if toServer.isEmpty && toClient.isEmpty { return total }
        }
        return total
    }

    /// Delivers what the client has written to the server as one read burst and returns the
    /// server's writes in answer (then passes them on to the client).
    func burstToServer() throws -> [ByteBuffer] {
        deliver(try drain(client), to: server)
        let answer = try drain(server)
        deliver(answer, to: client)
        collect()
        return answer
    }

    /// Feeds raw bytes to the server as one read burst (abuse tests).
    func serverReceives(_ bytes: ByteBuffer) {
        deliver([bytes], to: server)
        collect()
    }

    /// Everything the server has written since, as raw bytes.
    func serverOutput() throws -> ByteBuffer {
        var all = ByteBuffer()
        for var chunk in try drain(server) { all.writeBuffer(&chunk) }
        return all
    }

    func takeClientEvents() -> [HTTP2Event] {
        defer { clientEvents.removeAll() }
        return clientEvents
    }

    func takeServerEvents() -> [HTTP2Event] {
        defer { serverEvents.removeAll() }
        return serverEvents
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { out.append(buffer) }
        }
        return out
    }

    private func deliver(_ buffers: [ByteBuffer], to channel: EmbeddedChannel) {
        guard channel.isActive else { return }
        for buffer in buffers { channel.pipeline.fireChannelRead(buffer) }
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
    }

    private func collect() {
        while let event = try? client.readInbound(as: HTTP2Event.self) { clientEvents.append(event) }
        while let event = try? server.readInbound(as: HTTP2Event.self) { serverEvents.append(event) }
        do { try client.throwIfErrorCaught() } catch { clientErrors.append(error) }
        do { try server.throwIfErrorCaught() } catch { serverErrors.append(error) }
    }
}
