// ProtocolSniffer.classify: a table of first bytes, the byte at which each is decided, the peek limit.
import NIOCore
@testable import SwitchyardProxy
import Testing

/// A connection's first bytes, what they are, and after how many bytes that is certain.
struct SniffExample: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: DetectedProtocol
    /// The shortest prefix that decides: every shorter one needs more.
    let decidedAfter: Int

    init(_ name: String, _ bytes: [UInt8], _ expected: DetectedProtocol, decidedAfter: Int) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
        self.decidedAfter = decidedAfter
    }

    init(_ name: String, _ text: String, _ expected: DetectedProtocol, decidedAfter: Int) {
        self.init(name, Array(text.utf8), expected, decidedAfter: decidedAfter)
    }

    var testDescription: String { name }

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// An empty SETTINGS frame, as a client sends right after the preface.
    static let settingsFrame: [UInt8] = [0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]
    /// The start of a TLS 1.2/1.3 ClientHello record.
    static let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        + [UInt8](repeating: 0x5A, count: 32)

    static let all: [SniffExample] = [
        // HTTP/1: decided at the LF of the request line.
        .init("GET / HTTP/1.1", "GET / HTTP/1.1\r\nHost: backend-a-podinfo:9898\r\n\r\n", .http1, decidedAfter: 16),
        .init("POST with its body in the same read",
              "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", .http1, decidedAfter: 23),
        .init("HTTP/1.0", "GET /env HTTP/1.0\r\n\r\n", .http1, decidedAfter: 19),
        .init("every RFC 9110 method", "OPTIONS * HTTP/1.1\r\n", .http1, decidedAfter: 20),
        .init("CONNECT, authority form", "CONNECT backend:443 HTTP/1.1\r\n", .http1, decidedAfter: 30),
        .init("absolute form", "GET http://backend-a-podinfo:9898/env?x=1 HTTP/1.1\r\n", .http1, decidedAfter: 52),
        .init("an extension method token with punctuation", "M-SEARCH * HTTP/1.1\r\n", .http1, decidedAfter: 21),
        .init("a lower-case method is a token: HTTP/1 by syntax", "get / HTTP/1.1\r\n", .http1, decidedAfter: 16),
        .init("PRI that is not the HTTP/2 preface", "PRI /x HTTP/1.1\r\n", .http1, decidedAfter: 17),

        // HTTP/2 prior knowledge: decided at the preface's last byte.
        .init("the HTTP/2 preface and a SETTINGS frame", http2Preface + settingsFrame, .http2, decidedAfter: 24),
        .init("the HTTP/2 preface alone", http2Preface, .http2, decidedAfter: 24),
        .init("an HTTP/2 preface that goes wrong after the request line",
              "PRI * HTTP/2.0\r\n\r\nXM\r\n\r\n", .opaque, decidedAfter: 19),

        // Opaque: decided at the first byte neither allows.
        .init("a TLS ClientHello", clientHello, .opaque, decidedAfter: 1),
        .init("SSH", "SSH-2.0-OpenSSH_9.6\r\n", .opaque, decidedAfter: 20),
        .init("Redis PING", "*1\r\n$4\r\nPING\r\n", .opaque, decidedAfter: 3),
        .init("binary junk", [0x00, 0xFF, 0x13, 0x37, 0x80], .opaque, decidedAfter: 1),
        .init("high-bit first byte", [0xC3, 0xA9], .opaque, decidedAfter: 1),
        .init("SMTP's HELO line has no version", "HELO mail.example\r\n", .opaque, decidedAfter: 18),
        .init("HTTP/0.9", "GET /\r\n", .opaque, decidedAfter: 6),
        .init("HTTP/2.0 in a request line", "GET / HTTP/2.0\r\n", .opaque, decidedAfter: 12),
        .init("HTTP/1.2", "GET / HTTP/1.2\r\n", .opaque, decidedAfter: 14),
        .init("a lower-case version", "GET / http/1.1\r\n", .opaque, decidedAfter: 7),
        .init("a bare LF", "GET / HTTP/1.1\nHost: a\n\n", .opaque, decidedAfter: 15),
        .init("a version with more after it", "GET / HTTP/1.10\r\n", .opaque, decidedAfter: 15),
        .init("two spaces after the method", "GET  / HTTP/1.1\r\n", .opaque, decidedAfter: 5),
        .init("a leading space", " GET / HTTP/1.1\r\n", .opaque, decidedAfter: 1),
        .init("a leading empty line", "\r\nGET / HTTP/1.1\r\n", .opaque, decidedAfter: 1),
        .init("a tab in the target", "GET /a\tb HTTP/1.1\r\n", .opaque, decidedAfter: 7),
        .init("raw UTF-8 in the target (URIs are ASCII)", Array("GET /caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\n".utf8),
              .opaque, decidedAfter: 9),
        .init("DEL in the target", Array("GET /a".utf8) + [0x7F] + Array(" HTTP/1.1\r\n".utf8), .opaque, decidedAfter: 7),
        .init("a method with a non-token byte", "GE(T / HTTP/1.1\r\n", .opaque, decidedAfter: 3),
        .init("a transport preface", [0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x50, 0x01], .opaque, decidedAfter: 1),
    ]
}

