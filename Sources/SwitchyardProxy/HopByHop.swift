import NIOHTTP1

/// Removes the header fields that belong to one connection, not to the message, before a
/// message is forwarded (RFC 9110 §7.6.1), plus the mesh's own fields where the caller asks.
///
/// What is removed, and why:
/// - `Connection`, and every field its options name (any case, any spacing, several
///   `Connection` fields or a comma list in one). The one exception is `Host`: RFC 9110
///   forbids nominating a field meant for every recipient, HTTP/1.1 requires `Host` on
///   every request, and removing it would turn a misbehaving request into an invalid one.
///   The options `close` and `keep-alive` name no field; the proxy reads the client's
///   wish (`HTTPRequestHead.isKeepAlive`) before stripping and decides each hop itself.
/// - `Keep-Alive` (RFC 9112 §C.2.2, named by RFC 9110 §7.6.1) and `Proxy-Connection`
///   (never standard, still sent by old clients; RFC 9112 §C.2.2 says to treat it like
///   `Connection`).
/// - `TE`: hop-by-hop by definition (RFC 9110 §10.1.4). Upstream HTTP/1 hops are always
///   dropped of it, `TE: trailers` included: the proxy does not promise to forward trailers
///   over HTTP/1. (The HTTP/2 path sets `te: trailers` itself where gRPC needs it.)
/// - `Transfer-Encoding`: the proxy re-frames the body on each hop (NIOHTTP1's encoder
///   chooses chunked or `Content-Length`); `Content-Length` is end-to-end and stays.
/// - `Upgrade`, unless `keepingUpgrade` is true: when the proxy is relaying an upgrade
///   (WebSocket) the `Upgrade` fields stay and one `connection: upgrade` is emitted in place of
///   the removed `Connection` fields, which RFC 9110 §7.8 requires of a sender of `Upgrade`.
///
/// What stays, on purpose:
/// - `Proxy-Authenticate` and `Proxy-Authorization`. RFC 2616 listed them as hop-by-hop;
///   RFC 9110 §7.6.1 does not, and §11.7 says a proxy within the same administrative domain
///   may forward them. A transparent mesh proxy is not the proxy the client authenticates
///   with, so the credentials are for a proxy further on and must reach it.
/// - `Trailer` (end-to-end, RFC 9110 §6.6.2), `Content-Length`, and everything else.
///
/// Efficiency: one pass over the names that decides whether anything goes; when nothing
/// does, the headers are untouched and nothing is allocated. Otherwise one more pass copies
/// what stays into one array. The names of `Connection` options are kept only when they are
/// not already removed by name (not `close`, `keep-alive`, `upgrade`, `te`, ...), so the
/// common `Connection: keep-alive` or `close` allocates nothing for them.
public enum HopByHop {
    /// The mesh's own fields, removed when the caller asks (see `InboundHeaders`, `OutboundHeaders`).
    public struct MeshFields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `l5d-client-id`: set only by the inbound proxy from the verified mTLS identity.
        public static let clientID = MeshFields(rawValue: 1 << 0)
        /// `l5d-dst-override`: read by the outbound proxy in ingress mode, then dropped.
        public static let destinationOverride = MeshFields(rawValue: 1 << 1)
    }

    /// `l5d-client-id`.
    public static let clientIDName = "l5d-client-id"
    /// `l5d-dst-override`.
    public static let destinationOverrideName = "l5d-dst-override"

    /// The fields removed by name whatever `Connection` says (lower case): `connection`,
    /// `keep-alive`, `proxy-connection`, `te`, `transfer-encoding`, `upgrade`.
    public static let fieldNames = ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"]

    /// Removes the hop-by-hop fields of `headers` in place (see the type's documentation),
    /// and the mesh fields in `meshFields`. The order of what stays is kept.
    public static func strip(_ headers: inout HTTPHeaders, keepingUpgrade: Bool = false, meshFields: MeshFields = []) {
        var removeAny = false
        var upgradeKept = false
        var nominated: [Substring] = []
        for (name, value) in headers {
            switch kind(of: name) {
            case .other:
                continue
            case .connection:
                removeAny = true
                collectOptions(value, into: &nominated)
            case .fixed:
                removeAny = true
            case .upgrade:
                if keepingUpgrade { upgradeKept = true } else { removeAny = true }
            case .mesh(let field):
                if meshFields.contains(field) { removeAny = true }
            }
        }
        guard removeAny else { return }

        var kept: [(String, String)] = []
        kept.reserveCapacity(headers.count + (upgradeKept ? 1 : 0))
        for (name, value) in headers {
            switch kind(of: name) {
            case .connection, .fixed:
                continue
            case .upgrade:
                if !keepingUpgrade { continue }
            case .mesh(let field):
                if meshFields.contains(field) { continue }
            case .other:
                break
            }
            if !nominated.isEmpty, !sameName(name, "host"), nominated.contains(where: { sameName(name, $0) }) { continue }
            kept.append((name, value))
        }
        if upgradeKept { kept.append(("connection", "upgrade")) }
        headers = HTTPHeaders(kept)
    }

    /// A copy of `headers` with the hop-by-hop fields removed (see `strip(_:keepingUpgrade:meshFields:)`).
    public static func stripped(_ headers: HTTPHeaders, keepingUpgrade: Bool = false, meshFields: MeshFields = []) -> HTTPHeaders {
        var copy = headers
        strip(&copy, keepingUpgrade: keepingUpgrade, meshFields: meshFields)
        return copy
    }

    /// Whether `name` is removed by name whatever `Connection` says (one of `fieldNames`, any case).
    public static func isHopByHop(_ name: String) -> Bool {
        switch kind(of: name) {
        case .connection, .fixed, .upgrade: return true
        case .mesh, .other: return false
        }
    }

    /// Whether the message asks to upgrade the connection: a `Connection` option `upgrade`
    /// and at least one `Upgrade` field (RFC 9110 §7.8). The caller decides whether to relay
    /// it, and passes `keepingUpgrade: true` when it does.
    public static func requestsUpgrade(_ headers: HTTPHeaders) -> Bool {
        var option = false
        var field = false
        for (name, value) in headers {
            switch kind(of: name) {
            case .upgrade:
                field = true
            case .connection:
                if !option { forEachOption(value) { if sameName($0, "upgrade") { option = true } } }
            default:
                break
            }
        }
        return option && field
    }

    // MARK: - Classification

    enum Kind: Equatable {
        case other, connection, fixed, upgrade
        case mesh(MeshFields)
    }

    /// What `name` is, by its length first so that most names cost one comparison of counts.
    static func kind(of name: some StringProtocol) -> Kind {
        switch name.utf8.count {
        case 2: return sameName(name, "te") ? .fixed : .other
        case 7: return sameName(name, "upgrade") ? .upgrade : .other
        case 10:
            if sameName(name, "connection") { return .connection }
            return sameName(name, "keep-alive") ? .fixed : .other
        case 13: return sameName(name, clientIDName) ? .mesh(.clientID) : .other
        case 16:
            if sameName(name, "proxy-connection") { return .fixed }
            return sameName(name, destinationOverrideName) ? .mesh(.destinationOverride) : .other
        case 17: return sameName(name, "transfer-encoding") ? .fixed : .other
        default: return .other
        }
    }

    /// Keeps the options of a `Connection` value that name a field not already removed by name.
    private static func collectOptions(_ value: String, into nominated: inout [Substring]) {
        forEachOption(value) { option in
            switch kind(of: option) {
            case .connection, .fixed, .upgrade: return
            case .mesh, .other:
                if sameName(option, "close") { return }
                nominated.append(option)
            }
        }
    }

    /// Calls `body` with each non-empty element of a comma-separated list, without the
    /// optional whitespace (space, tab) around it.
    static func forEachOption(_ value: String, _ body: (Substring) -> Void) {
        let utf8 = value.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: ",")) ?? utf8.endIndex
            var lo = start
            var hi = end
            while lo < hi, utf8[lo] == 0x20 || utf8[lo] == 0x09 { lo = utf8.index(after: lo) }
            while hi > lo, utf8[utf8.index(before: hi)] == 0x20 || utf8[utf8.index(before: hi)] == 0x09 { hi = utf8.index(before: hi) }
            if lo < hi { body(value[lo..<hi]) }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
        }
    }

    /// ASCII case-insensitive equality of field names, without allocating. Native strings
    /// (every field NIOHTTP1 parses) compare over their contiguous bytes; others byte by byte.
    static func sameName(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        if let equal = a.utf8.withContiguousStorageIfAvailable({ x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for i in 0..<x.count where x[i] != y[i] && lower(x[i]) != lower(y[i]) { return false }
                return true
            }
        }), let equal {
            return equal
        }
        return a.utf8.elementsEqual(b.utf8) { x, y in x == y || lower(x) == lower(y) }
    }

    @inline(__always)
    private static func lower(_ c: UInt8) -> UInt8 { c &- 0x41 < 26 ? c | 0x20 : c }
}
