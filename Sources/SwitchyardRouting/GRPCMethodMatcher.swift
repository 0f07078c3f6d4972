import SwitchyardModel

/// A GRPCRoute `method` match, compiled: tests the request path `/<service>/<method>`.
///
/// Exact service and method compare the whole path byte for byte with `/<service>/<method>`.
/// Otherwise the path is split into its two parts (the service up to the second `/`, the
/// method after it; both non-empty, the method without `/`) and each given part must equal
/// its value (Exact) or match its regex as a whole (RegularExpression); an absent part
/// matches anything. A path that is not of that shape matches no method match.
final class GRPCMethodMatcher: Sendable {
    enum Part: Sendable {
        case any
        case exact(String)
        case regex(MatchRegex)

        func matches(_ s: Substring) -> Bool {
            switch self {
            case .any: return true
            case .exact(let value): return Bytes.equal(s, value)
            case .regex(let regex): return regex.matchesWhole(s)
            }
        }
    }

    let service: Part
    let method: Part
    /// `/<service>/<method>` when both are Exact: the path must be exactly this.
    let fullPath: String?

    init(_ match: GRPCMethodMatch) {
        func part(_ value: String?) -> Part {
            guard let value, !value.isEmpty else { return .any }
            switch match.type {
            case .exact: return .exact(value)
            case .regularExpression:
                // validation refuses bad patterns; one that slips through never matches
                return (try? MatchRegex(value)).map(Part.regex) ?? .exact("\u{0}invalid")
            }
        }
        service = part(match.service)
        method = part(match.method)
        if case .exact(let s) = service, case .exact(let m) = method { fullPath = "/\(s)/\(m)" } else { fullPath = nil }
    }

    func matches(_ path: Substring) -> Bool {
        if let fullPath { return Bytes.equal(path, fullPath) }
        guard let (service, method) = Self.split(path) else { return false }
        return self.service.matches(service) && self.method.matches(method)
    }

    /// The service and method of a gRPC path `/<service>/<method>`; nil for any other shape.
    static func split(_ path: Substring) -> (service: Substring, method: Substring)? {
        guard path.first == "/" else { return nil }
        let rest = path.dropFirst()
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let service = rest[..<slash]
        let method = rest[rest.index(after: slash)...]
        guard !service.isEmpty, !method.isEmpty, !method.contains("/") else { return nil }
        return (service, method)
    }
}
