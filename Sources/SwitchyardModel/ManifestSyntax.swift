#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The syntax rules of Kubernetes and Gateway API names and values (the CRD patterns),
/// written out by hand so they cost nothing to check. Each returns nil when `value` is valid,
/// or a message saying what is wrong.
enum ManifestSyntax {
    // MARK: - Kubernetes names

    /// RFC 1123 label: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters (namespaces).
    static func dnsLabel(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 63 { return "must be at most 63 characters" }
        return isLabel(Array(value.utf8)) ? nil
            : "must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with an alphanumeric character)"
    }

    /// RFC 1035 label: `^[a-z]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters (Service names).
    static func dns1035Label(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 63 { return "must be at most 63 characters" }
        let bytes = Array(value.utf8)
        return isLabel(bytes) && isLower(bytes[0]) ? nil
            : "must be a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a letter and ending with an alphanumeric character)"
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters (most object names).
    static func dnsSubdomain(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 253 { return "must be at most 253 characters" }
        return isSubdomain(Array(value.utf8)[...]) ? nil
            : "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each part starting and ending with an alphanumeric character)"
    }

    /// IANA_SVC_NAME: at most 15 of a-z, 0-9 and '-', at least one letter, no leading,
    /// trailing or doubled '-' (named ports).
    static func ianaServiceName(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 15 { return "must be at most 15 characters" }
        guard bytes.allSatisfy({ isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) else {
            return "must contain only a-z, 0-9 and '-'"
        }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") { return "must not begin or end with '-'" }
        if value.contains("--") { return "must not contain '--'" }
        if !bytes.contains(where: isLower) { return "must contain at least one letter" }
        return nil
    }

    // MARK: - Gateway API

    /// `Hostname`: an RFC 1123 name, lowercase, optionally prefixed by a `*.` wildcard label.
    static func hostname(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 253 { return "must be at most 253 characters" }
        var bytes = Array(value.utf8)[...]
        if bytes.starts(with: "*.".utf8) { bytes = bytes.dropFirst(2) }
        if IPLiteral.isIPAddress(value) { return "must be a DNS name, not an IP address" }
        return isSubdomain(bytes) ? nil
            : "must be a lowercase RFC 1123 hostname (a wildcard \"*.\" may only be the first label)"
    }

    /// `PreciseHostname`: an RFC 1123 name, lowercase, no wildcard.
    static func preciseHostname(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 253 { return "must be at most 253 characters" }
        return isSubdomain(Array(value.utf8)[...]) ? nil : "must be a lowercase RFC 1123 hostname (no wildcard)"
    }

    /// `Group`: empty, or an RFC 1123 subdomain of at most 253 characters.
    static func group(_ value: String) -> String? {
        if value.isEmpty { return nil }
        return dnsSubdomain(value)
    }

    /// `Kind`: `^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`, 1 to 63 characters.
    static func kind(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 63 { return "must be at most 63 characters" }
        let ok = isAlpha(bytes[0]) && isAlnum(bytes[bytes.count - 1])
            && bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        return ok ? nil : "must be a kind name (letters, digits and '-', starting with a letter)"
    }

    /// `ObjectName`: 1 to 253 characters.
    static func objectName(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 253 { return "must be at most 253 characters" }
        return nil
    }

    /// `SectionName`: an RFC 1123 subdomain, 1 to 253 characters.
    static func sectionName(_ value: String) -> String? { dnsSubdomain(value) }

    /// An HTTP header name (`HTTPHeaderName`): an RFC 7230 token, 1 to 256 characters.
    static func headerName(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty" }
        if value.utf8.count > 256 { return "must be at most 256 characters" }
        return value.utf8.allSatisfy(HTTPToken.isTokenByte) ? nil
            : "\(YAMLCursor.quote(value)) is not a valid HTTP header name (an RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~)"
    }

    /// The problems of an `Exact` or `PathPrefix` path value, each as the Gateway API CEL rule
    /// words it (empty when valid).
    static func pathProblems(_ value: String) -> [String] {
        var problems: [String] = []
        if !value.hasPrefix("/") { problems.append("must begin with \"/\"") }
        for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] where value.contains(bad) {
            problems.append("must not contain \"\(bad)\"")
        }
        for bad in ["/..", "/."] where value.hasSuffix(bad) {
            problems.append("must not end with \"\(bad)\"")
        }
        if !isValidPathCharacters(Array(value.utf8)) {
            problems.append("must only contain the characters A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes")
        }
        return problems
    }

    /// `^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`
    private static func isValidPathCharacters(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) else { return false }
                i += 3
                continue
            }
            guard isAlnum(byte) || "-/._~!$&'()*+,;=:@".utf8.contains(byte) else { return false }
            i += 1
        }
        return true
    }

    // MARK: - Characters

    private static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isAlpha(_ byte: UInt8) -> Bool {
        isLower(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
    private static func isAlnum(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    private static func isLabel<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard let first = bytes.first, let last = bytes.reversed().first else { return false }
        return (isLower(first) || isDigit(first)) && (isLower(last) || isDigit(last))
            && bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// Labels separated by single dots.
    private static func isSubdomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { isLabel($0) }
    }
}
