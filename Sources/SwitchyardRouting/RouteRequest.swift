import SwitchyardModel

/// A request head as the router sees it: method, path with query, headers in order.
public struct RouteRequest: Hashable, Sendable {
    /// Upper-case method, e.g. `GET`.
    public var method: String
    /// Path with optional query, as on the request line: `/echo?x=1`.
    public var path: String
    /// Header fields in order; names keep their case, compare case-insensitively.
    public var headers: [HTTPHeader]
    /// `http` or `https`; what a redirect keeps when it does not set a scheme.
    public var scheme: String

    public init(method: String = "GET", path: String = "/", headers: [HTTPHeader] = [], scheme: String = "http") {
        self.method = method
        self.path = path
        self.headers = headers
        self.scheme = scheme
    }

    /// The path without the query.
    public var pathOnly: Substring {
        if let q = path.utf8.firstIndex(of: UInt8(ascii: "?")) { return path[..<q] }
        return path[...]
    }

    /// The raw query (after `?`), or nil.
    public var query: Substring? {
        guard let q = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return path[path.utf8.index(after: q)...]
    }

    /// The value of header `name` (case-insensitive); several fields are joined with `,`.
    public func header(_ name: String) -> String? {
        var result: String?
        for field in headers where Self.sameName(field.name, name) {
            if let r = result { result = r + "," + field.value } else { result = field.value }
        }
        return result
    }

    /// Header names compare ASCII case-insensitively, without allocating.
    static func sameName(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        if let equal = a.utf8.withContiguousStorageIfAvailable({ x in
            b.utf8.withContiguousStorageIfAvailable { y in Self.asciiCaseInsensitiveEqual(x, y) }
        }), let equal { return equal }
        return a.utf8.elementsEqual(b.utf8) { asciiLower($0) == asciiLower($1) }
    }

    private static func asciiCaseInsensitiveEqual(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<x.count where x[i] != y[i] && asciiLower(x[i]) != asciiLower(y[i]) { return false }
        return true
    }

    @inline(__always)
    private static func asciiLower(_ c: UInt8) -> UInt8 {
        c &- 0x41 < 26 ? c | 0x20 : c
    }

    /// Host from the `Host` header (or `:authority`), if any.
    public var authority: String? { header("host") ?? header(":authority") }

    /// Replaces every field named `name` by one with `value`, in place of the first.
    public mutating func setHeader(_ name: String, _ value: String) {
        if let first = headers.firstIndex(where: { Self.sameName($0.name, name) }) {
            headers[first] = HTTPHeader(name: name, value: value)
            var i = headers.index(after: first)
            while i < headers.endIndex {
                if Self.sameName(headers[i].name, name) { headers.remove(at: i) } else { i += 1 }
            }
        } else {
            headers.append(HTTPHeader(name: name, value: value))
        }
    }

    /// Appends a field (`add` of a header modifier).
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append(HTTPHeader(name: name, value: value))
    }

    /// Removes every field named `name`.
    public mutating func removeHeader(_ name: String) {
        headers.removeAll { Self.sameName($0.name, name) }
    }
}
