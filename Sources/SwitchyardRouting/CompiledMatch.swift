import SwitchyardModel

/// One `matches[]` entry of one rule, ready to test against requests.
///
/// Its `precedence` orders it against every other match attached to the same parent, so
/// the table can be sorted once and scanned first-match-wins.
/// A final class so that scanning a table borrows each match instead of copying it.
final class CompiledMatch: Sendable {
    enum PathKind: Sendable {
        case exact
        /// `pathValue` is normalised without a trailing slash ("" for "/"): matches whole segments.
        case prefix
        case regex
        /// A GRPCRoute match: `grpc` tests the path (nil: every path).
        case grpc
    }

    /// A header or query parameter condition: its name and an exact value or a regex.
    final class Condition: Sendable {
        let name: String
        let exact: String?
        let regex: MatchRegex?

        init(name: String, type: StringMatchType, value: String) {
            self.name = name
            switch type {
            case .exact:
                exact = value
                regex = nil
            case .regularExpression:
                regex = try? MatchRegex(value)
                // validation refuses bad patterns; one that slips through never matches
                exact = regex == nil ? "\u{0}invalid" : nil
            }
        }

        func matches(_ s: Substring) -> Bool {
            if let exact { return Bytes.equal(s, exact) }
            return regex!.matchesWhole(s)
        }
    }

    let pathKind: PathKind
    let pathValue: String
    let pathRegex: MatchRegex?
    /// The service/method condition of a GRPCRoute match (`pathKind == .grpc`).
    let grpc: GRPCMethodMatcher?
    let method: String?
    /// Header conditions, names lower-cased.
    let headers: [Condition]
    let queryParams: [Condition]
    /// Index into the route set's compiled rules.
    let rule: Int
    let precedence: MatchPrecedence

    /// `position` is where the match is written: the route's place among the parent's routes
    /// (oldest, then alphabetical, first), the rule in the route, the match in the rule.
    init(_ match: HTTPRouteMatch, rule: Int, precedence position: (routeOrder: Int, rule: Int, match: Int)) {
        switch match.path.type {
        case .exact:
            (pathKind, pathValue, pathRegex) = (.exact, match.path.value, nil)
        case .pathPrefix:
            var v = match.path.value
            while v.hasSuffix("/") { v.removeLast() }
            (pathKind, pathValue, pathRegex) = (.prefix, v, nil)
        case .regularExpression:
            if let r = try? MatchRegex(match.path.value) {
                (pathKind, pathValue, pathRegex) = (.regex, match.path.value, r)
            } else {  // validation refuses bad patterns; one that slips through never matches
                (pathKind, pathValue, pathRegex) = (.exact, "\u{0}invalid", nil)
            }
        }
        grpc = nil
        method = match.method?.uppercased()
        // Gateway API: only the first of several entries with an equivalent name counts.
        var seenHeaders = Set<String>()
        headers = match.headers.compactMap { h in
            let name = h.name.lowercased()
            guard seenHeaders.insert(name).inserted else { return nil }
            return Condition(name: name, type: h.type, value: h.value)
        }
        var seenQuery = Set<String>()
        queryParams = match.queryParams.compactMap { q in
            guard seenQuery.insert(q.name).inserted else { return nil }
            return Condition(name: q.name, type: q.type, value: q.value)
        }
        self.rule = rule
        let pathRank: Int
        switch match.path.type {
        case .exact: pathRank = 2
        case .regularExpression: pathRank = 1
        case .pathPrefix: pathRank = 0
        }
        let pathLength: Int
        pathLength = pathKind == .prefix ? pathValue.utf8.count : match.path.value.utf8.count
        precedence = MatchPrecedence(pathRank: pathRank, pathLength: pathLength, hasMethod: method != nil,
                                     headerCount: headers.count, queryCount: queryParams.count,
                                     routeOrder: position.routeOrder, rule: position.rule, match: position.match)
    }

    /// A GRPCRoute match. Its precedence follows the GRPCRoute spec: more characters in the
    /// service, then in the method (a RegularExpression counts its pattern's characters, and
    /// loses to an Exact match of the same lengths), then more header matches, then
    /// `position` as for HTTPRoute matches.
    init(grpc match: GRPCRouteMatch, rule: Int, precedence position: (routeOrder: Int, rule: Int, match: Int)) {
        pathKind = .grpc
        pathValue = ""
        pathRegex = nil
        grpc = match.method.map(GRPCMethodMatcher.init)
        method = nil
        var seenHeaders = Set<String>()
        headers = match.headers.compactMap { h in
            let name = h.name.lowercased()
            guard seenHeaders.insert(name).inserted else { return nil }
            return Condition(name: name, type: h.type, value: h.value)
        }
        queryParams = []
        self.rule = rule
        let rpc = match.method
        precedence = MatchPrecedence(pathRank: 0, pathLength: 0,
                                     rpcServiceLength: rpc?.service?.utf8.count ?? 0,
                                     rpcMethodLength: rpc?.method?.utf8.count ?? 0,
                                     rpcExact: rpc.map { $0.type == .exact && ($0.service != nil || $0.method != nil) } ?? false,
                                     hasMethod: false, headerCount: headers.count, queryCount: 0,
                                     routeOrder: position.routeOrder, rule: position.rule, match: position.match)
    }

    /// Whether the request satisfies every condition of this match.
    func matches(_ request: RouteRequest) -> Bool {
        // Paths compare byte for byte, as on the wire.
        let requestPath = request.pathOnly
        switch pathKind {
        case .exact:
            guard Bytes.equal(requestPath, pathValue) else { return false }
        case .prefix:
            guard Bytes.isSegmentPrefix(pathValue, of: requestPath) else { return false }
        case .regex:
            guard pathRegex!.matchesWhole(requestPath) else { return false }
        case .grpc:
            if let grpc, !grpc.matches(requestPath) { return false }
        }
        if let method, request.method != method { return false }
        for condition in headers {
            guard Self.headerMatches(condition, in: request.headers) else { return false }
        }
        if !queryParams.isEmpty {
            let query = request.query ?? ""
            for q in queryParams {
                guard let value = Self.firstQueryValue(q.name, in: query), q.matches(value) else { return false }
            }
        }
        return true
    }

    /// The PathPrefix this match tested (normalised), for ReplacePrefixMatch; nil for other kinds.
    var matchedPrefix: String? { pathKind == .prefix ? pathValue : nil }

    /// Whether header `name` is present and its value (several fields joined with `,`) matches.
    /// The common case, one field, compares in place without building a string.
    static func headerMatches(_ condition: Condition, in fields: [HTTPHeader]) -> Bool {
        let name = condition.name
        var found = -1
        for i in fields.indices where RouteRequest.sameName(fields[i].name, name) {
            if found >= 0 {
                let joined = fields[found...].filter { RouteRequest.sameName($0.name, name) }.map(\.value).joined(separator: ",")
                return condition.matches(joined[...])
            }
            found = i
        }
        return found >= 0 && condition.matches(fields[found].value[...])
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
