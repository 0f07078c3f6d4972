// TLSHandler on real sockets: a NIOPosix server and client on 127.0.0.1, handshake, echo,
// half-close, and a refused identity.
import NIOCore
import NIOPosix
import SwitchyardTLS
import Testing

@Suite("TLS over loopback sockets")
struct TLSLoopbackTests {
    let web = TLSTestPKI.identity("web")
    let backend = TLSTestPKI.identity("backend")

    /// Server side: greets the verified client by identity, echoes everything, and on the
    /// client's close_notify (half-closure) says "bye" and closes.
    final class EchoServer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let done = event as? TLSHandshakeCompleted {
                let greeting = "hello \(done.peerIdentity ?? "?") over \(done.alpn ?? "-")\n"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
            } else if let event = event as? ChannelEvent, event == .inputClosed {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "bye\n")), promise: nil)
                context.close(promise: nil)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// Client side: sends `payload` once the handshake is done, optionally half-closes, and
    /// collects everything until the channel closes.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        struct Result: Sendable {
            var handshake: TLSHandshakeCompleted?
            var received = ByteBuffer()
            var errors: [String] = []
        }

        let payload: ByteBuffer
        let halfClose: Bool
        let done: EventLoopPromise<Result>
        var result = Result()

        init(payload: ByteBuffer, halfClose: Bool, done: EventLoopPromise<Result>) {
            self.payload = payload
            self.halfClose = halfClose
            self.done = done
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard let handshake = event as? TLSHandshakeCompleted else { return }
            result.handshake = handshake
            context.writeAndFlush(wrapOutboundOut(payload), promise: nil)
            if halfClose { context.close(mode: .output, promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            result.received.writeBuffer(&buffer)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            result.errors.append("\(error)")
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.succeed(result)
        }
    }

    private func run(
        pki: TLSTestPKI, serverCredential: IdentityCredential? = nil, payload: ByteBuffer, halfClose: Bool
    ) async throws -> Collector.Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            let result = try await exchange(group: group, pki: pki, serverCredential: serverCredential, payload: payload, halfClose: halfClose)
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func exchange(
        group: MultiThreadedEventLoopGroup, pki: TLSTestPKI, serverCredential: IdentityCredential?, payload: ByteBuffer, halfClose: Bool
    ) async throws -> Collector.Result {
        let serverContext = try TLSServerContext(credentials: [serverCredential ?? pki.credential(backend)], trustBundle: pki.bundle)
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)

        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: serverContext))
                    try channel.pipeline.syncOperations.addHandler(EchoServer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)

        let done = group.next().makePromise(of: Collector.Result.self)
        let backend = self.backend
        _ = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: clientContext, serverIdentity: backend))
                    try channel.pipeline.syncOperations.addHandler(Collector(payload: payload, halfClose: halfClose, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let result = try await done.futureResult.get()
        try await server.close()
        return result
    }

    @Test("handshake and echo of 256 KiB; the server names the client's identity; half-close ends it cleanly")
    func echo() async throws {
        let pki = try TLSTestPKI()
        let payload = ByteBuffer(bytes: (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let result = try await run(pki: pki, payload: payload, halfClose: true)

        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.handshake?.peerIdentity == backend)
        #expect(result.handshake?.alpn == "h2")
        var received = result.received
        let greeting = received.readString(length: "hello \(web) over h2\n".utf8.count)
        #expect(greeting == "hello \(web) over h2\n")
        let echoed = received.readSlice(length: payload.readableBytes)
        #expect(echoed == payload)
        #expect(received.readString(length: received.readableBytes) == "bye\n")
    }

    @Test("a server presenting the wrong identity is refused over a real socket, naming both identities")
    func wrongIdentity() async throws {
        let pki = try TLSTestPKI()
        let impostor = TLSTestPKI.identity("impostor")
        let (leaf, key) = try pki.issuer.leaf(commonName: impostor, dnsNames: [impostor])
        let wrong = IdentityCredential(identity: backend, chain: [leaf, pki.issuer.certificate], key: key)
        let result = try await run(pki: pki, serverCredential: wrong, payload: ByteBuffer(string: "x"), halfClose: false)
        #expect(result.handshake == nil)
        #expect(result.errors == ["\(TLSError.identityMismatch(wanted: backend, got: impostor))"])
        #expect(result.received.readableBytes == 0)
    }
}
