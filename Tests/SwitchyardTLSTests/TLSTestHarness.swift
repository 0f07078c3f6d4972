// Two EmbeddedChannels — a TLS client and a TLS server — on one EmbeddedEventLoop, with the
// ciphertext each writes carried to the other by `exchange()`.
import NIOCore
import NIOEmbedded
import SwitchyardTLS

/// The tail of a test pipeline: records what reaches it, and swallows errors so EmbeddedChannel
/// does not rethrow them. With `autoRead`, asks for the next read as NIO's autoRead does (on
/// becoming active and after every read cycle).
final class TLSTestRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let autoRead: Bool
    var received: [ByteBuffer] = []
    var readCompletes = 0
    var handshakes: [TLSHandshakeCompleted] = []
    var events: [ChannelEvent] = []
    var errors: [any Error] = []
    var inactive = false
    var writabilityChanges: [Bool] = []

    init(autoRead: Bool = true) {
        self.autoRead = autoRead
    }

    var receivedBytes: [UInt8] { received.flatMap { Array($0.readableBytesView) } }
    var receivedString: String { String(decoding: receivedBytes, as: UTF8.self) }
    var tlsErrors: [TLSError] { errors.compactMap { $0 as? TLSError } }

    func channelActive(context: ChannelHandlerContext) {
        if autoRead { context.read() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readCompletes += 1
        if autoRead { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSHandshakeCompleted { handshakes.append(event) }
        if let event = event as? ChannelEvent { events.append(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writabilityChanges.append(context.channel.isWritable)
    }
}

/// A TLS client and server over EmbeddedChannels.
final class TLSPair {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientTLS: TLSHandler
    let serverTLS: TLSHandler
    let clientRecorder: TLSTestRecorder
    let serverRecorder: TLSTestRecorder
    /// How many ciphertext buffers each side wrote in each `exchange()` round, in order.
    private(set) var clientWrites: [Int] = []
    private(set) var serverWrites: [Int] = []
    /// Total ciphertext bytes each side wrote.
    private(set) var clientCiphertextBytes = 0
    private(set) var serverCiphertextBytes = 0

    init(
        client clientContext: TLSClientContext, server serverContext: TLSServerContext, dialing identity: String,
        clientAutoRead: Bool = true, serverAutoRead: Bool = true
    ) throws {
        clientTLS = try TLSHandler(context: clientContext, serverIdentity: identity)
        serverTLS = try TLSHandler(context: serverContext)
        clientRecorder = TLSTestRecorder(autoRead: clientAutoRead)
        serverRecorder = TLSTestRecorder(autoRead: serverAutoRead)
        client = EmbeddedChannel(handlers: [clientTLS, clientRecorder], loop: loop)
        server = EmbeddedChannel(handlers: [serverTLS, serverRecorder], loop: loop)
    }

    /// A pair from one PKI: the client is `clientIdentity`, the server serves `serverIdentities`.
    convenience init(
        pki: TLSTestPKI, clientIdentity: String = TLSTestPKI.identity("web"),
        serverIdentities: [String] = [TLSTestPKI.identity("backend")], dialing: String? = nil,
        configuration: TLSConfiguration = .default, clientAutoRead: Bool = true, serverAutoRead: Bool = true
    ) throws {
        let clientContext = try TLSClientContext(
            credential: pki.credential(clientIdentity), trustBundle: pki.bundle, configuration: configuration)
        let serverContext = try TLSServerContext(
            credentials: serverIdentities.map { try pki.credential($0) }, trustBundle: pki.bundle, configuration: configuration)
        try self.init(
            client: clientContext, server: serverContext, dialing: dialing ?? serverIdentities[0],
            clientAutoRead: clientAutoRead, serverAutoRead: serverAutoRead)
    }

    /// Makes both channels active (the client sends its ClientHello).
    func activate() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4143)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()
    }

    /// Carries ciphertext both ways until neither side has anything more to send.
    /// Returns how many rounds moved data.
    @discardableResult
    func exchange(maxRounds: Int = 100) throws -> Int {
        var rounds = 0
        while rounds < maxRounds {
            let fromClient = try drain(client)
            let fromServer = try drain(server)
            if fromClient.isEmpty && fromServer.isEmpty { break }
            rounds += 1
            if !fromClient.isEmpty {
                clientWrites.append(fromClient.count)
                clientCiphertextBytes += fromClient.reduce(0) { $0 + $1.readableBytes }
            }
            if !fromServer.isEmpty {
                serverWrites.append(fromServer.count)
                serverCiphertextBytes += fromServer.reduce(0) { $0 + $1.readableBytes }
            }
            deliver(fromClient, to: server)
            deliver(fromServer, to: client)
        }
        return rounds
    }

    func handshake() throws {
        try activate()
        try exchange()
    }

    func resetWriteCounts() {
        clientWrites = []
        serverWrites = []
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { buffers.append(buffer) }
        }
        return buffers
    }

    /// One read cycle per buffer, as a socket read would bring it.
    private func deliver(_ buffers: [ByteBuffer], to channel: EmbeddedChannel) {
        guard channel.isActive else { return }
        for buffer in buffers {
            channel.pipeline.fireChannelRead(buffer)
            channel.pipeline.fireChannelReadComplete()
        }
    }

    func write(_ string: String, from channel: EmbeddedChannel) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(string: string))
    }
}
