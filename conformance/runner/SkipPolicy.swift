import SwitchyardModel

/// When a test or case is not run, and why. Only for what a Service-parented mesh router does
/// not do (Gateway listeners, TLS termination, hostname-based route selection) or what is the
/// data plane's job (retries, timeouts, backend protocols); never because a case fails.
enum SkipPolicy {
    /// A reason to skip the whole test, decided from the test before anything is loaded.
    /// `routes` are the test's HTTPRoutes as written (Gateway parentRefs not yet rewritten).
    static func skip(test: ConformanceTest, routes: [RouteSummary], files: [ManifestFile],
                     gateways: [ResourceID: GatewayInfo]) -> String? {
        if test.cases.isEmpty {
            if test.features.contains("SupportHTTPRouteBackendProtocolWebSocket") {
                return "no request cases (WebSocket upgrade to an appProtocol kubernetes.io/ws backend: the data plane's job)"
            }
            return "no request cases: upstream only checks the route's status conditions (\(test.harnessCalls.isEmpty ? "no HTTP harness call" : test.harnessCalls.joined(separator: ", ")))"
        }
        if test.features.contains(where: { $0.hasPrefix("SupportHTTPRouteRetry") }) {
            return "retries are the data plane's job (the router only picks the rule and backend); the cases need an echo backend that fails on demand"
        }
        if let p = test.features.first(where: { $0.hasPrefix("SupportHTTPRouteBackendProtocol") }) {
            return "backend protocol (\(p.dropFirst("SupportHTTPRouteBackendProtocol".count))): speaking h2c/WebSocket to the backend is the data plane's job"
        }
        if test.cases.allSatisfy(isTLS) {
            return "HTTPS listener: TLS is terminated by a Gateway listener (SNI, certificates, 421 for misdirected requests); a Service parent has no listeners"
        }
        // A test that defines its own Gateway with listener hostnames is about those listeners.
        let defined = Set(files.flatMap(\.gateways).map(\.id))
        var named: [String] = []
        for id in routes.flatMap(\.parentRefs).filter(\.isGateway).map(\.parent) where defined.contains(id) {
            guard let g = gateways[id] else { continue }
            for l in g.listeners {
                guard let h = l.hostname else { continue }
                let text = "\(g.id.name)/\(l.name): \(l.protocol) \(l.port) \(h)"
                if !named.contains(text) { named.append(text) }
            }
        }
        if !named.isEmpty {
            return listenerHostnames(named)
        }
        for route in routes {
            for ref in route.parentRefs where ref.isGateway && ref.parent.namespace != route.id.namespace {
                return "Gateway allowedRoutes: HTTPRoute \(route.id) attaches to Gateway \(ref.parent) in another namespace, which is the listener's decision; for a Service parent such a route is a GAMMA consumer route (see MeshConsumerRoute)"
            }
        }
        return nil
    }

    static func listenerHostnames(_ listeners: [String]) -> String {
        "Gateway listener hostnames select the routes (\(listeners.joined(separator: ", "))); a Service parent has no listeners and GAMMA ignores hostnames"
    }

    /// A reason to skip the whole test because the loader refuses a filter the model does not have.
    static func unsupportedFilter(_ errors: ManifestErrors) -> String? {
        let kinds = ["CORS", "ExtensionRef", "ExternalAuth"]
        let named = errors.errors.compactMap { e -> String? in
            let text = (e.field ?? "") + " " + e.message
            return kinds.first { text.range(of: $0, options: .caseInsensitive) != nil }
        }
        guard named.count == errors.errors.count, let first = errors.errors.first else { return nil }
        return "the loader refuses the \(Set(named).sorted().joined(separator: "/")) filter (\(first))"
    }

    /// A reason to skip one case, decided before it is routed.
    static func skip(case c: ConformanceCase, listeners: [String]) -> String? {
        if isTLS(c) {
            return "HTTPS listener: the request is made over TLS to a Gateway HTTPS listener (TLS termination, SNI); a Service parent has no listeners"
        }
        if !listeners.isEmpty { return listenerHostnames(listeners) }
        if let q = c.request.query, q.split(separator: "&").contains(where: { $0.hasPrefix("delay=") }) {
            return "timeout enforcement: the echo backend delays its answer (\(q)) and the data plane must answer 504; the router only carries the rule's timeouts"
        }
        return nil
    }

    /// The routes on the parent whose `spec.hostnames` do not admit `host`: a Gateway would not
    /// use them for this request; a Service parent uses them (GAMMA ignores hostnames).
    static func routesExcludedByHostname(_ routes: [RouteSummary], host: String) -> [RouteSummary] {
        let bare = hostWithoutPort(host).lowercased()
        return routes.filter { r in !r.hostnames.isEmpty && !r.hostnames.contains { hostname($0, matches: bare) } }
    }

    /// Skip reason for a case whose answer depends on hostname-based route selection.
    static func hostnameDependent(_ excluded: [RouteSummary], host: String, with: String, without: String) -> String {
        let names = excluded.map { "\($0.id.name) (hostnames \($0.hostnames.joined(separator: ", ")))" }.joined(separator: "; ")
        return "depends on spec.hostnames: a Gateway would not use HTTPRoute \(names) for host \(hostWithoutPort(host)) "
            + "(answer \(without)); GAMMA ignores hostnames for Service parents, so Switchyard uses it (answer \(with))"
    }

    static func isTLS(_ c: ConformanceCase) -> Bool {
        c.invokedBy.contains { $0.contains("tls.MakeTLSRequest") } || c.request.protocol == "H2"
    }

    static func hostWithoutPort(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return String(host[...close]) }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return String(host[..<colon]) }
        return host
    }

    /// Gateway API hostname matching: exact, or `*.suffix` for one or more labels before suffix.
    static func hostname(_ pattern: String, matches host: String) -> Bool {
        let p = pattern.lowercased()
        if p.hasPrefix("*.") {
            let suffix = p.dropFirst(1)
            return host.hasSuffix(suffix) && host.count > suffix.count
        }
        return p == host
    }
}
