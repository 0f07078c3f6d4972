/// One `rules[].matches[]` entry: every condition in it must hold (AND).
public struct HTTPRouteMatch: Hashable, Sendable {
    /// Defaults to PathPrefix `/`.
    public var path: HTTPPathMatch
    public var headers: [HTTPHeaderMatch]
    public var queryParams: [HTTPQueryParamMatch]
    /// Upper-case method name, e.g. `GET`.
    public var method: String?

    public init(path: HTTPPathMatch = .init(), headers: [HTTPHeaderMatch] = [],
                queryParams: [HTTPQueryParamMatch] = [], method: String? = nil) {
        self.path = path
        self.headers = headers
        self.queryParams = queryParams
        self.method = method
    }
}

/// `matches[].path`.
public struct HTTPPathMatch: Hashable, Sendable {
    public enum MatchType: String, Hashable, Sendable, CaseIterable {
        case exact = "Exact"
        case pathPrefix = "PathPrefix"
        case regularExpression = "RegularExpression"
    }

    public var type: MatchType
    public var value: String

    public init(type: MatchType = .pathPrefix, value: String = "/") {
        self.type = type
        self.value = value
    }
}

/// `Exact` or `RegularExpression`, as headers and query parameters use.
public enum StringMatchType: String, Hashable, Sendable, CaseIterable {
    case exact = "Exact"
    case regularExpression = "RegularExpression"
}

/// `matches[].headers[]`: names compare case-insensitively; a regex must match the whole value.
public struct HTTPHeaderMatch: Hashable, Sendable {
    public var type: StringMatchType
    public var name: String
    public var value: String

    public init(type: StringMatchType = .exact, name: String, value: String) {
        self.type = type
        self.name = name
        self.value = value
    }
}

/// `matches[].queryParams[]`: names compare exactly; a regex must match the whole value.
public struct HTTPQueryParamMatch: Hashable, Sendable {
    public var type: StringMatchType
    public var name: String
    public var value: String

    public init(type: StringMatchType = .exact, name: String, value: String) {
        self.type = type
        self.name = name
        self.value = value
    }
}