@Suite("Protocol detection: classifying first bytes")
struct ProtocolDetectSnifferTests {
    @Test("decided as early as possible: every shorter prefix needs more", arguments: SniffExample.all)
    func table(_ example: SniffExample) {
        for length in 0..<example.decidedAfter {
            #expect(ProtocolSniffer.classify(Array(example.bytes.prefix(length))) == .needMore,
                    "prefix of \(length) bytes")
        }
        let decided = ProtocolSniffer.Result.detected(example.expected)
        #expect(ProtocolSniffer.classify(Array(example.bytes.prefix(example.decidedAfter))) == decided)
        #expect(ProtocolSniffer.classify(example.bytes) == decided)
        #expect(ProtocolSniffer.classify(ByteBuffer(bytes: example.bytes)) == decided)
    }

    @Test("a ByteBuffer is read from its reader index")
    func readerIndex() {
        var bytes = ByteBuffer(string: "\u{16}GET / HTTP/1.1\r\n")
        #expect(ProtocolSniffer.classify(bytes) == .detected(.opaque))
        bytes.moveReaderIndex(forwardBy: 1)
        #expect(ProtocolSniffer.classify(bytes) == .detected(.http1))
    }

    @Test("nothing yet, a method, a partial preface: need more")
    func needMore() {
        for text in ["", "G", "GET", "GET ", "GET /", "GET / HTTP/1.1\r", "P", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r"] {
            #expect(ProtocolSniffer.classify(Array(text.utf8)) == .needMore, "\(text.debugDescription)")
        }
    }

    @Test("a request line longer than the peek limit is opaque when the limit is reached")
    func longRequestLine() {
        let line = Array(("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\n").utf8)
        #expect(ProtocolSniffer.classify(Array(line.prefix(8191))) == .needMore)
        #expect(ProtocolSniffer.classify(Array(line.prefix(8192))) == .detected(.opaque))
        #expect(ProtocolSniffer.classify(line) == .detected(.opaque))
        #expect(ProtocolSniffer.classify(line, peekLimit: 16 * 1024) == .detected(.http1))
    }

    @Test("a request line of exactly the peek limit, CRLF included, is HTTP/1; one byte more is not")
    func exactlyAtTheLimit() {
        func line(_ length: Int) -> [UInt8] {
            let fixed = "GET /".utf8.count + " HTTP/1.1\r\n".utf8.count
            return Array(("GET /" + String(repeating: "b", count: length - fixed) + " HTTP/1.1\r\n").utf8)
        }
        #expect(line(8192).count == 8192)
        #expect(ProtocolSniffer.classify(line(8192)) == .detected(.http1))
        #expect(ProtocolSniffer.classify(line(8193)) == .detected(.opaque))
        #expect(ProtocolSniffer.classify(line(100), peekLimit: 100) == .detected(.http1))
        #expect(ProtocolSniffer.classify(line(101), peekLimit: 100) == .detected(.opaque))
    }

    @Test("the HTTP/2 preface fits the smallest peek limit")
    func smallestLimit() {
        #expect(ProtocolSniffer.minimumPeekLimit == 24)
        #expect(ProtocolSniffer.classify(SniffExample.http2Preface, peekLimit: 24) == .detected(.http2))
        #expect(ProtocolSniffer.classify(Array("GET /aaaaaaaaaaaaaaaaaaaaaaaa".utf8), peekLimit: 24) == .detected(.opaque))
    }

    @Test("a scan fed in pieces agrees with one classify, looking at each byte once", arguments: SniffExample.all)
    func resumable(_ example: SniffExample) {
        for piece in [1, 2, 5, 13] {
            var scan = ProtocolSniffer.Scan()
            var decided: DetectedProtocol?
            var end = 0
            while decided == nil && end < example.bytes.count {
                end = min(end + piece, example.bytes.count)
                decided = example.bytes.prefix(end).withUnsafeBytes { scan.advance(over: $0, limit: 8192) }
            }
            #expect(decided == example.expected, "pieces of \(piece)")
            #expect(scan.scanned == example.decidedAfter, "pieces of \(piece)")
        }
    }

    @Test("the inner protocol a mesh hop announces follows the detected one")
    func innerProtocol() {
        #expect(TransportPreface.InnerProtocol(DetectedProtocol.http1) == .http1)
        #expect(TransportPreface.InnerProtocol(DetectedProtocol.http2) == .http2)
        #expect(TransportPreface.InnerProtocol(DetectedProtocol.opaque) == .opaque)
    }
}
