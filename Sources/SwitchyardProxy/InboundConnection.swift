import Logging
import NIOCore
import SwitchyardInterception
import SwitchyardModel
import SwitchyardTLS

/// Sets up one connection accepted by the inbound listener.
///
/// - A TLS ClientHello (first byte 0x16): the mTLS server (the identity the SNI names, a
///   client certificate required), then the transport preface, whose target must be a meshed
///   pod of this node whose identity is the one the client asked for by SNI. Then HTTP/1 to
///   the pod with `l5d-client-id`, or an opaque splice.
/// - Anything else is plaintext, redirected here by iptables: refused when `requireMTLS` is
///   set; otherwise its original destination must be a local pod, and it is detected and
///   forwarded like the above without a client identity.
struct InboundConnection {
    let daemon: ProxyDaemon

    func initialize(_ channel: Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let counting = ByteCountingHandler(side: nil)
            try channel.pipeline.syncOperations.addHandlers([counting, FirstByteHandler { context, first in
                counting.assign(daemon.metrics.side(.inbound, tls: first == 0x16))
                if first == 0x16 {
                    try setUpTLS(context)
                } else {
                    try setUpPlaintext(context)
                }
            }])
        }
    }

    private func refuse(_ context: ChannelHandlerContext, reason: String, label: String) {
        daemon.metrics.tlsRefusedTotal.labels(TrafficDirection.inbound.rawValue, label).increment()
        daemon.logger.warning("inbound connection refused: \(reason)",
                              metadata: ["client": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
        context.close(promise: nil)
    }

    private func setUpTLS(_ context: ChannelHandlerContext) throws {
        let tls = try TLSHandler(context: daemon.credentials.current.serverContext)
        let mesh = MeshHopHandler(daemon: daemon, tls: tls, connection: self)
        try context.pipeline.syncOperations.addHandlers([tls, TransportPrefaceDecoder(), mesh])
    }

    private func setUpPlaintext(_ context: ChannelHandlerContext) throws {
        if daemon.configuration.requireMTLS {
            refuse(context, reason: "plaintext while requireMTLS is set", label: "plaintext_refused")
            return
        }
        guard let original = OriginalDestination.of(channel: context.channel)?.endpoint else {
            refuse(context, reason: "plaintext that was not redirected (no original destination)", label: "no_original_destination")
            return
        }
        if let problem = localPodProblem(original, sni: nil) {
            refuse(context, reason: problem, label: "not_local_pod")
            return
        }
        if daemon.configuration.opaquePorts.contains(original.port) {
            try context.pipeline.syncOperations.addHandler(opaque(to: original))
            return
        }
        try context.pipeline.syncOperations.addHandlers([
            ProtocolDetectionHandler(timeout: daemon.configuration.detectTimeout),
            DetectionOutcomeHandler { context, detected in
                let inner: TransportPreface.InnerProtocol = switch detected.protocol {
                case .http1: .http1
                case .http2: .http2
                case .opaque: .opaque
                }
                try forward(context, protocol: inner, to: original, clientIdentity: nil)
            },
        ])
    }

    /// Why `target` may not be served here; nil when it is a meshed pod of this node (sidecar:
    /// the pod served) and, when `sni` is given, that pod's identity is the SNI.
    func localPodProblem(_ target: IPEndpoint, sni: String?) -> String? {
        let snapshot = daemon.mesh.snapshot
        guard let pod = snapshot.pod(ip: target.address.description) else {
            return "target \(target) is not a pod of the mesh"
        }
        switch daemon.configuration.mode {
        case .node:
            guard pod.nodeName == daemon.configuration.nodeName else {
                return "target \(target) is pod \(pod.id), on node \(pod.nodeName ?? "(none)"), not this node (\(daemon.configuration.nodeName))"
            }
        case .sidecar:
            guard pod.id == daemon.configuration.pod else { return "target \(target) is pod \(pod.id), not the pod served here" }
        }
        guard snapshot.isMeshed(pod) else { return "target pod \(pod.id) is not meshed" }
        if let sni {
            let identity = snapshot.identity(of: pod).description
            guard identity == sni else { return "target pod \(pod.id) is \(identity), but the client asked for \(sni)" }
        }
        return nil
    }

    /// Installs, after `context`'s handler, HTTP/1 toward `target` or an opaque splice.
    func forward(_ context: ChannelHandlerContext, protocol inner: TransportPreface.InnerProtocol, to target: IPEndpoint,
                 clientIdentity: String?, serverName: String? = nil) throws {
        let pipeline = context.pipeline.syncOperations
        switch inner {
        case .http1:
            let policy = InboundHTTPPolicy(target: target, clientIdentity: clientIdentity)
            try pipeline.addProxyServerHandlers(OutboundConnection(daemon: daemon).httpHandler(policy, eventLoop: context.eventLoop),
                                                configuration: daemon.configuration)
        case .http2:
            let policy = InboundHTTP2Policy(connection: self, defaultTarget: target, clientIdentity: clientIdentity,
                                            serverName: serverName)
            try pipeline.addHTTP2ProxyHandlers(OutboundConnection(daemon: daemon).http2Handler(policy, eventLoop: context.eventLoop))
        default:
            try pipeline.addHandler(opaque(to: target))
        }
    }

    private func opaque(to target: IPEndpoint) -> OpaqueConnectHandler {
        let daemon = self.daemon
        let upstream = UpstreamTarget(endpoint: target, dial: target, peerIdentity: nil, sourceIdentity: nil)
        return OpaqueConnectHandler(logger: daemon.logger) { eventLoop in
            daemon.connector.connect(upstream, inner: .opaque, on: eventLoop) { _ in }
        }
    }

    /// After the TLS handler and the preface decoder of a mesh hop: remembers the verified
    /// client identity, checks the preface's target, and installs the forwarding.
    final class MeshHopHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let daemon: ProxyDaemon
        private let tls: TLSHandler
        private let connection: InboundConnection
        private var clientIdentity: String?
        /// Refused and closing: what the closing stirs up (the preface decoder's "closed
        /// early") is not counted or logged again.
        private var refused = false

        init(daemon: ProxyDaemon, tls: TLSHandler, connection: InboundConnection) {
            self.daemon = daemon
            self.tls = tls
            self.connection = connection
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let done = event as? TLSHandshakeCompleted {
                clientIdentity = done.peerIdentity
                return
            }
            if let received = event as? TransportPrefaceReceived {
                let target = received.preface.target
                guard let clientIdentity else {
                    refused = true
                    connection.refuse(context, reason: "preface before a verified client identity", label: "no_client_identity")
                    return
                }
                if let problem = connection.localPodProblem(target, sni: tls.requestedServerName) {
                    refused = true
                    connection.refuse(context, reason: problem, label: "not_local_pod")
                    return
                }
                do {
                    try connection.forward(context, protocol: received.preface.innerProtocol, to: target, clientIdentity: clientIdentity,
                                           serverName: tls.requestedServerName)
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                } catch {
                    context.close(promise: nil)
                }
                return
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            guard !refused else { return }
            refused = true
            if let tlsError = error as? TLSError {
                connection.refuse(context, reason: "TLS: \(tlsError)", label: tlsError.metricLabel)
            } else if let preface = error as? TransportPrefaceError {
                connection.refuse(context, reason: "transport preface: \(preface)", label: "preface_\(preface.label)")
            } else {
                daemon.logger.debug("inbound mesh connection error", metadata: ["error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }
}

/// Waits for the first byte of a connection, calls `decide` with it (which installs what
/// follows after this handler), then removes itself, passing the bytes on.
final class FirstByteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let decide: (ChannelHandlerContext, UInt8) throws -> Void
    private var decided = false

    init(_ decide: @escaping (ChannelHandlerContext, UInt8) throws -> Void) {
        self.decide = decide
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !decided, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            context.fireChannelRead(data)
            return
        }
        decided = true
        do {
            try decide(context, first)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
