import NIOCore
import NIOPosix
import SwitchyardTLS

/// Opens upstream connections on a given event loop: plaintext to an unmeshed endpoint, or
/// mTLS to the peer's inbound listener followed by the transport preface naming the endpoint.
///
/// The returned future succeeds only once the connection is usable: TCP connected and, when
/// meshed, the handshake done (peer identity verified) and the preface written. Until then
/// not a byte of the request has been sent, so a failure can be retried on another endpoint.
struct UpstreamConnector {
    /// The credentials in force; each new connection takes the current client context.
    let credentials: CredentialStore
    let connectTimeout: TimeAmount
    let socketMark: UInt32?
    /// Counts the connections open now (`switchyard_upstream_open_connections`); nil: not counted.
    var metrics: ProxyMetrics? = nil

    /// Why a connection could not be made (the text goes into `l5d-proxy-error`).
    struct Failure: Error, CustomStringConvertible {
        var target: UpstreamTarget
        var reason: String
        /// The TLS error, when the handshake failed.
        var tls: TLSError?
        var description: String { "connect to \(target): \(reason)" }
    }

    /// Connects to `target` on `eventLoop`, announcing `inner` in the preface when meshed, and
    /// adds the handlers `configure` installs once the connection is ready.
    func connect(_ target: UpstreamTarget, inner: TransportPreface.InnerProtocol, on eventLoop: EventLoop,
                 configure: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Channel> {
        let connected = open(target, inner: inner, on: eventLoop, configure: configure)
        guard let gauge = metrics?.upstreamOpen(tls: target.isMeshed, inner) else { return connected }
        return connected.map { channel in
            gauge.increment()
            channel.closeFuture.whenComplete { _ in gauge.decrement() }
            return channel
        }
    }

    private func open(_ target: UpstreamTarget, inner: TransportPreface.InnerProtocol, on eventLoop: EventLoop,
                      configure: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Channel> {
        var clientContext: TLSClientContext?
        if let peer = target.peerIdentity {
            guard let source = target.sourceIdentity else {
                return eventLoop.makeFailedFuture(Failure(target: target, reason: "no workload identity on this side to present to \(peer)"))
            }
            guard let context = credentials.current.clientContext(for: source) else {
                return eventLoop.makeFailedFuture(Failure(target: target, reason: "no usable certificate for \(source)"))
            }
            clientContext = context
        }
        let address: SocketAddress
        do {
            address = try target.dial.socketAddress()
        } catch {
            return eventLoop.makeFailedFuture(Failure(target: target, reason: "bad address: \(error)"))
        }
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
        if let mark = socketMark {
            bootstrap = bootstrap.channelOption(.socketOption(.init(rawValue: SO_MARK)), value: SocketOptionValue(mark))
        }
        let failure: @Sendable (String, TLSError?) -> Failure = { reason, tls in Failure(target: target, reason: reason, tls: tls) }
        let connected = bootstrap.connect(to: address).flatMapErrorThrowing { error in
            throw failure(Self.describe(error), nil)
        }
        guard let clientContext, let peer = target.peerIdentity else {
            return connected.flatMapThrowing { channel in
                try configure(channel)
                return channel
            }
        }
        let preface = TransportPreface(target: target.endpoint, innerProtocol: inner)
        return connected.flatMap { channel in
            let ready = eventLoop.makePromise(of: Void.self)
            do {
                let tls = try TLSHandler(context: clientContext, serverIdentity: peer)
                try channel.pipeline.syncOperations.addHandlers([tls, ConnectionReadyHandler(promise: ready)])
            } catch {
                channel.close(promise: nil)
                return eventLoop.makeFailedFuture(failure("TLS setup: \(error)", error as? TLSError))
            }
            return ready.futureResult.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw failure("TLS: \(error)", error as? TLSError)
            }.flatMapThrowing {
                channel.write(preface.encoded(allocator: channel.allocator), promise: nil)
                try configure(channel)
                return channel
            }
        }
    }

    /// The connect error in a few words (`connection refused`, `timed out`).
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        if let e = error as? ChannelError, case .connectTimeout(let t) = e {
            return "timed out after \(t.nanoseconds / 1_000_000) ms"
        }
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return describe(first.error) }
            return "\(e)"
        }
        return "\(error)"
    }
}

/// Completes a promise when the TLS handshake is done (or fails it when the connection fails
/// first), then removes itself.
final class ConnectionReadyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted, let promise = promise.take() {
            promise.succeed(())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.take()?.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.take()?.fail(TLSError.unexpectedClose)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.take()?.fail(TLSError.unexpectedClose)
    }
}
