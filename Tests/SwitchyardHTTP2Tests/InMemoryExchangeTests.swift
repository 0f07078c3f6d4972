import NIOCore
import NIOEmbedded
import SwitchyardHTTP2
import Testing

/// A client and a server handler joined in memory: requests and responses with bodies and
/// trailers, many streams, resets, GOAWAY, graceful shutdown.
@Suite("HTTP/2 in memory")
struct InMemoryExchangeTests {
    static let post: HTTP2HeaderBlock = [
        ":method": "POST", ":scheme": "http", ":authority": "backend.test:8080", ":path": "/upload",
        "content-type": "application/grpc", "X-Request-Id": "alternative",
    ]

    @Test("a request with body and trailers, a response with body and gRPC trailers")
    func requestAndResponseWithTrailers() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        #expect(id == HTTP2StreamID(1))
        connection.client(.sendData(id, ByteBuffer(string: "hello, "), endStream: false))
        connection.client(.sendData(id, ByteBuffer(string: "world"), endStream: false))
        connection.client(.sendTrailers(id, ["x-checksum": "abc"]))
        try connection.pump()

        let request = try #require(connection.takeServerEvents().summaries()[id])
        let head = try #require(request.heads.first)
        #expect(head.method == "POST")
        #expect(head.path == "/upload")
        #expect(head.authority == "backend.test:8080")
        #expect(head.first(name: "x-request-id") == "alternative")  // lowercased on the way out
        #expect(String(buffer: request.body) == "hello, world")
        #expect(request.trailers?.first(name: "x-checksum") == "abc")
        #expect(request.bodyEnded)
        #expect(request.closed == nil)

