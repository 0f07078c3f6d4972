import SwitchyardRouting

extension ProxyError {
    /// The answer the proxy makes for a router decision that does not forward, or nil when
    /// it forwards (200 with somewhere to send it) or redirects (3xx: the caller answers with
    /// `Location: decision.redirect`).
    ///
    /// - 404 (no rule matched) → `noRoute`, with the router's reason.
    /// - 500 (Service or port missing, no usable backendRef) → `invalidBackend`, with the router's reason.
    /// - 200 to a backend Service whose endpoints are empty → `noEndpoints`, naming the backend.
    ///   A 200 without a backend (a pod or an unknown address, passed through as addressed)
    ///   is never `noEndpoints`: it is sent to the address itself.
    /// - Any other status outside 2xx and 3xx → `invalidBackend` (the router gave no other
    ///   meaning to it; a new one should get its own case here).
    public init?(decision: RouteDecision) {
        switch decision.status {
        case 404:
            self = .noRoute(decision.reason ?? "no route matched")
        case 500:
            self = .invalidBackend(decision.reason ?? "invalid backend")
        case 200..<300:
            guard let backend = decision.backend, decision.endpoints.isEmpty else { return nil }
            self = .noEndpoints("Service \(backend.service.namespace)/\(backend.service.name) port \(backend.port) has no endpoints")
        case 300..<400:
            return nil
        default:
            self = .invalidBackend(decision.reason ?? "router answered \(decision.status)")
        }
    }
}
