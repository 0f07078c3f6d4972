import NIOCore
import NIOHTTP1
import SwitchyardAdmin
import SwitchyardInterception
import SwitchyardModel
import SwitchyardRouting

/// The outbound side's routing, per request: the destination (the connection's original
/// destination, or in ingress mode the request's `l5d-dst-override`/`Host`), header
/// preparation, the router's decision with its filters, and the upstream targets of the
/// chosen backend (mTLS for meshed endpoints, plaintext for the rest).
final class OutboundHTTPPolicy: HTTPForwardingPolicy {
    let mesh: MeshState
    let configuration: ProxyConfiguration
    let metrics: ProxyMetrics
    /// The original destination of a redirected connection; nil in ingress mode.
    let originalDestination: IPEndpoint?
    /// The source workload's identity and namespace (nil when the client is not a known workload).
    let source: (identity: String, namespace: String)?
    let direction = TrafficDirection.outbound
    let isTLS = false
    private var routeCounters: [RouteCounterKey: Counter] = [:]
    /// `originalDestination` resolved against the snapshot of `generation` (it changes only
    /// with the snapshot, so it is not parsed again per request).
    private var resolvedOriginal: (generation: Int, destination: Result<Destination, ProxyError>)?
    private var rng = SystemRandomNumberGenerator()

    private struct RouteCounterKey: Hashable {
        var parent: ParentKey?
        var route: RouteReference?
        var backend: BackendTarget?
    }

    init(mesh: MeshState, configuration: ProxyConfiguration, metrics: ProxyMetrics,
         client: IPEndpoint?, originalDestination: IPEndpoint?) {
        self.mesh = mesh
        self.configuration = configuration
        self.metrics = metrics
        self.originalDestination = originalDestination
        self.source = Self.sourceWorkload(client: client, snapshot: mesh.snapshot, configuration: configuration)
    }

    /// Node mode: the local pod with the client's IP; otherwise (or when there is none) the
    /// `--pod` workload. Nil when neither is a meshed pod of the snapshot.
    static func sourceWorkload(client: IPEndpoint?, snapshot: MeshSnapshot,
                               configuration: ProxyConfiguration) -> (identity: String, namespace: String)? {
        if configuration.mode == .node, let client, let pod = snapshot.pod(ip: client.address.description),
           pod.nodeName == configuration.nodeName, snapshot.isMeshed(pod) {
            return (snapshot.identity(of: pod).description, pod.id.namespace)
        }
        if let id = configuration.pod, let pod = snapshot.pods[id], snapshot.isMeshed(pod) {
            return (snapshot.identity(of: pod).description, pod.id.namespace)
        }
        return nil
    }

    func plan(_ head: HTTPRequestHead) -> ForwardingPlan {
        let (router, generation) = mesh.routerAndGeneration
        let destination: Destination
        if let originalDestination {
            let resolution: Result<Destination, ProxyError>
            if let cached = resolvedOriginal, cached.generation == generation {
                resolution = cached.destination
            } else {
                do {
                    resolution = .success(try router.resolve(destination: originalDestination.description))
                } catch {
                    resolution = .failure(.malformedRequest("original destination \(originalDestination): \(error)"))
                }
                resolvedOriginal = (generation, resolution)
            }
            switch resolution {
            case .success(let resolved): destination = resolved
            case .failure(let error): return .answer(error)
            }
        } else {
            switch IngressDestination.resolve(head: head, router: router) {
            case .failure(let error): return .answer(error)
            case .success(.address(let ip, let port)):
                return .answer(.malformedRequest("ingress mode: \(Endpoint.format(ip: ip, port: port)) is not a Service or pod of the mesh"))
            case .success(let resolved): destination = resolved
            }
        }
        var head = head
        OutboundHeaders.prepare(&head.headers, keepingUpgrade: HopByHop.requestsUpgrade(head.headers))
        let request: RouteRequest
        switch RequestHeadMapping.routeRequest(from: head) {
        case .failure(let error): return .answer(error)
        case .success(let r): request = r
        }
        let decision = router.decide(request, destination: destination, clientNamespace: source?.namespace, using: &rng)
        if let error = ProxyError(decision: decision) { return .answer(error) }
        if (300..<400).contains(decision.status), let location = decision.redirect {
            return .redirect(status: decision.status, location: location)
        }
        let outgoing = RequestHeadMapping.outgoingHead(for: decision, from: head)
        var targets: [UpstreamTarget] = []
        if decision.endpoints.isEmpty, case .address(let ip, let port) = destination,
           let endpoint = IPEndpoint("\(Endpoint.format(ip: ip, port: port))") {
            targets = [UpstreamTarget(endpoint: endpoint, dial: endpoint, peerIdentity: nil, sourceIdentity: nil)]
        } else {
            targets.reserveCapacity(decision.endpoints.count)
            let snapshot = router.snapshot
            var problem: String?
            for endpoint in decision.endpoints {
                switch UpstreamTarget.make(for: endpoint, snapshot: snapshot, configuration: configuration, sourceIdentity: source?.identity) {
                case .success(let t): targets.append(t)
                case .failure(let reason): problem = reason.message
                }
            }
            if targets.isEmpty {
                return .answer(.upstreamFailed(problem ?? "no usable endpoint"))
            }
        }
        return .forward(ForwardRequest(
            head: outgoing, targets: targets, responseModifier: decision.responseHeaders,
            timeout: timeout(decision.timeouts), routeCounter: routeCounter(decision),
            summary: summary(decision, destination: destination)))
    }

    private func timeout(_ timeouts: HTTPRouteTimeouts?) -> TimeAmount? {
        let chosen = [timeouts?.request, timeouts?.backendRequest].compactMap { $0 }.filter { $0 > .zero }.min()
        if let chosen {
            let (seconds, attoseconds) = chosen.components
            return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        if timeouts?.request == .zero { return nil }
        return configuration.defaultResponseTimeout > .zero ? configuration.defaultResponseTimeout : nil
    }

    private func routeCounter(_ decision: RouteDecision) -> Counter? {
        guard decision.parent != nil else { return nil }
        let key = RouteCounterKey(parent: decision.parent, route: decision.route, backend: decision.backend)
        if let counter = routeCounters[key] { return counter }
        let route = decision.route.map { "\($0.namespace)/\($0.name)/\($0.rule)" } ?? "default"
        let counter = metrics.routeRequestTotal.labels(decision.parent?.description ?? "", route,
                                                       decision.backend?.description ?? "")
        if routeCounters.count < 256 { routeCounters[key] = counter }
        return counter
    }

    private func summary(_ decision: RouteDecision, destination: Destination) -> String {
        let route = decision.route.map { "route \($0.namespace)/\($0.name) rule \($0.rule)" } ?? "no route"
        return "\(destination): \(route) -> \(decision.backend?.description ?? destination.description)"
    }
}
