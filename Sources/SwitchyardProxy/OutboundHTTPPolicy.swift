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
    /// The snapshot generation the caches below were filled under.
    private var cacheGeneration = 0
    /// Ingress mode: the last destination named, and what it resolved to.
    private var resolvedIngress: (field: String, value: String, defaultPort: Int, result: Result<Destination, ProxyError>)?
    /// What recent decisions led to (see `route(_:destination:router:)`).
    private var routes: [Route] = []
    /// The header array of the last `RouteRequest`, reused by the next.
    private var headerStorage: [HTTPHeader] = []
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
        if generation != cacheGeneration {
            cacheGeneration = generation
            resolvedIngress = nil
            routes.removeAll(keepingCapacity: true)
        }
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
            switch ingressDestination(head, router: router) {
            case .failure(let error): return .answer(error)
            case .success(.address(let ip, let port)):
                return .answer(.malformedRequest("ingress mode: \(Endpoint.format(ip: ip, port: port)) is not a Service or pod of the mesh"))
            case .success(let resolved): destination = resolved
            }
        }
        var head = head
        OutboundHeaders.prepare(&head.headers, keepingUpgrade: HopByHop.requestsUpgrade(head.headers))
        let request: RouteRequest
        switch RequestHeadMapping.routeRequest(from: head, reusing: &headerStorage) {
        case .failure(let error): return .answer(error)
        case .success(let r): request = r
        }
        // Once this plan is made nothing else holds the array: the next request reuses it.
        defer { headerStorage = request.headers }
        let decision = router.decide(request, destination: destination, clientNamespace: source?.namespace, using: &rng)
        if let error = ProxyError(decision: decision) { return .answer(error) }
        if (300..<400).contains(decision.status), let location = decision.redirect {
            return .redirect(status: decision.status, location: location)
        }
        let outgoing = RequestHeadMapping.outgoingHead(for: decision, from: head)
        let route = self.route(decision, destination: destination, router: router)
        guard !route.targets.isEmpty else { return .answer(.upstreamFailed(route.problem ?? "no usable endpoint")) }
        return .forward(ForwardRequest(
            head: outgoing, targets: route.targets, responseModifier: decision.responseHeaders,
            timeout: route.timeout, routeCounter: route.counter, summary: route.summary))
    }

    /// The ingress-mode destination of `head`. The value that named the last one is kept with
    /// what it resolved to (for the snapshot in force): requests on a keep-alive connection
    /// nearly always name the same destination, and resolving parses, lower-cases and splits.
    private func ingressDestination(_ head: HTTPRequestHead, router: Router) -> Result<Destination, ProxyError> {
        let source: IngressDestination.Source
        switch IngressDestination.source(of: head) {
        case .failure(let error): return .failure(error)
        case .success(let s): source = s
        }
        if let cached = resolvedIngress, cached.defaultPort == source.defaultPort, cached.field == source.field,
           cached.value.utf8.elementsEqual(source.value.utf8) {
            return cached.result
        }
        let result = IngressDestination.resolve(source, router: router)
        resolvedIngress = (source.field, String(source.value), source.defaultPort, result)
        return result
    }

    /// What a decision leads to once per (destination, route rule, backend) and snapshot: the
    /// upstream targets of its endpoints, its timeout, its route counter and its summary.
    private struct Route {
        var destination: Destination
        var route: RouteReference?
        var backend: BackendTarget?
        var targets: [UpstreamTarget]
        /// Why an endpoint could not be used, when one could not.
        var problem: String?
        var timeout: TimeAmount?
        var counter: Counter?
        var summary: String
    }

    /// The `Route` for `decision`, from the cache when this connection has seen it under the
    /// snapshot in force (at most `maxCachedRoutes` are kept).
    private func route(_ decision: RouteDecision, destination: Destination, router: Router) -> Route {
        let reference = decision.route
        for cached in routes where cached.backend == decision.backend && cached.route == reference
            && cached.destination == destination {
            return cached
        }
        var targets: [UpstreamTarget] = []
        var problem: String?
        if decision.endpoints.isEmpty, case .address(let ip, let port) = destination,
           let endpoint = IPEndpoint("\(Endpoint.format(ip: ip, port: port))") {
            targets = [UpstreamTarget(endpoint: endpoint, dial: endpoint, peerIdentity: nil, sourceIdentity: nil)]
        } else {
            targets.reserveCapacity(decision.endpoints.count)
            let snapshot = router.snapshot
            for endpoint in decision.endpoints {
                switch UpstreamTarget.make(for: endpoint, snapshot: snapshot, configuration: configuration, sourceIdentity: source?.identity) {
                case .success(let t): targets.append(t)
                case .failure(let reason): problem = reason.message
                }
            }
        }
        let route = Route(destination: destination, route: reference, backend: decision.backend, targets: targets,
                          problem: problem, timeout: timeout(decision.timeouts), counter: routeCounter(decision),
                          summary: summary(decision, destination: destination))
        if routes.count >= Self.maxCachedRoutes { routes.removeAll(keepingCapacity: true) }
        routes.append(route)
        return route
    }

    private static let maxCachedRoutes = 16

    private func timeout(_ timeouts: HTTPRouteTimeouts?) -> TimeAmount? {
        var chosen: Duration?
        for candidate in [timeouts?.request, timeouts?.backendRequest] {
            if let candidate, candidate > .zero, chosen.map({ candidate < $0 }) ?? true { chosen = candidate }
        }
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
