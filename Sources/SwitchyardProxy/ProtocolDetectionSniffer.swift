import NIOCore
import SwitchyardModel

/// Says what a connection speaks from its first bytes: HTTP/2 prior knowledge, HTTP/1.x, or
/// opaque (docs/detection.md).
///
/// `classify` is pure: it reads the bytes it is given (without consuming them) and decides as
/// early as the bytes allow.
///
/// - **HTTP/2** when the bytes are exactly the 24-byte client preface
///   `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`; while they are a proper prefix of it, more is needed.
/// - **HTTP/1** when they begin with an HTTP/1.0 or HTTP/1.1 request line (RFC 9112 §3):
///   `method SP request-target SP HTTP/1.x CRLF`, the method any RFC 9110 token (so `get`
///   and `FOO` count: the syntax decides, the HTTP layer judges the method), the
///   request-target one or more visible ASCII characters (`!` to `~`). Decided at the request
///   line's LF; the headers are the HTTP layer's business.
/// - **Opaque** at the first byte that neither can continue with: a byte before the first SP
///   that is not a token character (a TLS record's `0x16`, Redis's `*1\r`, SSH's `SSH-2.0-…\r`),
///   an empty method or target, a control or non-ASCII byte in the target, a version other than
///   `HTTP/1.0`/`HTTP/1.1`, a bare LF. Also when `peekLimit` bytes have arrived and neither is
///   decided (an over-long first line).
///
/// So a caller that keeps what it has received while the answer is `.needMore` never holds
/// more than `peekLimit - 1` bytes.
public enum ProtocolSniffer {
    /// What the bytes received so far amount to.
    public enum Result: Sendable, Hashable {
        /// Could still be HTTP/1 or HTTP/2: wait for more bytes.
        case needMore
        /// Decided; no later byte changes it.
        case detected(DetectedProtocol)
    }

    /// 8 KiB: room for any reasonable request line (long URLs included).
    public static let defaultPeekLimit = 8 * 1024
    /// The HTTP/2 preface must fit: 24 bytes.
    public static let minimumPeekLimit = http2Preface.count
    /// The HTTP/2 client connection preface (RFC 9113 §3.4).
    public static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Classifies the readable bytes of `bytes`, looking at no more than `peekLimit` of them.
    public static func classify(_ bytes: ByteBuffer, peekLimit: Int = defaultPeekLimit) -> Result {
        precondition(peekLimit >= minimumPeekLimit, "peek limit below \(minimumPeekLimit)")
        var scan = Scan()
        let decided = bytes.withUnsafeReadableBytes { scan.advance(over: $0, limit: peekLimit) }
        return result(decided, scanned: scan.scanned, limit: peekLimit)
    }

    /// Classifies `bytes`, looking at no more than `peekLimit` of them.
    public static func classify(_ bytes: [UInt8], peekLimit: Int = defaultPeekLimit) -> Result {
        precondition(peekLimit >= minimumPeekLimit, "peek limit below \(minimumPeekLimit)")
        var scan = Scan()
        let decided = bytes.withUnsafeBytes { scan.advance(over: $0, limit: peekLimit) }
        return result(decided, scanned: scan.scanned, limit: peekLimit)
    }

    private static func result(_ decided: DetectedProtocol?, scanned: Int, limit: Int) -> Result {
        if let decided { return .detected(decided) }
        return scanned >= limit ? .detected(.opaque) : .needMore
    }

    /// The state of a scan, so a caller that receives the bytes in pieces looks at each byte
    /// once (the handler keeps one; `classify` starts a fresh one). Always feed it the same
    /// bytes, growing: `advance` continues where it stopped.
    struct Scan: Sendable {
        /// How many bytes have been looked at.
        private(set) var scanned = 0
        /// The bytes so far are a prefix of the HTTP/2 preface.
        private var http2 = true
        /// Where in an HTTP/1 request line the bytes so far are.
        private var line = RequestLine.method
        /// Bytes in the current method or target, or the index into `versionTail`.
        private var run = 0

        private enum RequestLine: Sendable {
            case method, target, version, impossible
        }

        /// What follows the SP after the request-target: `HTTP/1.`, a `0` or `1`, CR, LF.
        private static let versionTail: [UInt8] = Array("HTTP/1.?\r\n".utf8)
        private static let versionDigit = 7

        /// Looks at the bytes of `bytes` from `scanned` up to `limit`; the decision, or nil
        /// when more are needed (or `limit` is reached: the caller decides what that means).
        mutating func advance(over bytes: UnsafeRawBufferPointer, limit: Int) -> DetectedProtocol? {
            let end = min(bytes.count, limit)
            let preface = ProtocolSniffer.http2Preface
            while scanned < end {
                let byte = bytes[scanned]
                let index = scanned
                scanned += 1
                if http2 {
                    if byte != preface[index] {
                        http2 = false
                    } else if index == preface.count - 1 {
                        return .http2
                    }
                }
                if step(byte) { return .http1 }
                if !http2 && line == .impossible { return .opaque }
            }
            return nil
        }

        /// Moves the request line on by one byte; true when it is complete.
        private mutating func step(_ byte: UInt8) -> Bool {
            switch line {
            case .method:
                if HTTPToken.isTokenByte(byte) {
                    run += 1
                } else if byte == UInt8(ascii: " ") && run > 0 {
                    line = .target
                    run = 0
                } else {
                    line = .impossible
                }
            case .target:
                if byte == UInt8(ascii: " ") && run > 0 {
                    line = .version
                    run = 0
                } else if byte > 0x20 && byte < 0x7F {
                    run += 1  // VCHAR: URI syntax is ASCII; raw UTF-8 is not a request-target
                } else {
                    line = .impossible
                }
            case .version:
                let ok = run == Self.versionDigit
                    ? byte == UInt8(ascii: "0") || byte == UInt8(ascii: "1")
                    : byte == Self.versionTail[run]
                guard ok else {
                    line = .impossible
                    return false
                }
                run += 1
                return run == Self.versionTail.count
            case .impossible:
                break
            }
            return false
        }
    }
}
