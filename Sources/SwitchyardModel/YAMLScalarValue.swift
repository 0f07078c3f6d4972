import Yams

/// What a YAML scalar means, decided the way Kubernetes' YAML reader (YAML 1.2 core schema)
/// decides it: quoted and block scalars are strings; a plain scalar is null, a boolean, an
/// integer, a number or a string by its spelling. An explicit `!!str` tag makes a string.
///
/// Yams' own resolver follows YAML 1.1 (`yes` is a boolean, `1:20` is 80, `0755` is octal),
/// which is not what `kubectl` does, so the loader classifies scalars itself.
enum YAMLScalarValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`.
    case bigInt(String)
    case float(String)
    case string(String)

    init(_ scalar: Yams.Node.Scalar) {
        let text = scalar.string
        switch scalar.style {
        case .singleQuoted, .doubleQuoted, .literal, .folded:
            self = .string(text)
            return
        case .plain, .any:
            break
        }
        switch scalar.tag.rawValue {
        case "tag:yaml.org,2002:str", "!":
            self = .string(text)
            return
        default:
            break
        }
        self = Self.classifyPlain(text)
    }

    static func classifyPlain(_ text: String) -> YAMLScalarValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
             ".nan", ".NaN", ".NAN":
            return .float(text)
        default: break
        }
        let utf8 = Array(text.utf8)
        if let value = parseInteger(utf8) { return value }
        if isFloat(utf8) { return .float(text) }
        return .string(text)
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
    private static func parseInteger(_ bytes: [UInt8]) -> YAMLScalarValue? {
        var digits = bytes[...]
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix = 10
        if digits.count > 2, digits.first == UInt8(ascii: "0") {
            let marker = digits[digits.startIndex + 1]
            if marker == UInt8(ascii: "x") { radix = 16 } else if marker == UInt8(ascii: "o") { radix = 8 }
            if radix != 10 {
                guard !negative, bytes.first != UInt8(ascii: "+") else { return nil }
                digits = digits.dropFirst(2)
            }
        }
        var value = 0
        var overflow = false
        for byte in digits {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
                if o1 || o2 { overflow = true } else { value = s }
            }
        }
        return overflow ? .bigInt(String(decoding: bytes, as: UTF8.self)) : .int(value)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var i = 0
        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        var mantissaDigits = 0
        while isDigit(i) { i += 1; mantissaDigits += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while isDigit(i) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
            guard isDigit(i) else { return false }
            while isDigit(i) { i += 1 }
        }
        return i == bytes.count
    }
}
