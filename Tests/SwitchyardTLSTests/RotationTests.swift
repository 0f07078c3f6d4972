// Rotation for real: a server on a loopback socket builds each connection's TLS from the
// credential store's current snapshot; certificates are replaced on disk under it.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardTLS
import Testing

@Suite("Certificate rotation over real connections")
struct RotationTests {
    let web = IdentityWorld.identity("web")
    let backend = IdentityWorld.identity("backend")

    final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.writeAndFlush(data, promise: nil) }
    }

    /// The client end of one connection: what the handshake said and every byte received.
    final class Client: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        struct Seen {
            var handshake: TLSHandshakeCompleted?
            var received = ""
            var errors: [String] = []
        }
        let seen = NIOLockedValueBox(Seen())
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let h = event as? TLSHandshakeCompleted { seen.withLockedValue { $0.handshake = h } }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            seen.withLockedValue { $0.received += text }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            seen.withLockedValue { $0.errors.append("\(error)") }
        }
    }

    struct Connection {
        let channel: any Channel
        let client: Client

        /// Sends `line` and waits (at most 5 s) until it has come back.
        func roundTrip(_ line: String) async throws -> Bool {
            try await channel.writeAndFlush(ByteBuffer(string: line))
            for _ in 0..<500 {
                if client.seen.withLockedValue({ $0.received.contains(line) }) { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        /// The serial the server presented (waits for the handshake, at most 5 s).
        func serverSerial() async throws -> String? {
            for _ in 0..<500 {
                if let h = client.seen.withLockedValue({ $0.handshake }) { return h.peer?.serialNumber }
                try await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
    }

    @Test("an open connection survives a swap; the next handshake presents the new serial; a corrupt file changes nothing")
    func rotation() async throws {
        let world = try IdentityWorld()
        let first = try world.issue("backend")
        try world.issue("web")
        let store = try world.store()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Every accepted connection reads the snapshot in force now.
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: store.current.serverContext))
                    try channel.pipeline.syncOperations.addHandler(Echo())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)

        func connect() async throws -> Connection {
            let client = Client()
            let clientContext = try #require(store.current.clientContext(for: web))
            let backend = self.backend
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: clientContext, serverIdentity: backend))
                        try channel.pipeline.syncOperations.addHandler(client)
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            return Connection(channel: channel, client: client)
        }

        do {
            let long = try await connect()
            #expect(try await long.serverSerial() == first.certificate.serialNumber)
            #expect(try await long.roundTrip("before\n"))

            // Swap the server's certificate on disk.
            let second = try world.issue("backend")
            #expect(store.refresh().replaced == [backend])

            // The open connection carries on untouched.
            #expect(try await long.roundTrip("after\n"))
            #expect(long.client.seen.withLockedValue { $0.errors }.isEmpty)

            // A new connection gets the new certificate.
            let fresh = try await connect()
            #expect(try await fresh.serverSerial() == second.certificate.serialNumber)
            #expect(try await fresh.roundTrip("fresh\n"))

            // A corrupt replacement is refused; the next handshake still presents the second serial.
            try "-----BEGIN CERTIFICATE-----\ngarbage\n".write(toFile: world.directory("backend").certificatePath,
                                                              atomically: true, encoding: .utf8)
            let report = store.refresh()
            #expect(!report.published)
            #expect(report.problems.count == 1)
            let third = try await connect()
            #expect(try await third.serverSerial() == second.certificate.serialNumber)
            #expect(try await third.roundTrip("third\n"))
            #expect(try await long.roundTrip("still\n"))

            for c in [long, fresh, third] { try? await c.channel.close() }
            try await server.close()
        } catch {
            try? await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    @Test("client contexts follow rotation: the next dial presents the re-issued certificate")
    func clientRotation() async throws {
        let world = try IdentityWorld()
        try world.issue("backend")
        try world.issue("web")
        let store = try world.store()
        let before = try #require(store.current.clientContext(for: web)).credential.leaf.serialNumber
        let renewed = try world.issue("web")
        store.refresh()
        let after = try #require(store.current.clientContext(for: web)).credential.leaf.serialNumber
        #expect(before != after)
        #expect(after == renewed.certificate.serialNumber)
        #expect(store.current.serverContext.serves(backend))
        #expect(store.current.serverContext.serves(web))
    }
}
