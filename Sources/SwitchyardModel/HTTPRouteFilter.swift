/// `rules[].filters[]` and `backendRefs[].filters[]`.
public enum HTTPRouteFilter: Hashable, Sendable {
    case requestHeaderModifier(HTTPHeaderModifier)
    case responseHeaderModifier(HTTPHeaderModifier)
    case requestRedirect(HTTPRequestRedirect)
    case urlRewrite(HTTPURLRewrite)
    case requestMirror(HTTPRequestMirror)

    /// The Gateway API `type` string.
    public var typeName: String {
        switch self {
        case .requestHeaderModifier: return "RequestHeaderModifier"
        case .responseHeaderModifier: return "ResponseHeaderModifier"
        case .requestRedirect: return "RequestRedirect"
        case .urlRewrite: return "URLRewrite"
        case .requestMirror: return "RequestMirror"
        }
    }
}

/// A header name and value.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `RequestHeaderModifier` / `ResponseHeaderModifier`: set (replace), add (append), remove.
public struct HTTPHeaderModifier: Hashable, Sendable {
    public var set: [HTTPHeader]
    public var add: [HTTPHeader]
    public var remove: [String]

    public init(set: [HTTPHeader] = [], add: [HTTPHeader] = [], remove: [String] = []) {
        self.set = set
        self.add = add
        self.remove = remove
    }
}

/// How a redirect or rewrite changes the path.
public enum HTTPPathModifier: Hashable, Sendable {
    /// `ReplaceFullPath`.
    case replaceFullPath(String)
    /// `ReplacePrefixMatch`: only with a PathPrefix match.
    case replacePrefixMatch(String)
}

/// `RequestRedirect`.
public struct HTTPRequestRedirect: Hashable, Sendable {
    public var scheme: String?
    public var hostname: String?
    public var path: HTTPPathModifier?
    public var port: Int?
    /// 301, 302 (default), 303, 307 or 308.
    public var statusCode: Int

    public init(scheme: String? = nil, hostname: String? = nil, path: HTTPPathModifier? = nil, port: Int? = nil, statusCode: Int = 302) {
        self.scheme = scheme
        self.hostname = hostname
        self.path = path
        self.port = port
        self.statusCode = statusCode
    }
}

/// `URLRewrite`.
public struct HTTPURLRewrite: Hashable, Sendable {
    public var hostname: String?
    public var path: HTTPPathModifier?

    public init(hostname: String? = nil, path: HTTPPathModifier? = nil) {
        self.hostname = hostname
        self.path = path
    }
}

/// `RequestMirror`: a copy of the request goes to another backend; its answer is dropped.
public struct HTTPRequestMirror: Hashable, Sendable {
    public var backend: HTTPBackendRef
    /// Percentage of requests mirrored, 0...100; nil means all.
    public var percent: Double?

    public init(backend: HTTPBackendRef, percent: Double? = nil) {
        self.backend = backend
        self.percent = percent
    }
}
