import Foundation

/// Durations written as Go's `time.ParseDuration` (and so `kubectl`, Linkerd and cert-manager)
/// writes them: one or more `<number><unit>` with units `h`, `m`, `s`, `ms`, `us` (or `µs`),
/// `ns`, e.g. `24h`, `90m`, `1h30m`, `3600s`, `1.5h`. No sign (a certificate lifetime is never
/// negative), no days (`24h`, as in Go).
public enum PKIDuration {
    /// The duration `text` spells.
    /// - Throws: `PKIError.invalidValidity` saying what is wrong with it.
    public static func parse(_ text: String) throws -> Duration {
        func invalid(_ reason: String) -> PKIError {
            .invalidValidity("\"\(text)\" is not a duration (\(reason)); write it like 24h, 90m, 1h30m or 3600s")
        }
        guard !text.isEmpty else { throw invalid("it is empty") }
        if text.first == "-" { throw invalid("it is negative") }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var total: Int64 = 0  // nanoseconds, like Go; its limit (about 290 years) is far beyond any certificate
        while i < scalars.count {
            var number = ""
            while i < scalars.count, ("0"..."9").contains(scalars[i]) || scalars[i] == "." {
                number.unicodeScalars.append(scalars[i])
                i += 1
            }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1 else {
                throw invalid(i < scalars.count ? "expected a number at \"\(String(String.UnicodeScalarView(scalars[i...])))\"" : "a number is missing")
            }
            var unit = ""
            while i < scalars.count, !("0"..."9").contains(scalars[i]), scalars[i] != "." {
                unit.unicodeScalars.append(scalars[i])
                i += 1
            }
            let nanosecondsPerUnit: Int64
            switch unit {
            case "h": nanosecondsPerUnit = 3_600_000_000_000
            case "m": nanosecondsPerUnit = 60_000_000_000
            case "s": nanosecondsPerUnit = 1_000_000_000
            case "ms": nanosecondsPerUnit = 1_000_000
            case "us", "µs", "μs": nanosecondsPerUnit = 1_000
            case "ns": nanosecondsPerUnit = 1
            case "": throw invalid("\(number) has no unit")
            case "d": throw invalid("there is no unit d; write days as hours, 24h per day")
            default: throw invalid("unknown unit \"\(unit)\"")
            }
            // Whole part exactly; a fraction (1.5h) to the nearest nanosecond.
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            let whole = parts[0].isEmpty ? 0 : Int64(parts[0])
            let fraction = parts.count > 1 && !parts[1].isEmpty ? Double("0." + parts[1]) ?? 0 : 0
            guard let whole,
                  case let (scaled, overflow) = whole.multipliedReportingOverflow(by: nanosecondsPerUnit), !overflow,
                  case let (sum, overflow2) = total.addingReportingOverflow(scaled), !overflow2,
                  case let (withFraction, overflow3) = sum.addingReportingOverflow(Int64((fraction * Double(nanosecondsPerUnit)).rounded())), !overflow3
            else { throw invalid("it is too long") }
            total = withFraction
        }
        return .nanoseconds(total)
    }

    /// `1h30m`, `24h`, `90s`: a whole-second duration the way Go prints it (without `0s` parts).
    public static func format(_ duration: Duration) -> String {
        var seconds = duration.components.seconds
        if seconds == 0 { return "0s" }
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
        if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
        if seconds > 0 { text += "\(seconds)s" }
        return text
    }
}

extension Duration {
    /// The duration in seconds, with fractions.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
