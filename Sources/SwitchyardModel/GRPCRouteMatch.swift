/// One `rules[].matches[]` entry of a GRPCRoute: every condition in it must hold (AND).
public struct GRPCRouteMatch: Hashable, Sendable {
    /// The service and method; nil matches every service and method.
    public var method: GRPCMethodMatch?
    /// Header conditions, as an HTTPRoute's (names case-insensitive, regexes match whole values).
    public var headers: [HTTPHeaderMatch]

    public init(method: GRPCMethodMatch? = nil, headers: [HTTPHeaderMatch] = []) {
        self.method = method
        self.headers = headers
    }
}

/// `matches[].method`: the gRPC service and/or method, the two parts of the request path
/// `/<service>/<method>`. At least one of them is given.
public struct GRPCMethodMatch: Hashable, Sendable {
    public enum MatchType: String, Hashable, Sendable, CaseIterable {
        /// Case-sensitive equality of each given part.
        case exact = "Exact"
        /// Each given part must match its regular expression as a whole (`MatchRegex`).
        case regularExpression = "RegularExpression"
    }

    public var type: MatchType
    /// The fully qualified service, e.g. `grpc.health.v1.Health`; nil (or empty) matches any service.
    public var service: String?
    /// The method, e.g. `Check`; nil (or empty) matches any method.
    public var method: String?

    public init(type: MatchType = .exact, service: String? = nil, method: String? = nil) {
        self.type = type
        self.service = service
        self.method = method
    }
}
