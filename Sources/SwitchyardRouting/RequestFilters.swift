import SwitchyardModel

/// Applying HTTPRoute filters to the request model.
enum RequestFilters {
    /// Applies a header modifier to the request: set replaces, add appends, remove deletes.
    static func apply(_ modifier: HTTPHeaderModifier, to request: inout RouteRequest) {
        for h in modifier.set { request.setHeader(h.name, h.value) }
        for h in modifier.add { request.addHeader(h.name, h.value) }
        for name in modifier.remove { request.removeHeader(name) }
    }

    /// Appends `next` to an accumulated response modifier.
    static func merge(_ next: HTTPHeaderModifier, into existing: HTTPHeaderModifier?) -> HTTPHeaderModifier {
        guard var merged = existing else { return next }
        merged.set += next.set
        merged.add += next.add
        merged.remove += next.remove
        return merged
    }

    /// The path after a path modifier. `matchedPrefix` is the normalised PathPrefix the rule
    /// matched on (no trailing slash), used by ReplacePrefixMatch.
    static func rewrite(path: Substring, with modifier: HTTPPathModifier, matchedPrefix: String?) -> String {
        switch modifier {
        case .replaceFullPath(let full):
            return full
        case .replacePrefixMatch(let replacement):
            let prefix = matchedPrefix ?? ""
            let rest = path.hasPrefix(prefix) ? path.dropFirst(prefix.count) : path
            if rest.isEmpty { return replacement }
            var base = Substring(replacement)
            while base.hasSuffix("/") { base = base.dropLast() }
            let result = String(base) + rest
            return result.isEmpty ? "/" : result
        }
    }

    /// Replaces the path of `request` (keeping its query).
    static func setPath(_ newPath: String, of request: inout RouteRequest) {
        if let q = request.query { request.path = newPath + "?" + q } else { request.path = newPath }
    }

    /// The Location of a redirect, per the Gateway API: unspecified parts come from the
    /// request; the port defaults to the scheme's well-known port when the scheme changes, else
    /// to the port the request was addressed to, and is omitted when it is the scheme's default.
    static func location(_ redirect: HTTPRequestRedirect, request: RouteRequest, defaultHost: String,
                         listenerPort: Int, matchedPrefix: String?) -> String {
        let scheme = redirect.scheme ?? request.scheme
        let (requestHost, requestPort) = splitHostPort(request.authority ?? defaultHost)
        let host = redirect.hostname ?? requestHost
        let port: Int
        if let p = redirect.port {
            port = p
        } else if let s = redirect.scheme {
            port = s == "https" ? 443 : (s == "http" ? 80 : listenerPort)
        } else {
            port = requestPort ?? listenerPort
        }
        let defaultPort = scheme == "https" ? 443 : (scheme == "http" ? 80 : -1)
        var path = String(request.pathOnly)
        if let modifier = redirect.path { path = rewrite(path: request.pathOnly, with: modifier, matchedPrefix: matchedPrefix) }
        if let q = request.query { path += "?" + q }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(port == defaultPort ? "" : ":\(port)")\(path)"
    }

    /// Splits `host:port` (or `[v6]:port`); the port is nil when absent or not a number.
    static func splitHostPort(_ authority: String) -> (String, Int?) {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return (String(authority[..<colon]), Int(authority[authority.index(after: colon)...]))
        }
        return (authority, nil)
    }
}
