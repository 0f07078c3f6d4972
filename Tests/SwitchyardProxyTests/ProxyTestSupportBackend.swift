// The test backends ("pods") of the in-process ProxyDaemon tests: an HTTP/1 server written with
// NIOPosix + NIOHTTP1 that records what it saw, and a raw server that answers an Upgrade
// request with 101 and then echoes bytes.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What a backend saw of one request.
struct SeenRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    var headers: HTTPHeaders
    var body: String
    /// Which accepted connection (1-based) carried it.
    var connection: Int

    /// Every value of header `name` (any case).
    func values(_ name: String) -> [String] { headers[name] }
}

/// A backend pod: listens on `ip`, port 0, and answers by path.
///
/// HTTP (`Kind.http`), by the path of the request target:
/// - `/hang`: never answers.
/// - `/slow?ms=N`: answers as below after N ms.
/// - `/echo`: answers with the request body (`content-length`).
/// - `/chunked`: a chunked response of three parts, `part1 part2 part3`.
/// - `/stream`: a chunked response whose first part `first ` is sent at once and whose rest,
///   `rest`, only when the test calls `release()`.
/// - `/close`: answers with `connection: close`, then closes the connection.
/// - `/big-header`: answers with an 8 KiB header field `x-big`.
/// - `/arm-close`: answers normally (keep-alive), but the *next* request on the same
///   connection is dropped: the connection is closed without an answer (a server that timed
///   the idle connection out just as a request arrived).
/// - anything else: the backend's name as the body.
/// Every answer carries `x-backend: <name>` and `x-seen-uri: <uri as received>`. A request with
/// `Expect: 100-continue` is answered `100 Continue` as soon as its head arrives. A HEAD
/// request gets the head of the GET answer (with its `content-length`) and no body.
///
/// `Kind.upgradeEcho`: reads a request head, answers `101 Switching Protocols`
/// (`upgrade: echo`) and echoes every later byte. `Kind.upgradeEchoGreeting` does the same but
/// writes `welcome\n` in the same write as the 101 (a server that speaks first).
final class TestBackend: Sendable {
    enum Kind: Sendable {
        case http
        case upgradeEcho
        case upgradeEchoGreeting
    }

    let name: String
    let ip: String
    let port: Int
    let kind: Kind
    let channel: Channel
    let recorder: Recorder

    /// `ip:port`, as the `Host` or `l5d-dst-override` of a pod.
    var authority: String { "\(ip):\(port)" }

    private init(name: String, ip: String, port: Int, kind: Kind, channel: Channel, recorder: Recorder) {
        self.name = name
        self.ip = ip
        self.port = port
        self.kind = kind
        self.channel = channel
        self.recorder = recorder
    }

    static func start(name: String, ip: String, kind: Kind = .http, group: any EventLoopGroup) async throws -> TestBackend {
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let connection = recorder.accepted(channel)
                return channel.eventLoop.makeCompletedFuture {
                    switch kind {
                    case .http:
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            BackendHTTPHandler(name: name, connection: connection, recorder: recorder))
                    case .upgradeEcho, .upgradeEchoGreeting:
                        try channel.pipeline.syncOperations.addHandler(UpgradeEchoHandler(
                            connection: connection, recorder: recorder, greeting: kind == .upgradeEchoGreeting ? "welcome\n" : ""))
                    }
                }
            }
            .bind(host: ip, port: 0).get()
        guard let port = channel.localAddress?.port else { throw ProxyTestError("backend \(name) has no port") }
        return TestBackend(name: name, ip: ip, port: port, kind: kind, channel: channel, recorder: recorder)
    }

    /// How many connections it has accepted.
    var acceptedConnections: Int { recorder.state.withLock { $0.accepted } }
    /// The requests it has read completely, in order.
    var requests: [SeenRequest] { recorder.state.withLock { $0.requests } }
    /// The heads it has received, including those whose body is still coming.
    var heads: [HTTPRequestHead] { recorder.state.withLock { $0.heads } }
    /// Body bytes received of the request in progress (or the last one).
    var partialBody: String { recorder.state.withLock { $0.partialBody } }
    /// How many of its accepted connections have closed.
    var closedConnections: Int { recorder.state.withLock { $0.closed } }

    /// Lets every `/stream` response that is waiting send its rest.
    func release() {
        let waiting = recorder.state.withLock { state in
            defer { state.released.removeAll() }
            return state.released
        }
        for action in waiting { action() }
    }

    func close() async {
        try? await channel.close()
        for child in recorder.state.withLock({ $0.children }) { try? await child.close() }
    }

    /// The backend's shared state (its handlers write; the test reads).
    final class Recorder: Sendable {
        struct State {
            var accepted = 0
            var closed = 0
            var requests: [SeenRequest] = []
            var heads: [HTTPRequestHead] = []
            var partialBody = ""
            var released: [@Sendable () -> Void] = []
            var children: [Channel] = []
        }

        let state = Mutex(State())

        func accepted(_ channel: Channel) -> Int {
            channel.closeFuture.whenComplete { _ in self.state.withLock { $0.closed += 1 } }
            return state.withLock {
                $0.accepted += 1
                $0.children.append(channel)
                return $0.accepted
            }
        }
    }
}