        connection.server(.consume(id, bytes: request.dataBytes))
        connection.server(.sendHeaders(id, [":status": "200", "content-type": "application/grpc"], endStream: false))
        let sent = connection.server(.sendData(id, ByteBuffer(string: "reply"), endStream: false))
        connection.server(.sendTrailers(id, ["grpc-status": "0", "grpc-message": "ok"]))
        try connection.pump()
        try sent.wait()

        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.heads.first?.status == 200)
        #expect(String(buffer: response.body) == "reply")
        #expect(response.trailers?.first(name: "grpc-status") == "0")
        #expect(response.trailers?.first(name: "grpc-message") == "ok")
        #expect(response.closed == .noError)
        #expect(connection.takeServerEvents().summaries()[id]?.closed == .noError)
        #expect(connection.client.isActive && connection.server.isActive)
    }

    @Test("a server's NO_ERROR reset right after its response (the request still open) waits for the response's last frame")
    func resetAfterCompleteResponse() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        connection.client(.sendData(id, ByteBuffer(string: "part of the body"), endStream: false))
        try connection.pump()
        _ = connection.takeServerEvents()
        // The response and the reset in one go, as a proxy does when its upstream answered
        // before the client finished sending: RST_STREAM would go out before the queued DATA.
        connection.server.write(HTTP2Command.sendHeaders(id, [":status": "200"], endStream: false), promise: nil)
        connection.server.write(HTTP2Command.sendData(id, ByteBuffer(string: "the whole response"), endStream: true), promise: nil)
        connection.server.write(HTTP2Command.resetStream(id, .noError), promise: nil)
        connection.server.flush()
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.heads.first?.status == 200)
        #expect(String(buffer: response.body) == "the whole response")
        #expect(response.bodyEnded, "the DATA with END_STREAM arrived before the reset")
        #expect(response.closed == .noError)

        // A request that ended before the response did: no reset at all.
        let second = try connection.open(Self.post, endStream: true)
        try connection.pump()
        _ = connection.takeServerEvents()
        connection.server(.sendHeaders(second, [":status": "200"], endStream: false))
        connection.server(.sendData(second, ByteBuffer(string: "ok"), endStream: true))
        connection.server(.resetStream(second, .noError))
        try connection.pump()
        let answered = try #require(connection.takeClientEvents().summaries()[second])
        #expect(String(buffer: answered.body) == "ok")
        #expect(answered.closed == .noError)
        #expect(connection.client.isActive && connection.server.isActive)
    }

    @Test("headers-only request and trailers-only response (gRPC errors)")
    func headersOnly() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open([":method": "GET", ":scheme": "http", ":authority": "a", ":path": "/"], endStream: true)
        try connection.pump()
        let request = try #require(connection.takeServerEvents().summaries()[id])
        #expect(request.bodyEnded)
        connection.server(.sendHeaders(id, [":status": "200", "grpc-status": "5", "grpc-message": "not found"], endStream: true))
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.heads.first?.first(name: "grpc-status") == "5")
        #expect(response.bodyEnded)
        #expect(response.trailers == nil)
        #expect(response.closed == .noError)
    }

    @Test("an informational 100 head before the final one")
    func informationalHead() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open([":method": "POST", ":scheme": "http", ":authority": "a", ":path": "/", "expect": "100-continue"])
        try connection.pump()
        connection.server(.sendHeaders(id, [":status": "100"], endStream: false))
        connection.server(.sendHeaders(id, [":status": "204"], endStream: true))
        connection.client(.sendData(id, ByteBuffer(), endStream: true))
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(response.heads.map(\.status) == [100, 204])
        #expect(response.trailers == nil)
        #expect(response.closed == .noError)
    }

    @Test("300 concurrent streams through a server allowing 100 at a time")
    func manyConcurrentStreams() throws {
        var server = HTTP2Configuration()
        server.maxConcurrentStreams = 100
        let connection = try InMemoryConnection(server: server, serverApplication: TestServerApplication())
        var ids: [HTTP2StreamID] = []
        for index in 0..<300 {
            let id = try connection.open([":method": "POST", ":scheme": "http", ":authority": "a", ":path": "/echo"])
            connection.client(.sendData(id, ByteBuffer(string: "request \(index)"), endStream: true))
            ids.append(id)
        }
        try connection.pump()
        let events = connection.takeClientEvents()
        let summaries = events.summaries()
        #expect(summaries.count == 300)
        for (index, id) in ids.enumerated() {
            let response = try #require(summaries[id])
            #expect(response.heads.first?.status == 200)
            #expect(String(buffer: response.body) == "request \(index)")
            #expect(response.trailers?.first(name: "x-echo-bytes") == "\("request \(index)".utf8.count)")
            #expect(response.closed == .noError)
        }
        #expect(Set(ids).count == 300)
    }

    @Test("everything answered within one read burst goes out in one write")
    func coalescedOutput() throws {
        let connection = try InMemoryConnection(serverApplication: TestServerApplication())
        for _ in 0..<50 {
            _ = try connection.open([":method": "GET", ":scheme": "http", ":authority": "a", ":path": "/"], endStream: true)
        }
        let writes = try connection.burstToServer()
        #expect(writes.count == 1)
        try connection.pump()
        let responses = connection.takeClientEvents().summaries()
        #expect(responses.count == 50)
        #expect(responses.values.allSatisfy { String(buffer: $0.body) == TestServerApplication.staticBody && $0.closed == .noError })
    }

    @Test("commands that do not fit the role or the stream's state fail their promise")
    func invalidCommands() throws {
        let connection = try InMemoryConnection()
        let head: HTTP2HeaderBlock = [":method": "POST", ":scheme": "http", ":authority": "a", ":path": "/"]
        let serverOpen = connection.server.eventLoop.makePromise(of: HTTP2StreamID.self)
        connection.server(.openStream(head, endStream: true, streamID: serverOpen))
        #expect(throws: HTTP2Error.self) { try serverOpen.futureResult.wait() }
        let id = try connection.open(head)
        #expect(throws: HTTP2Error.self) { try connection.client(.sendHeaders(id, [":status": "200"], endStream: true)).wait() }
        try connection.pump()
        // The server has not answered yet: no body before the head.
        #expect(throws: HTTP2Error.self) { try connection.server(.sendData(id, ByteBuffer(string: "x"), endStream: false)).wait() }
        try connection.server(.sendHeaders(id, [":status": "200"], endStream: false)).wait()
        #expect(throws: HTTP2Error.self) { try connection.server(.sendHeaders(id, [":status": "200"], endStream: false)).wait() }
        try connection.client(.sendData(id, ByteBuffer(string: "x"), endStream: true)).wait()
        // After the end, nothing more.
        #expect(throws: HTTP2Error.self) { try connection.client(.sendData(id, ByteBuffer(string: "y"), endStream: true)).wait() }
        #expect(throws: HTTP2Error.self) { try connection.client(.sendTrailers(id, ["x": "1"])).wait() }
        #expect(throws: HTTP2Error.unknownStream(HTTP2StreamID(99))) { try connection.client(.resetStream(HTTP2StreamID(99), .cancel)).wait() }
    }

    @Test("a client's reset reaches the server, and fails the server's queued data")
    func resetPropagates() throws {
        var client = HTTP2Configuration()
        client.initialStreamWindowSize = 1024  // the server's 4 KiB cannot all go out
        let connection = try InMemoryConnection(client: client)
        let id = try connection.open(Self.post)
        connection.client(.sendData(id, ByteBuffer(string: "partial"), endStream: false))
        try connection.pump()
        connection.server(.sendHeaders(id, [":status": "200"], endStream: false))
        let queued = connection.server(.sendData(id, patternBytes(4096), endStream: false))
        try connection.pump()
        connection.client(.resetStream(id, .cancel))
        try connection.pump()

        #expect(connection.takeServerEvents().summaries()[id]?.closed == .cancel)
        #expect(connection.takeClientEvents().summaries()[id]?.closed == .cancel)
        #expect(throws: HTTP2Error.streamClosed(id, .cancel)) { try queued.wait() }
        // Commands on the closed stream fail; the connection goes on.
        #expect(throws: HTTP2Error.unknownStream(id)) {
            try connection.server(.sendData(id, ByteBuffer(string: "late"), endStream: true)).wait()
        }
        let next = try connection.open([":method": "GET", ":scheme": "http", ":authority": "a", ":path": "/"], endStream: true)
        try connection.pump()
        #expect(connection.takeServerEvents().summaries()[next]?.bodyEnded == true)
    }

    @Test("a server's reset reaches the client")
    func serverReset() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        try connection.pump()
        connection.server(.resetStream(id, .refusedStream))
        try connection.pump()
        #expect(connection.takeClientEvents().summaries()[id]?.closed == .refusedStream)
        #expect(throws: HTTP2Error.unknownStream(id)) {
            try connection.client(.sendData(id, ByteBuffer(string: "x"), endStream: true)).wait()
        }
    }

    @Test("GOAWAY from the server: in-flight streams finish, no new ones, then both sides close")
    func goAway() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        try connection.pump()
        connection.server(.goAway(.noError))
        try connection.pump()
        let goAways = connection.takeClientEvents().goAways
        #expect(goAways.count == 1)
        #expect(goAways.first?.lastStreamID == id)
        #expect(goAways.first?.code == .noError)
        // The client may not open more.
        let refused = connection.client.eventLoop.makePromise(of: HTTP2StreamID.self)
        connection.client(.openStream([":method": "GET", ":scheme": "http", ":authority": "a", ":path": "/"], endStream: true, streamID: refused))
        #expect(throws: HTTP2Error.streamsExhausted) { try refused.futureResult.wait() }
        // The one in flight completes.
        connection.client(.sendData(id, ByteBuffer(string: "body"), endStream: true))
        try connection.pump()
        connection.server(.sendHeaders(id, [":status": "200"], endStream: true))
        try connection.pump()
        #expect(connection.takeClientEvents().summaries()[id]?.closed == .noError)
        try connection.pump()
        #expect(!connection.server.isActive)
        #expect(!connection.client.isActive)
    }

    @Test("graceful shutdown: notice, PING, final GOAWAY naming the last stream, close when done")
    func gracefulShutdown() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        try connection.pump()
        connection.server(.shutdown(gracePeriod: .seconds(60)))
        try connection.pump()
        let goAways = connection.takeClientEvents().goAways
        #expect(goAways.map(\.lastStreamID) == [HTTP2StreamID(Int32.max), id])
        #expect(goAways.allSatisfy { $0.code == .noError })
        #expect(connection.server.isActive)
        connection.client(.sendData(id, ByteBuffer(string: "last words"), endStream: true))
        connection.server(.sendHeaders(id, [":status": "200"], endStream: false))
        connection.server(.sendData(id, ByteBuffer(string: "bye"), endStream: true))
        try connection.pump()
        let response = try #require(connection.takeClientEvents().summaries()[id])
        #expect(String(buffer: response.body) == "bye")
        #expect(response.closed == .noError)
        try connection.pump()
        #expect(!connection.server.isActive)
    }

    @Test("graceful shutdown's deadline cuts off streams that do not finish")
    func gracefulShutdownDeadline() throws {
        let connection = try InMemoryConnection()
        let id = try connection.open(Self.post)
        try connection.pump()
        connection.server(.shutdown(gracePeriod: .seconds(5)))
        try connection.pump()
        #expect(connection.server.isActive)
        connection.server.embeddedEventLoop.advanceTime(by: .seconds(6))
        try connection.pump()
        #expect(!connection.server.isActive)
        #expect(connection.takeServerEvents().summaries()[id]?.closed == .cancel)
    }
}
