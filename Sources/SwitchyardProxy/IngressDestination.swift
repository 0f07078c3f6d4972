import NIOHTTP1
import SwitchyardRouting

/// Where a request goes in `--ingress-mode`, when no `SO_ORIGINAL_DST` says it: from the
/// request itself, per request.
///
/// The sources, first found wins:
/// 1. `l5d-dst-override` (what Linkerd's ingress integrations set);
/// 2. the authority of an absolute-form request target (`GET http://host:port/ ...`), which
///    RFC 9112 §3.2.2 puts before `Host`;
/// 3. `Host`.
///
/// Each may be `name.ns.svc.cluster.local:port` (the router's cluster domain),
/// `name.ns.svc:port`, `name.ns:port`, `IP:port` or `[IPv6]:port`, resolved by
/// `Router.resolve(destination:)`. Without a port, port 80 is used: Linkerd's proxy does the
/// same for both headers (its ingress default port), and clients leave `:80` out of `Host`
/// (an absolute `https://` target defaults to 443). Names are DNS names: compared in lower
/// case, and a trailing dot (`name.ns.svc.cluster.local.`) is dropped.
///
/// Any value that cannot be used (repeated, empty, not one of those forms, naming a Service
/// or port the snapshot lacks) is a `malformedRequest` (400) whose reason names the header
/// and quotes the value. The caller removes `l5d-dst-override` afterwards (`OutboundHeaders`).
public enum IngressDestination {
    /// The port of a value that names none.
    public static let defaultPort = 80

    /// Where a request names its destination: the field it came from, its value (trimmed, as
    /// sent), and the port used when the value names none.
    public struct Source: Sendable {
        /// `l5d-dst-override`, `request target` or `Host`: for messages.
        public var field: String
        public var value: Substring
        public var defaultPort: Int
    }

    /// The destination of `head` in ingress mode, or why there is none.
    public static func resolve(head: HTTPRequestHead, router: Router) -> Result<Destination, ProxyError> {
        switch source(of: head) {
        case .failure(let error): return .failure(error)
        case .success(let source): return resolve(source, router: router)
        }
    }

    /// Which field of `head` names its destination (the first of the sources above), or why none does.
    public static func source(of head: HTTPRequestHead) -> Result<Source, ProxyError> {
        switch value(of: HopByHop.destinationOverrideName, in: head.headers) {
        case .failure(let error): return .failure(error)
        case .success(let override?):
            return .success(Source(field: HopByHop.destinationOverrideName, value: override, defaultPort: defaultPort))
        case .success(nil):
            if head.uri.utf8.first != UInt8(ascii: "/"), case .absolute(let scheme, let authority, _) = RequestTarget(head.uri) {
                return .success(Source(field: "request target", value: authority, defaultPort: scheme == "https" ? 443 : defaultPort))
            }
            switch value(of: "host", in: head.headers) {
            case .failure(let error): return .failure(error)
            case .success(let host?): return .success(Source(field: "Host", value: host, defaultPort: defaultPort))
            case .success(nil):
                return .failure(.malformedRequest("ingress mode: no \(HopByHop.destinationOverrideName) or Host header names a destination"))
            }
        }
    }

    /// Resolves what `source` names against `router`'s snapshot.
    public static func resolve(_ source: Source, router: Router) -> Result<Destination, ProxyError> {
        let destination = normalized(source.value, defaultPort: source.defaultPort)
        do {
            return .success(try router.resolve(destination: destination))
        } catch let error as DestinationError {
            return .failure(.malformedRequest("\(source.field) \(RequestHeadMapping.quoted(String(source.value))): \(error.message)"))
        } catch {
            return .failure(.malformedRequest("\(source.field) \(RequestHeadMapping.quoted(String(source.value))): \(error)"))
        }
    }

    /// The one value of field `name` without surrounding whitespace; nil when absent;
    /// a failure when repeated or empty.
    static func value(of name: String, in headers: HTTPHeaders) -> Result<Substring?, ProxyError> {
        var found: Substring?
        for (field, value) in headers where HopByHop.sameName(field, name) {
            guard found == nil else { return .failure(.malformedRequest("several \(displayName(name)) headers")) }
            var trimmed = value[...]
            while let c = trimmed.utf8.first, c == 0x20 || c == 0x09 { trimmed = trimmed.dropFirst() }
            while let c = trimmed.utf8.last, c == 0x20 || c == 0x09 { trimmed = trimmed.dropLast() }
            guard !trimmed.isEmpty else { return .failure(.malformedRequest("empty \(displayName(name)) header")) }
            found = trimmed
        }
        return .success(found)
    }

    /// `value` in lower case, without a trailing dot on the name, with `:defaultPort` when it names no port.
    static func normalized(_ value: Substring, defaultPort: Int) -> String {
        var text = value.lowercased()
        let hasPort: Bool
        if text.hasPrefix("[") {
            // "]:" anywhere (a byte scan: Foundation's `contains` is far slower per request).
            hasPort = zip(text.utf8, text.utf8.dropFirst()).contains { $0 == UInt8(ascii: "]") && $1 == UInt8(ascii: ":") }
        } else {
            let colons = text.utf8.count { $0 == UInt8(ascii: ":") }
            hasPort = colons == 1
            if colons > 1 { return text }  // an unbracketed IPv6 address: the router says why not
        }
        if hasPort {
            let colon = text.lastIndex(of: ":")!
            if colon > text.startIndex, text[text.index(before: colon)] == "." {
                text.remove(at: text.index(before: colon))
            }
            return text
        }
        if text.hasSuffix(".") { text.removeLast() }
        return "\(text):\(defaultPort)"
    }

    private static func displayName(_ name: String) -> String { name == "host" ? "Host" : name }
}
