/// The request target of an HTTP/1 request line, in the forms a proxy meets (RFC 9112 §3.2).
enum RequestTarget: Equatable {
    /// `/path?query`: what clients send to an origin server (and through a transparent proxy).
    case origin(path: Substring)
    /// `http://authority/path?query`: what clients send to a proxy they know about. `path` is
    /// `/` when the target has none, and keeps the query.
    case absolute(scheme: String, authority: Substring, path: String)
    /// `*`, only with `OPTIONS`.
    case asterisk

    /// Parses `uri`; nil for anything else (authority-form of `CONNECT`, relative paths,
    /// schemes other than http and https, a userinfo part, an empty authority).
    init?(_ uri: String) {
        let utf8 = uri.utf8
        guard let first = utf8.first else { return nil }
        if first == UInt8(ascii: "/") {
            self = .origin(path: uri[...])
            return
        }
        if uri == "*" {
            self = .asterisk
            return
        }
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = uri[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = uri[colon...]
        guard rest.hasPrefix("://") else { return nil }
        let afterSlashes = rest.index(rest.startIndex, offsetBy: 3)
        let authorityEnd = rest[afterSlashes...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[afterSlashes..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var path = rest[authorityEnd...]
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }  // a fragment never goes on the wire
        self = .absolute(scheme: scheme, authority: authority, path: path.hasPrefix("/") ? String(path) : "/" + path)
    }
}
