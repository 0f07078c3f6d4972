import COpenSSL

/// An OpenSSL call failed; `message` holds what OpenSSL's error queue said (drained).
public struct OpenSSLError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var reasons: [String]

    public var description: String {
        reasons.isEmpty ? "\(operation) failed" : "\(operation) failed: \(reasons.joined(separator: "; "))"
    }

    /// Drains the calling thread's OpenSSL error queue into an error for `operation`.
    public static func drain(_ operation: String) -> OpenSSLError {
        OpenSSLError(operation: operation, reasons: drainQueue())
    }

    /// Empties the calling thread's OpenSSL error queue, returning its entries as text.
    static func drainQueue() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons
    }
}
