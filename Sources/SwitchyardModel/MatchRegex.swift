/// A regular expression from a route (path, header or query value), compiled once.
///
/// Gateway API leaves the dialect to the implementation; Switchyard uses Swift's `Regex`
/// syntax (a PCRE/RE2-like dialect) and always matches the whole value, as RE2's
/// `FullMatch` does in Envoy and Linkerd.
///
/// `Regex` is not declared `Sendable`, but matching never mutates it once its program is
/// built; the initializer runs one match so that the lazily built program exists before the
/// value is published to other threads (snapshots are published with a barrier).
public struct MatchRegex: @unchecked Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    /// Typed as `AnyRegexOutput`: a pattern with capture groups (`/a(b|c)*`) is still one
    /// pattern, and `Regex(_:as: Substring.self)` refuses it at run time.
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`; throws `MatchRegex.InvalidPattern` naming what is wrong.
    public init(_ pattern: String) throws {
        do {
            regex = try Regex(pattern)
        } catch {
            throw InvalidPattern(pattern: pattern, reason: String(describing: error))
        }
        self.pattern = pattern
        _ = try? regex.wholeMatch(in: "")
    }

    /// True when the whole of `value` matches.
    public func matchesWhole(_ value: Substring) -> Bool {
        (try? regex.wholeMatch(in: value)) != nil
    }

    /// True when the whole of `value` matches.
    public func matchesWhole(_ value: String) -> Bool { matchesWhole(value[...]) }

    public var description: String { pattern }

    public static func == (lhs: MatchRegex, rhs: MatchRegex) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }

    /// A pattern that does not compile.
    public struct InvalidPattern: Error, CustomStringConvertible {
        public var pattern: String
        public var reason: String
        public var description: String { "invalid regular expression \"\(pattern)\": \(reason)" }
    }
}
