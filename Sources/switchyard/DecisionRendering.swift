import SwitchyardModel
import SwitchyardRouting

/// The two forms of `switchyard route` output: the JSON contract of the design, and text.
enum DecisionRendering {
    /// One object: status, parent, route, backend, candidates, endpoints, request,
    /// responseHeaders, redirect (the design's contract), then reason and timeouts.
    static func json(_ d: RouteDecision) -> JSONValue {
        var fields: [(String, JSONValue)] = [("status", .int(d.status))]
        fields.append(("parent", d.parent.map { service($0.service, port: $0.port) } ?? .null))
        fields.append(("route", d.route.map(route) ?? .null))
        fields.append(("backend", d.backend.map { service($0.service, port: $0.port) } ?? .null))
        fields.append(("candidates", .array(d.candidates.map(candidate))))
        fields.append(("endpoints", .array(d.endpoints.map { .string($0.description) })))
        fields.append(("request", .object([("method", .string(d.request.method)), ("path", .string(d.request.path)),
                                           ("headers", headers(d.request.headers))])))
        fields.append(("responseHeaders", d.responseHeaders.map(modifier) ?? .null))
        fields.append(("redirect", d.redirect.map { .object([("location", .string($0))]) } ?? .null))
        fields.append(("reason", d.reason.map { .string($0) } ?? .null))
        fields.append(("timeouts", d.timeouts.map(timeouts) ?? .null))
        return .object(fields)
    }

    private static func service(_ id: ResourceID, port: Int) -> JSONValue {
        .object([("namespace", .string(id.namespace)), ("name", .string(id.name)), ("port", .int(port))])
    }

    private static func route(_ r: RouteReference) -> JSONValue {
        .object([("group", .string(r.group)), ("kind", .string(r.kind)), ("namespace", .string(r.namespace)), ("name", .string(r.name)),
                 ("rule", .int(r.rule))])
    }

    private static func candidate(_ c: BackendCandidate) -> JSONValue {
        let port: JSONValue = c.port.map { .int($0) } ?? .null
        return .object([("namespace", .string(c.namespace)), ("name", .string(c.name)), ("port", port),
                        ("weight", .int(c.weight)), ("valid", .bool(c.invalidReason == nil))])
    }

    private static func headers(_ list: [HTTPHeader]) -> JSONValue {
        .array(list.map { .array([.string($0.name), .string($0.value)]) })
    }

    private static func modifier(_ m: HTTPHeaderModifier) -> JSONValue {
        .object([("set", headers(m.set)), ("add", headers(m.add)), ("remove", .array(m.remove.map { .string($0) }))])
    }

    private static func timeouts(_ t: HTTPRouteTimeouts) -> JSONValue {
        let request: JSONValue = t.request.map { .string(format($0)) } ?? .null
        let backend: JSONValue = t.backendRequest.map { .string(format($0)) } ?? .null
        return .object([("request", request), ("backendRequest", backend)])
    }

    static func text(_ d: RouteDecision, destination: Destination) -> String {
        var out = "\(d.request.method) \(d.request.path) -> \(destination)\n"
        let meaning: String
        switch d.status {
        case 200: meaning = d.endpoints.isEmpty && d.backend != nil ? "forwarded (no endpoints: the proxy would answer 503)" : "forwarded"
        case 300..<400: meaning = "redirect"
        default: meaning = d.reason ?? ""
        }
        out += "  status:    \(d.status) \(meaning)\n"
        if let route = d.route {
            out += "  route:     \(route.group) \(route.kind) \(route.namespace)/\(route.name), rule \(route.rule)\(route.ruleName.map { " (\($0))" } ?? "")\n"
        } else if d.parent != nil, d.status == 200 {
            out += "  route:     none attached; to the Service itself\n"
        }
        if !d.candidates.isEmpty {
            let list = d.candidates.map { c in
                "\(c.name).\(c.namespace):\(c.port.map(String.init) ?? "?") weight \(c.weight)\(c.invalidReason.map { " (invalid: \($0))" } ?? "")"
            }
            out += "  candidates: \(list.joined(separator: ", "))\n"
        }
        if let backend = d.backend { out += "  backend:   \(backend)\n" }
        if !d.endpoints.isEmpty {
            let list = d.endpoints.map { e -> String in
                // A hand-managed endpoint (EndpointSlice) may have no pod, and then no identity.
                let pod = e.pod.map { " \($0.name)" } ?? " (no pod)"
                if e.meshed, let identity = e.identity { return "\(e)\(pod) meshed as \(identity)" }
                return "\(e)\(pod) unmeshed"
            }
            out += "  endpoints: \(list.joined(separator: "\n             "))\n"
        }
        if let location = d.redirect { out += "  location:  \(location)\n" }
        if let t = d.timeouts {
            out += "  timeouts:  request \(t.request.map(format) ?? "none"), backendRequest \(t.backendRequest.map(format) ?? "none")\n"
        }
        if d.status == 200 {
            out += "  upstream request:\n    \(d.request.method) \(d.request.path)\n"
            for h in d.request.headers { out += "    \(h.name): \(h.value)\n" }
        }
        if let m = d.responseHeaders {
            for h in m.set { out += "  response set: \(h.name): \(h.value)\n" }
            for h in m.add { out += "  response add: \(h.name): \(h.value)\n" }
            for n in m.remove { out += "  response remove: \(n)\n" }
        }
        return out
    }

    /// A Duration in Gateway API form (`1h2m3s`, `500ms`).
    static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        var s = ms / 1000
        var out = ""
        if s >= 3600 { out += "\(s / 3600)h"; s %= 3600 }
        if s >= 60 { out += "\(s / 60)m"; s %= 60 }
        if s > 0 || out.isEmpty { out += "\(s)s" }
        return out
    }
}