/// The HTTP side of `TestBackend`.
private final class BackendHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let name: String
    let connection: Int
    let recorder: TestBackend.Recorder
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var dropNext = false

    init(name: String, connection: Int, recorder: TestBackend.Recorder) {
        self.name = name
        self.connection = connection
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            recorder.state.withLock {
                $0.heads.append(head)
                $0.partialBody = ""
            }
            if dropNext {
                self.head = nil
                context.close(promise: nil)
                return
            }
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                                      promise: nil)
            }
        case .body(var buffer):
            let text = String(buffer: buffer)
            body.writeBuffer(&buffer)
            recorder.state.withLock { $0.partialBody += text }
        case .end:
            guard let head, context.channel.isActive else { return }
            self.head = nil
            let seen = SeenRequest(method: head.method, uri: head.uri, version: head.version, headers: head.headers,
                                   body: String(buffer: body), connection: connection)
            recorder.state.withLock { $0.requests.append(seen) }
            respond(context: context, to: head, body: seen.body)
        }
    }

    private func respond(context: ChannelHandlerContext, to head: HTTPRequestHead, body: String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        switch path {
        case "/hang":
            return
        case "/slow":
            let ms = query.split(separator: "&").compactMap { pair -> Int64? in
                let kv = pair.split(separator: "=")
                return kv.count == 2 && kv[0] == "ms" ? Int64(kv[1]) : nil
            }.first ?? 500
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(ms)) {
                handler.value.simple(context: loopContext.value, head: head, text: handler.value.name)
            }
        case "/echo":
            simple(context: context, head: head, text: body)
        case "/big-header":
            var headers = baseHeaders(head)
            headers.add(name: "x-big", value: String(repeating: "b", count: 8 * 1024))
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            end(context: context, head: head)
        case "/close":
            simple(context: context, head: head, text: name, close: true)
        case "/arm-close":
            dropNext = true
            simple(context: context, head: head, text: name)
        case "/chunked":
            var headers = baseHeaders(head)
            if head.version == .http1_1 { headers.add(name: "transfer-encoding", value: "chunked") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            for part in ["part1 ", "part2 ", "part3"] {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: part)))), promise: nil)
            }
            end(context: context, head: head)
        case "/stream":
            var headers = baseHeaders(head)
            headers.add(name: "transfer-encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "first ")))), promise: nil)
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            recorder.state.withLock {
                $0.released.append {
                    eventLoop.execute {
                        loopContext.value.writeAndFlush(handler.value.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "rest")))),
                                                        promise: nil)
                        handler.value.end(context: loopContext.value, head: head)
                    }
                }
            }
        default:
            simple(context: context, head: head, text: name)
        }
    }

    private func baseHeaders(_ head: HTTPRequestHead, close: Bool = false) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "x-backend", value: name)
        headers.add(name: "x-seen-uri", value: head.uri)
        if !head.isKeepAlive || close { headers.add(name: "connection", value: "close") }
        return headers
    }

    private func simple(context: ChannelHandlerContext, head: HTTPRequestHead, text: String, close: Bool = false) {
        var headers = baseHeaders(head, close: close)
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: String(text.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }
        end(context: context, head: head, close: close)
    }

    private func end(context: ChannelHandlerContext, head: HTTPRequestHead, close: Bool = false) {
        let keepAlive = head.isKeepAlive && !close
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

/// The `upgradeEcho` side of `TestBackend`.
private final class UpgradeEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let connection: Int
    let recorder: TestBackend.Recorder
    let greeting: String
    private var pending: [UInt8] = []
    private var upgraded = false

    init(connection: Int, recorder: TestBackend.Recorder, greeting: String) {
        self.connection = connection
        self.recorder = recorder
        self.greeting = greeting
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if upgraded {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            return
        }
        pending += buffer.readableBytesView
        guard let end = RawHTTP.headEnd(pending) else { return }
        let headText = String(decoding: pending[..<end], as: UTF8.self)
        let rest = Array(pending[(end + 4)...])
        pending = []
        upgraded = true
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: String(requestLine.first ?? "GET")),
                                   uri: requestLine.count > 1 ? String(requestLine[1]) : "/", headers: headers)
        recorder.state.withLock {
            $0.heads.append(head)
            $0.requests.append(SeenRequest(method: head.method, uri: head.uri, version: head.version, headers: headers,
                                           body: "", connection: connection))
        }
        let answer = "HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: Upgrade\r\n\r\n" + greeting
        context.write(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        if !rest.isEmpty { context.write(wrapOutboundOut(ByteBuffer(bytes: rest)), promise: nil) }
        context.flush()
    }
}
