import NIOCore

/// A best guess at what a stream that does not start with the preface magic is instead, from
/// whatever bytes had arrived when it was refused. Only for error messages.
enum ForeignProtocolGuess {
    private static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private static let linkerdHeader = Array("transport.l5d.io/".utf8)
    private static let proxyV1 = Array("PROXY ".utf8)
    private static let proxyV2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func guess(_ bytes: ByteBuffer) -> String? {
        let view = bytes.readableBytesView
        guard let first = view.first else { return nil }
        switch first {
        case 0x16: return "a TLS handshake record"
        case 0x14, 0x15, 0x17, 0x18: return "a TLS record"
        default: break
        }
        if startsWith(view, http2Preface, atLeast: 4) { return "the HTTP/2 connection preface" }
        if startsWith(view, linkerdHeader, atLeast: 4) { return "Linkerd's transport header" }
        if startsWith(view, proxyV1, atLeast: 6) { return "a PROXY protocol v1 header" }
        if startsWith(view, proxyV2, atLeast: 6) { return "a PROXY protocol v2 header" }
        // An HTTP/1 request line: an upper-case method token, then a space.
        let token = view.prefix { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        if !token.isEmpty, token.count < view.count, view[view.startIndex + token.count] == UInt8(ascii: " ") {
            return "an HTTP/1 request"
        }
        return nil
    }

    /// Whether `view` and `prefix` agree on every byte `view` has, and it has at least `atLeast` of them.
    private static func startsWith(_ view: ByteBufferView, _ prefix: [UInt8], atLeast: Int) -> Bool {
        let n = min(view.count, prefix.count)
        return n >= atLeast && view.prefix(n).elementsEqual(prefix.prefix(n))
    }
}
