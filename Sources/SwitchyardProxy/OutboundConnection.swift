import Logging
import NIOCore
import SwitchyardInterception
import SwitchyardModel
import SwitchyardRouting

/// Sets up one connection accepted by the outbound listener: its original destination (or
/// none, in ingress mode or when it was not redirected), protocol detection unless the port
/// is opaque, then the HTTP/1 proxy or an opaque splice to an endpoint of the destination.
struct OutboundConnection {
    let daemon: ProxyDaemon

    func initialize(_ channel: Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture { try setUp(channel) }
    }

    private func setUp(_ channel: Channel) throws {
        let configuration = daemon.configuration
        let side = daemon.metrics.side(.outbound, tls: false)
        let client = channel.remoteAddress.flatMap { IPEndpoint($0) }
        let original = configuration.ingressMode ? nil : OriginalDestination.of(channel: channel)?.endpoint
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ByteCountingHandler(side: side))
        if let original, configuration.opaquePorts.contains(original.port) {
            try sync.addHandler(opaqueHandler(client: client, original: original, inner: .opaque))
            return
        }
        try sync.addHandler(ProtocolDetectionHandler(timeout: configuration.detectTimeout))
        try sync.addHandler(DetectionOutcomeHandler { context, detected in
            let pipeline = context.pipeline.syncOperations
            switch detected.protocol {
            case .http1:
                let policy = OutboundHTTPPolicy(mesh: daemon.mesh, configuration: configuration, metrics: daemon.metrics,
                                                client: client, originalDestination: original)
                try pipeline.addProxyServerHandlers(httpHandler(policy, eventLoop: context.eventLoop), configuration: configuration)
            case .http2:
                let policy = OutboundHTTPPolicy(mesh: daemon.mesh, configuration: configuration, metrics: daemon.metrics,
                                                client: client, originalDestination: original)
                try pipeline.addHTTP2ProxyHandlers(http2Handler(policy, eventLoop: context.eventLoop))
            case .opaque:
                guard let original else {
                    daemon.logger.warning("outbound \(detected.protocol) connection without an original destination; closing",
                                          metadata: ["client": "\(client.map { "\($0)" } ?? "?")"])
                    context.close(promise: nil)
                    return
                }
                try pipeline.addHandler(opaqueHandler(client: client, original: original, inner: .opaque))
            }
        })
    }

    func httpHandler(_ policy: any HTTPForwardingPolicy, eventLoop: EventLoop) -> HTTPProxyHandler {
        HTTPProxyHandler(policy: policy, loop: daemon.loops.resources(for: eventLoop), connector: daemon.connector,
                         metrics: daemon.metrics, logger: daemon.logger, accessLog: daemon.configuration.accessLog,
                         headerLimits: daemon.configuration.headerLimits)
    }

    func http2Handler(_ policy: any HTTPForwardingPolicy, eventLoop: EventLoop) -> HTTP2ProxyHandler {
        HTTP2ProxyHandler(policy: policy, loop: daemon.loops.resources(for: eventLoop), connector: daemon.connector,
                          metrics: daemon.metrics, logger: daemon.logger, idleTimeout: daemon.configuration.clientIdleTimeout)
    }

    /// Splices to one endpoint of the original destination (a Service's endpoints through the
    /// balancer; a pod or unknown address as addressed), mTLS when it is meshed.
    private func opaqueHandler(client: IPEndpoint?, original: IPEndpoint, inner: TransportPreface.InnerProtocol) -> OpaqueConnectHandler {
        let daemon = self.daemon
        return OpaqueConnectHandler(logger: daemon.logger) { eventLoop in
            let snapshot = daemon.mesh.snapshot
            let router = daemon.mesh.router
            let source = OutboundHTTPPolicy.sourceWorkload(client: client, snapshot: snapshot, configuration: daemon.configuration)
            var endpoints: [Endpoint]
            switch try? router.resolve(destination: original.description) {
            case .service(let parent)?: endpoints = snapshot.endpoints(of: parent.service, port: parent.port)
            case .pod(let id, let ip, let port)?:
                let pod = snapshot.pods[id]
                endpoints = [Endpoint(ip: ip, port: port, pod: id, nodeName: pod?.nodeName,
                                      meshed: pod.map(snapshot.isMeshed) ?? false, identity: pod.map(snapshot.identity))]
            default: endpoints = [Endpoint(ip: original.address.description, port: Int(original.port))]
            }
            let targets = endpoints.compactMap {
                try? UpstreamTarget.make(for: $0, snapshot: snapshot, configuration: daemon.configuration,
                                         sourceIdentity: source?.identity).get()
            }
            let loop = daemon.loops.resources(for: eventLoop)
            guard let target = loop.pick(targets) else {
                return eventLoop.makeFailedFuture(TargetProblem(message: "no endpoints for \(original)"))
            }
            return daemon.connector.connect(target, inner: inner, on: eventLoop) { _ in }
        }
    }
}

/// Reacts to `ProtocolDetected` by calling `onDetected` (which installs what follows), then
/// removes itself; the detection handler then passes the held bytes on.
final class DetectionOutcomeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let onDetected: (ChannelHandlerContext, ProtocolDetected) throws -> Void

    init(_ onDetected: @escaping (ChannelHandlerContext, ProtocolDetected) throws -> Void) {
        self.onDetected = onDetected
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let detected = event as? ProtocolDetected else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        do {
            try onDetected(context, detected)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }
}
