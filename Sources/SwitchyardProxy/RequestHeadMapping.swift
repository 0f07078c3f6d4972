import NIOHTTP1
import SwitchyardModel
import SwitchyardRouting

/// Between NIOHTTP1's request and response heads and the router's `RouteRequest` and
/// `RouteDecision`.
///
/// The outbound proxy, per request: read what it needs from the client's head (keep-alive,
/// in ingress mode `IngressDestination`), strip it (`OutboundHeaders.prepare`), map it
/// (`routeRequest(from:)`), route it, then `apply(_:to:)` the decision's request onto the head
/// it sends upstream and `applyResponseHeaders(_:to:)` onto the response it relays back.
public enum RequestHeadMapping {
    /// The router's view of `head`: the method, the request target as the path (with its
    /// query), the header fields in order, and the scheme.
    ///
    /// - Origin-form (`/path?q`) is taken as it is; the scheme is `http` (the outbound
    ///   listener is plaintext; TLS from the app would not be parsed as HTTP).
    /// - Absolute-form (`http://host:port/path?q`, what a client configured to use a proxy
    ///   sends) becomes the path `/path?q`, the scheme of the target, and a `Host` holding
    ///   the target's authority in place of whatever `Host` came (RFC 9112 §3.2.2). A fragment
    ///   is dropped; a userinfo part (`user@host`) is refused.
    /// - Asterisk-form (`*`) is allowed with `OPTIONS` only, as the path `*`.
    ///
    /// Refused with `malformedRequest` (400): any other target (the authority-form of
    /// `CONNECT` included: the outbound proxy does not tunnel), an HTTP/1.1 request without
    /// `Host` (RFC 9112 §3.2), or any request with several `Host` fields.
    public static func routeRequest(from head: HTTPRequestHead) -> Result<RouteRequest, ProxyError> {
        var storage: [HTTPHeader] = []
        return routeRequest(from: head, reusing: &storage)
    }

    /// `routeRequest(from:)`, building the request's header array in `storage`'s buffer. A
    /// caller that keeps the array of its last request (`storage = request.headers` once it is
    /// done with it) and passes it back allocates no new array per request.
    public static func routeRequest(from head: HTTPRequestHead, reusing storage: inout [HTTPHeader]) -> Result<RouteRequest, ProxyError> {
        guard let target = RequestTarget(head.uri) else {
            return .failure(.malformedRequest("request target \(quoted(head.uri)) is not origin-form (/path) or absolute-form (http://host/path)"))
        }
        var headers: [HTTPHeader] = []
        swap(&headers, &storage)  // uniquely referenced now, if the caller let go of its last request
        headers.removeAll(keepingCapacity: true)
        headers.reserveCapacity(head.headers.count)
        var hostFields = 0
        for (name, value) in head.headers {
            if HopByHop.sameName(name, "host") { hostFields += 1 }
            headers.append(HTTPHeader(name: name, value: value))
        }
        let method = head.method.rawValue
        switch target {
        case .origin(let path):
            if let problem = hostProblem(fields: hostFields, version: head.version) { return .failure(problem) }
            return .success(RouteRequest(method: method, path: String(path), headers: headers, scheme: "http"))
        case .absolute(let scheme, let authority, let path):
            var request = RouteRequest(method: method, path: path, headers: headers, scheme: scheme)
            setHost(String(authority), in: &request)
            return .success(request)
        case .asterisk:
            guard head.method == .OPTIONS else {
                return .failure(.malformedRequest("request target * is only allowed with OPTIONS"))
            }
            if let problem = hostProblem(fields: hostFields, version: head.version) { return .failure(problem) }
            return .success(RouteRequest(method: method, path: "*", headers: headers, scheme: "http"))
        }
    }

    /// Makes `head` carry `request` (the decision's request, after filters): its method, its
    /// path as the (origin-form) request target, and its header fields in order. The
    /// version stays. Nothing is copied or rebuilt when a part is already the same, so a
    /// request no filter touched costs a comparison of the fields, not a new header block.
    public static func apply(_ request: RouteRequest, to head: inout HTTPRequestHead) {
        if head.method.rawValue != request.method { head.method = HTTPMethod(rawValue: request.method) }
        if head.uri != request.path { head.uri = request.path }
        if !sameFields(head.headers, request.headers) {
            head.headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        }
    }

    /// The head to send upstream for `decision`, from the client's (already stripped) `head`.
    public static func outgoingHead(for decision: RouteDecision, from head: HTTPRequestHead) -> HTTPRequestHead {
        var outgoing = head
        apply(decision.request, to: &outgoing)
        return outgoing
    }

    /// Applies a `ResponseHeaderModifier` to a response's fields, as the Gateway API says and
    /// in the router's order for requests: `set` replaces every field of the name with one
    /// (appended), `add` appends, `remove` removes every field of the name. Nil changes nothing.
    public static func apply(_ modifier: HTTPHeaderModifier?, toResponse headers: inout HTTPHeaders) {
        guard let modifier else { return }
        for h in modifier.set { headers.replaceOrAdd(name: h.name, value: h.value) }
        for h in modifier.add { headers.add(name: h.name, value: h.value) }
        for name in modifier.remove { headers.remove(name: name) }
    }

    /// Applies `decision.responseHeaders` to the fields of the response relayed back.
    public static func applyResponseHeaders(_ decision: RouteDecision, to headers: inout HTTPHeaders) {
        apply(decision.responseHeaders, toResponse: &headers)
    }

    /// Several `Host` fields, or none in HTTP/1.1 or later: a 400 (RFC 9112 §3.2).
    private static func hostProblem(fields: Int, version: HTTPVersion) -> ProxyError? {
        if fields > 1 { return .malformedRequest("several Host headers") }
        if fields == 0 && (version.major, version.minor) >= (1, 1) {
            return .malformedRequest("HTTP/\(version.major).\(version.minor) request without a Host header")
        }
        return nil
    }

    /// Replaces every `Host` field by one holding `authority`, where the first was (else first).
    static func setHost(_ authority: String, in request: inout RouteRequest) {
        if let first = request.headers.firstIndex(where: { HopByHop.sameName($0.name, "host") }) {
            request.headers[first].value = authority
            var i = request.headers.index(after: first)
            while i < request.headers.endIndex {
                if HopByHop.sameName(request.headers[i].name, "host") { request.headers.remove(at: i) } else { i += 1 }
            }
        } else {
            request.headers.insert(HTTPHeader(name: "Host", value: authority), at: 0)
        }
    }

    private static func sameFields(_ headers: HTTPHeaders, _ fields: [HTTPHeader]) -> Bool {
        guard headers.count == fields.count else { return false }
        for (field, other) in zip(headers, fields) where field.name != other.name || field.value != other.value {
            return false
        }
        return true
    }

    /// `uri` in quotes for a reason, cut to 100 characters.
    static func quoted(_ text: String) -> String {
        text.count > 100 ? "\"\(text.prefix(100))...\"" : "\"\(text)\""
    }
}
