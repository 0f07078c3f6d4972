// The raw HTTP/1 client of the in-process ProxyDaemon tests: it writes exactly the bytes a
// test gives it (pipelined requests, chunked bodies, garbage) and parses responses itself, so
// that framing (chunked, content-length, none after HEAD, 1xx) is checked as sent.
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A response as the client read it off the wire.
struct TestResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String
    /// The body came with `transfer-encoding: chunked` framing.
    var chunked: Bool

    /// The first value of `name` (any case).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of `name` (any case).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    var description: String {
        "\(status) [\(headers.map { "\($0.name): \($0.value)" }.joined(separator: "; "))] \(body.debugDescription)"
    }
}

/// Parsing helpers shared by the client and the upgrade backend.
enum RawHTTP {
    /// The index of the `\r\n\r\n` that ends a head, if the bytes hold one.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    private static func lineEnd(_ bytes: [UInt8], from: Int) -> Int? {
        guard bytes.count >= 2, from <= bytes.count - 2 else { return nil }
        for i in from...(bytes.count - 2) where bytes[i] == 13 && bytes[i + 1] == 10 { return i }
        return nil
    }

    enum Parse {
        case needMore
        case done(TestResponse, consumed: Int)
    }

    /// Parses one response from the front of `bytes`. `headRequest`: the request was HEAD
    /// (no body whatever the head says). `closed`: no more bytes will come (ends a body
    /// delimited by the close).
    static func parseResponse(_ bytes: [UInt8], headRequest: Bool, closed: Bool) throws -> Parse {
        guard let end = headEnd(bytes) else { return .needMore }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw ProxyTestError("not a status line: \(lines[0].debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw ProxyTestError("bad header line \(line.debugDescription)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = TestResponse(status: status, headers: headers, body: "", chunked: false)
        let bodyStart = end + 4
        if headRequest || (100..<200).contains(status) || status == 204 || status == 304 {
            return .done(response, consumed: bodyStart)
        }
        if let te = response.header("transfer-encoding"), te.lowercased().contains("chunked") {
            response.chunked = true
            var index = bodyStart
            var body: [UInt8] = []
            while true {
                guard let lineEnd = lineEnd(bytes, from: index) else { return .needMore }
                let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw ProxyTestError("bad chunk size line \(sizeText.debugDescription)")
                }
                index = lineEnd + 2
                if size == 0 {
                    // Trailers (none expected) up to an empty line.
                    while true {
                        guard let trailerEnd = Self.lineEnd(bytes, from: index) else { return .needMore }
                        let empty = trailerEnd == index
                        index = trailerEnd + 2
                        if empty { break }
                    }
                    response.body = String(decoding: body, as: UTF8.self)
                    return .done(response, consumed: index)
                }
                guard bytes.count >= index + size + 2 else { return .needMore }
                body += bytes[index..<(index + size)]
                index += size + 2
            }
        }
        if let lengthText = response.header("content-length") {
            guard let length = Int(lengthText) else { throw ProxyTestError("bad content-length \(lengthText)") }
            guard bytes.count >= bodyStart + length else { return .needMore }
            response.body = String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self)
            return .done(response, consumed: bodyStart + length)
        }
        guard closed else { return .needMore }
        response.body = String(decoding: bytes[bodyStart...], as: UTF8.self)
        return .done(response, consumed: bytes.count)
    }
}

/// A TCP client over NIO that keeps every byte it receives until a test reads it.
final class RawHTTPClient: Sendable {
    let channel: Channel
    private let inbox: Inbox

    final class Inbox: Sendable {
        struct State {
            var bytes: [UInt8] = []
            var closed = false
        }
        let state = Mutex(State())
    }

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `address`, from `sourceIP` (port 0) when given.
    static func connect(to address: SocketAddress, from sourceIP: String? = nil,
                        group: any EventLoopGroup) async throws -> RawHTTPClient {
        let inbox = Inbox()
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboxHandler(inbox: inbox))
                }
            }
        if let sourceIP {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceIP, port: 0))
        }
        let channel = try await bootstrap.connect(to: address).get()
        return RawHTTPClient(channel: channel, inbox: inbox)
    }

    /// The text of a request: request line, `Host` (when given), `headers`, an empty line, `body`.
    static func request(_ method: String, _ target: String, host: String?, headers: [(String, String)] = [],
                        body: String = "", version: String = "HTTP/1.1") -> String {
        var text = "\(method) \(target) \(version)\r\n"
        if let host { text += "Host: \(host)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        return text + "\r\n" + body
    }

    /// Sends `request(method, target, host:headers:body:)` and reads its response.
    func roundTrip(_ method: String, _ target: String, host: String?, headers: [(String, String)] = [],
                   body: String = "", headRequest: Bool = false) async throws -> TestResponse {
        try await send(Self.request(method, target, host: host, headers: headers, body: body))
        return try await readResponse(headRequest: headRequest)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Reads one response (waiting up to `timeout` for all of it).
    func readResponse(headRequest: Bool = false, timeout: Duration = .seconds(10)) async throws -> TestResponse {
        let deadline = ContinuousClock.now + timeout
        while true {
            let parsed = try inbox.state.withLock { state -> (TestResponse?, Bool) in
                switch try RawHTTP.parseResponse(state.bytes, headRequest: headRequest, closed: state.closed) {
                case .needMore:
                    return (nil, state.closed)
                case .done(let response, let consumed):
                    state.bytes.removeFirst(consumed)
                    return (response, state.closed)
                }
            }
            if let response = parsed.0 { return response }
            if parsed.1 {
                throw ProxyTestError("connection closed before a complete response; received \(String(decoding: receivedBytes(), as: UTF8.self).debugDescription)")
            }
            guard ContinuousClock.now < deadline else {
                throw ProxyTestError("no complete response within \(timeout); received \(String(decoding: receivedBytes(), as: UTF8.self).debugDescription)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until the received (unread) bytes contain `text`, then consumes and returns
    /// everything up to and including it.
    func read(until text: String, timeout: Duration = .seconds(10)) async throws -> String {
        let needle = Array(text.utf8)
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = inbox.state.withLock { state -> [UInt8]? in
                guard state.bytes.count >= needle.count else { return nil }
                for i in 0...(state.bytes.count - needle.count) where Array(state.bytes[i..<(i + needle.count)]) == needle {
                    let taken = Array(state.bytes[..<(i + needle.count)])
                    state.bytes.removeFirst(i + needle.count)
                    return taken
                }
                return nil
            }
            if let found { return String(decoding: found, as: UTF8.self) }
            if isClosed { throw ProxyTestError("closed before \(text.debugDescription); received \(String(decoding: receivedBytes(), as: UTF8.self).debugDescription)") }
            guard ContinuousClock.now < deadline else {
                throw ProxyTestError("no \(text.debugDescription) within \(timeout); received \(String(decoding: receivedBytes(), as: UTF8.self).debugDescription)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The bytes received and not read yet.
    func receivedBytes() -> [UInt8] { inbox.state.withLock { $0.bytes } }

    /// Whether the peer has closed the connection (or it was reset).
    var isClosed: Bool { inbox.state.withLock { $0.closed } }

    /// Waits up to `timeout` for the peer to close; returns whether it did.
    func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(timeout: timeout) { isClosed }
    }

    func closeNow() {
        channel.close(promise: nil)
    }

    private final class InboxHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox

        init(inbox: Inbox) { self.inbox = inbox }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            inbox.state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            inbox.state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
