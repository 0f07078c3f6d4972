import SwitchyardModel
import SwitchyardRouting

/// What the client and the echo backend would see for one routed request, derived from the
/// router's decision: the status, the pod that answered, the request as it reached that pod,
/// the response headers after the route's ResponseHeaderModifiers, the redirect Location.
struct Observation {
    var decision: RouteDecision
    var status: Int
    /// The pod that served the request (an endpoint of the chosen backend); nil when nothing was
    /// forwarded.
    var pod: ResourceID?
    /// The request as the backend receives it.
    var backendRequest: RouteRequest
    /// The backend's response headers (`backend_set_response_headers`) after the decision's
    /// response header modifier.
    var responseHeaders: [HTTPHeader]
    var location: String?
    /// Why the client would see something other than the router's status.
    var note: String?

    init<G: RandomNumberGenerator>(_ decision: RouteDecision, backendResponseHeaders: [HTTPHeader], using rng: inout G) {
        self.decision = decision
        status = decision.status
        backendRequest = decision.request
        location = decision.redirect
        responseHeaders = []
        if decision.status == 200 {
            if decision.endpoints.isEmpty {
                // The data plane has nowhere to send it.
                status = 503
                note = "the router forwards to \(decision.backend.map(\.description) ?? "?") but it has no endpoints"
            } else {
                pod = decision.endpoints[Int.random(in: 0..<decision.endpoints.count, using: &rng)].pod
                var headers = backendResponseHeaders
                if let modifier = decision.responseHeaders { Self.apply(modifier, to: &headers) }
                responseHeaders = headers
            }
        }
    }

    /// Set replaces every field of that name, add appends a field, remove deletes every field of
    /// that name; names compare case-insensitively.
    static func apply(_ modifier: HTTPHeaderModifier, to headers: inout [HTTPHeader]) {
        for h in modifier.set {
            if let i = headers.firstIndex(where: { $0.name.lowercased() == h.name.lowercased() }) {
                headers[i] = h
                headers = headers.enumerated().filter { $0.offset <= i || $0.element.name.lowercased() != h.name.lowercased() }.map(\.element)
            } else {
                headers.append(h)
            }
        }
        for h in modifier.add { headers.append(h) }
        for name in modifier.remove { headers.removeAll { $0.name.lowercased() == name.lowercased() } }
    }

    /// Every value of header `name` (case-insensitive), in order.
    static func values(_ name: String, in headers: [HTTPHeader]) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// One line for a failure report.
    var summary: String {
        var parts = ["status \(decision.status)"]
        if status != decision.status { parts[0] += " (client sees \(status))" }
        if let route = decision.route { parts.append("route \(route.namespace)/\(route.name) rule \(route.rule)") }
        else { parts.append("no route") }
        if let b = decision.backend { parts.append("backend \(b)") }
        if !decision.candidates.isEmpty {
            parts.append("candidates [" + decision.candidates.map {
                "\($0.namespace)/\($0.name):\($0.port.map(String.init) ?? "-") w\($0.weight)\($0.invalidReason.map { " (\($0))" } ?? "")"
            }.joined(separator: ", ") + "]")
        }
        if let pod { parts.append("pod \(pod)") }
        parts.append("upstream request \(backendRequest.method) \(backendRequest.path) {"
                     + backendRequest.headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ") + "}")
        if let m = decision.responseHeaders {
            parts.append("response modifier {set \(m.set.map { "\($0.name)=\($0.value)" }) add \(m.add.map { "\($0.name)=\($0.value)" }) remove \(m.remove)}")
        }
        if let location { parts.append("Location \(location)") }
        if !decision.mirrors.isEmpty { parts.append("mirrors \(decision.mirrors.map(\.description))") }
        if let reason = decision.reason { parts.append("reason: \(reason)") }
        if let note { parts.append(note) }
        return parts.joined(separator: ", ")
    }
}
