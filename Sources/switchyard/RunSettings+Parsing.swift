import Logging
import SwitchyardInterception
import SwitchyardModel
import SwitchyardProxy
import SwitchyardTLS

/// Text to typed values, one parser per kind of setting. Each throws a `Refusal` saying what
/// is wrong; the caller names where the text came from.
extension RunSettings {
    /// Most event loop threads accepted.
    static let maximumThreads = 1024
    /// Longest shutdown grace accepted, in seconds.
    static let maximumShutdownGrace = 3600

    /// A path: anything but the empty string.
    static func parsePath(_ text: String) throws(Refusal) -> String {
        guard !text.isEmpty else { throw Refusal("must not be empty") }
        return text
    }

    /// A node name: a Kubernetes object name, so no spaces and not empty.
    static func parseName(_ text: String) throws(Refusal) -> String {
        guard !text.isEmpty else { throw Refusal("must not be empty") }
        guard !text.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw Refusal("must be a Kubernetes object name (no spaces or '/')")
        }
        return text
    }

    static func parseMode(_ text: String) throws(Refusal) -> ProxyConfiguration.Mode {
        guard let mode = ProxyConfiguration.Mode(rawValue: text) else {
            throw Refusal("must be one of \(ProxyConfiguration.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    /// `NAMESPACE/NAME`.
    static func parsePod(_ text: String) throws(Refusal) -> ResourceID {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              !text.contains(where: \.isWhitespace)
        else { throw Refusal("must be NAMESPACE/NAME, e.g. test/frontend-podinfo-5d8f7c9b4-x7k2p") }
        return ResourceID(namespace: String(parts[0]), name: String(parts[1]))
    }

    /// A DNS domain, checked as identities are (lower case RFC 1123 labels).
    static func parseTrustDomain(_ text: String) throws(Refusal) -> String {
        do {
            try PKIIdentityName.validate(text)
        } catch let PKIError.invalidIdentity(_, reason) {
            throw Refusal("not a DNS domain: \(reason)")
        } catch {
            throw Refusal("not a DNS domain: \(error)")
        }
        return text
    }

    /// `ADDRESS:PORT`; port 0 binds a free port.
    static func parseEndpoint(_ text: String) throws(Refusal) -> IPEndpoint {
        do {
            return try IPEndpoint(parsing: text)
        } catch {
            switch error {
            case .missingPort: throw Refusal("has no port: write ADDRESS:PORT (0.0.0.0:4140, [::]:4140)")
            case .invalidPort: throw Refusal("the port must be a number from 0 to 65535")
            case .invalidAddress: throw Refusal("not an IP address (IPv4 a.b.c.d, or IPv6 between brackets) and a port")
            case .unbracketedIPv6: throw Refusal("put an IPv6 address between brackets, as in [::]:4140")
            }
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), any case.
    static func parseSwitch(_ text: String) throws(Refusal) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw Refusal("must be true or false")
        }
    }

    /// A user name as the password database holds it: no spaces, `/` or `:`.
    static func parseUser(_ text: String) throws(Refusal) -> String {
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0 == "/" || $0 == ":" }) else {
            throw Refusal("must be a user name (no spaces, '/' or ':'), or root to stay root")
        }
        return text
    }

    static func parseThreads(_ text: String) throws(Refusal) -> Int {
        try parseInteger(text, in: 1...maximumThreads, what: "a whole number of threads")
    }

    /// Whole seconds, with an optional `s`: `10`, `10s`.
    static func parseShutdownGrace(_ text: String) throws(Refusal) -> Int {
        let digits = text.hasSuffix("s") ? String(text.dropLast()) : text
        return try parseInteger(digits, in: 0...maximumShutdownGrace, what: "a whole number of seconds")
    }

    /// Most idle upstream connections kept per endpoint, identity and thread.
    static let maximumIdleConnections = 65536

    static func parseIdleConnections(_ text: String) throws(Refusal) -> Int {
        try parseInteger(text, in: 0...maximumIdleConnections, what: "a whole number of connections")
    }

    static func parseMeshHTTP1(_ text: String) throws(Refusal) -> MeshHTTP1 {
        guard let transport = MeshHTTP1(rawValue: text) else {
            throw Refusal("must be one of \(MeshHTTP1.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return transport
    }

    static func parsePort(_ text: String) throws(Refusal) -> UInt16 {
        UInt16(try parseInteger(text, in: 1...Int(UInt16.max), what: "a port"))
    }

    /// `25,587,3306-3307`; empty for none.
    static func parseOpaquePorts(_ text: String) throws(Refusal) -> OpaquePorts {
        do {
            return try OpaquePorts(parsing: text)
        } catch {
            let message = error.description
            let prefix = "opaque ports: "
            throw Refusal(message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message)
        }
    }

    static func parseLogLevel(_ text: String) throws(Refusal) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw Refusal("must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }

    private static func parseInteger(_ text: String, in range: ClosedRange<Int>, what: String) throws(Refusal) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int(text), range.contains(value)
        else { throw Refusal("must be \(what) from \(range.lowerBound) to \(range.upperBound)") }
        return value
    }
}
