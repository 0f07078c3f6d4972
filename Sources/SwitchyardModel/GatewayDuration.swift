/// The Gateway API duration format (GEP-2257): `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, e.g. `10s`,
/// `1h30m`, `500ms`. No fractions, no sign, no spaces.
enum GatewayDuration {
    /// The duration `text` spells, or nil when it is not in the format.
    static func parse(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        var i = 0
        var groups = 0
        var total = Duration.zero
        while i < bytes.count {
            var digits = 0
            var value: Int64 = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                digits += 1
                i += 1
                if digits > 5 { return nil }
            }
            guard digits > 0, i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "h"):
                total += .seconds(value * 3600)
                i += 1
            case UInt8(ascii: "m"):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "s") {
                    total += .milliseconds(value)
                    i += 2
                } else {
                    total += .seconds(value * 60)
                    i += 1
                }
            case UInt8(ascii: "s"):
                total += .seconds(value)
                i += 1
            default:
                return nil
            }
            groups += 1
            if groups > 4 { return nil }
        }
        return groups > 0 ? total : nil
    }
}
