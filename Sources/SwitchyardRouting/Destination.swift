import SwitchyardModel

/// Where a connection or request is addressed, resolved against the snapshot.
public enum Destination: Hashable, Sendable, CustomStringConvertible {
    /// A port of a Service (by name or ClusterIP): routed by its HTTPRoutes.
    case service(ParentKey)
    /// A pod's IP and port: sent to that pod, no routing.
    case pod(ResourceID, ip: String, port: Int)
    /// An address the snapshot does not know: passed through as addressed.
    case address(ip: String, port: Int)

    public var description: String {
        switch self {
        case .service(let p): return p.description
        case .pod(let id, let ip, let port): return "pod \(id) \(Endpoint.format(ip: ip, port: port))"
        case .address(let ip, let port): return Endpoint.format(ip: ip, port: port)
        }
    }
}

/// A destination string that names nothing usable.
public struct DestinationError: Error, CustomStringConvertible {
    public var destination: String
    public var message: String
    public var description: String { "destination \"\(destination)\": \(message)" }
}

extension Router {
    /// Resolves `name.ns:port`, `name.ns.svc[.<clusterDomain>]:port` or `IP:port` (`[v6]:port`).
    /// An IP is looked up as a ClusterIP, then as a pod IP; otherwise it passes through.
    public func resolve(destination: String) throws -> Destination {
        let (host, port) = RequestFilters.splitHostPort(destination)
        guard let port, (1...65535).contains(port) else {
            throw DestinationError(destination: destination, message: "expected HOST:PORT with a port in 1...65535")
        }
        if IPLiteral.isIPAddress(host) {
            if let service = snapshot.service(clusterIP: host) {
                guard service.port(port) != nil else {
                    throw DestinationError(destination: destination, message: "Service \(service.id) has no port \(port)")
                }
                return .service(ParentKey(service: service.id, port: port))
            }
            if let pod = snapshot.pod(ip: host) { return .pod(pod.id, ip: host, port: port) }
            return .address(ip: host, port: port)
        }
        var labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let suffix = ["svc"] + clusterDomain.split(separator: ".").map(String.init)
        if labels.count == 2 + suffix.count, Array(labels.suffix(suffix.count)) == suffix {
            labels.removeLast(suffix.count)
        } else if labels.count == 3, labels[2] == "svc" {
            labels.removeLast()
        }
        guard labels.count == 2, !labels[0].isEmpty, !labels[1].isEmpty else {
            throw DestinationError(destination: destination,
                                   message: "expected name.namespace:port, name.namespace.svc.\(clusterDomain):port or IP:port")
        }
        let id = ResourceID(namespace: labels[1], name: labels[0])
        guard let service = snapshot.services[id] else {
            throw DestinationError(destination: destination, message: "Service \(id) not found")
        }
        guard service.port(port) != nil else {
            throw DestinationError(destination: destination,
                                   message: "Service \(id) has no port \(port) (it has \(service.ports.map { String($0.port) }.joined(separator: ", ")))")
        }
        return .service(ParentKey(service: id, port: port))
    }

    /// Decides for any destination: Services are routed; pods and unknown addresses pass through.
    public func decide<G: RandomNumberGenerator>(_ request: RouteRequest, destination: Destination,
                                                 clientNamespace: String? = nil, using rng: inout G) -> RouteDecision {
        switch destination {
        case .service(let parent):
            return decide(request, parent: parent, clientNamespace: clientNamespace, using: &rng)
        case .pod(let id, let ip, let port):
            let pod = snapshot.pods[id]!
            let endpoint = Endpoint(ip: ip, port: port, pod: id, nodeName: pod.nodeName,
                                    meshed: snapshot.isMeshed(pod), identity: snapshot.identity(of: pod))
            return RouteDecision(status: 200, parent: nil, endpoints: [endpoint], request: request)
        case .address:
            return RouteDecision(status: 200, parent: nil, request: request)
        }
    }
}
