import SwitchyardModel

/// One `matches[]` entry of one rule, ready to test against requests.
///
/// Its `precedence` orders it against every other match attached to the same parent, so
/// the table can be sorted once and scanned first-match-wins.
struct CompiledMatch: Sendable {
    enum Path: Sendable {
        case exact(String)
        /// Normalised without a trailing slash ("" for "/"): matches whole segments.
        case prefix(String)
        case regex(MatchRegex)
    }

    enum Value: Sendable {
        case exact(String)
        case regex(MatchRegex)

        func matches(_ s: Substring) -> Bool {
            switch self {
            case .exact(let v): return s.utf8.elementsEqual(v.utf8)
            case .regex(let r): return r.matchesWhole(s)
            }
        }
    }

    let path: Path
    let method: String?
    /// Lower-cased header names.
    let headers: [(name: String, value: Value)]
    let queryParams: [(name: String, value: Value)]
    /// Index into the route set's compiled rules.
    let rule: Int
    let precedence: MatchPrecedence

    /// `position` is where the match is written: the route's place among the parent's routes
    /// (oldest, then alphabetical, first), the rule in the route, the match in the rule.
    init(_ match: HTTPRouteMatch, rule: Int, precedence position: (routeOrder: Int, rule: Int, match: Int)) {
        switch match.path.type {
        case .exact: path = .exact(match.path.value)
        case .pathPrefix:
            var v = match.path.value
            while v.hasSuffix("/") { v.removeLast() }
            path = .prefix(v)
        case .regularExpression:
            if let r = try? MatchRegex(match.path.value) { path = .regex(r) } else { path = .exact("\u{0}invalid") }
        }
        method = match.method?.uppercased()
        // Gateway API: only the first of several entries with an equivalent name counts.
        var seenHeaders = Set<String>()
        headers = match.headers.compactMap { h in
            let name = h.name.lowercased()
            guard seenHeaders.insert(name).inserted else { return nil }
            return (name, Self.value(h.type, h.value))
        }
        var seenQuery = Set<String>()
        queryParams = match.queryParams.compactMap { q in
            guard seenQuery.insert(q.name).inserted else { return nil }
            return (q.name, Self.value(q.type, q.value))
        }
        self.rule = rule
        let pathRank: Int
        switch match.path.type {
        case .exact: pathRank = 2
        case .regularExpression: pathRank = 1
        case .pathPrefix: pathRank = 0
        }
        let pathLength: Int
        if case .prefix(let v) = path { pathLength = v.utf8.count } else { pathLength = match.path.value.utf8.count }
        precedence = MatchPrecedence(pathRank: pathRank, pathLength: pathLength, hasMethod: method != nil,
                                     headerCount: headers.count, queryCount: queryParams.count,
                                     routeOrder: position.routeOrder, rule: position.rule, match: position.match)
    }

    private static func value(_ type: StringMatchType, _ value: String) -> Value {
        switch type {
        case .exact: return .exact(value)
        case .regularExpression:
            if let r = try? MatchRegex(value) { return .regex(r) }
            return .exact("\u{0}invalid")  // validation refuses these; never match if one slips through
        }
    }

    /// Whether the request satisfies every condition of this match.
    func matches(_ request: RouteRequest) -> Bool {
        // Paths compare byte for byte, as on the wire.
        let requestPath = request.pathOnly
        switch path {
        case .exact(let v):
            guard requestPath.utf8.elementsEqual(v.utf8) else { return false }
        case .prefix(let v):
            let bytes = requestPath.utf8
            guard bytes.starts(with: v.utf8) else { return false }
            let rest = bytes.dropFirst(v.utf8.count)
            guard rest.isEmpty || rest.first == UInt8(ascii: "/") else { return false }
        case .regex(let r):
            guard r.matchesWhole(requestPath) else { return false }
        }
        if let method, request.method != method { return false }
        for h in headers {
            guard let value = request.header(h.name), h.value.matches(value[...]) else { return false }
        }
        if !queryParams.isEmpty {
            let query = request.query ?? ""
            for q in queryParams {
                guard let value = Self.firstQueryValue(q.name, in: query), q.value.matches(value) else { return false }
            }
        }
        return true
    }

    /// The first value of query parameter `name`, percent-decoded when it needs it.
    static func firstQueryValue(_ name: String, in query: Substring) -> Substring? {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring
            let value: Substring
            if let eq = pair.firstIndex(of: "=") {
                key = pair[..<eq]
                value = pair[pair.index(after: eq)...]
            } else {
                key = pair
                value = ""
            }
            if Self.decode(key) == name[...] { return Self.decode(value) }
        }
        return nil
    }

    static func decode(_ s: Substring) -> Substring {
        guard s.contains(where: { $0 == "%" || $0 == "+" }) else { return s }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), it.count >= 2,
                      let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)[...]
    }
}
