/// Prometheus text exposition format 0.0.4: escaping, number formatting and label sets.
public enum PrometheusText {
    /// The `Content-Type` of a `/metrics` response.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Escapes `# HELP` text: backslash and line feed.
    public static func escapeHelp(_ text: String) -> String { escape(text, quote: false) }

    /// Escapes a label value: backslash, double quote and line feed.
    public static func escapeLabelValue(_ text: String) -> String { escape(text, quote: true) }

    private static func escape(_ text: String, quote: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quote: out += "\\\""
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Formats a sample value: integral values without a fraction, `+Inf`, `-Inf`, `NaN`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// `{a="x",b="y"}` (empty when there are no labels), with an optional extra label last.
    static func labelSet(names: [String], values: [String], extra: (String, String)? = nil) -> String {
        if names.isEmpty && extra == nil { return "" }
        var out = "{"
        var first = true
        for (name, value) in zip(names, values) {
            if !first { out += "," }
            first = false
            out += name
            out += "=\""
            out += escapeLabelValue(value)
            out += "\""
        }
        if let (name, value) = extra {
            if !first { out += "," }
            out += name
            out += "=\""
            out += escapeLabelValue(value)
            out += "\""
        }
        out += "}"
        return out
    }

    /// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x3A }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        return isAlpha(first) && name.utf8.allSatisfy { isAlpha($0) || isDigit($0) }
    }

    /// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`.
    public static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !name.hasPrefix("__") else { return false }
        func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        return isAlpha(first) && name.utf8.allSatisfy { isAlpha($0) || isDigit($0) }
    }
}
