import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2
import Testing

/// Flow control and abuse over loopback sockets: a server that does not consume, a
/// rapid-reset flood in hand-made frames, garbage after the preface.
@Suite("HTTP/2 flow control and abuse over loopback")
struct LoopbackLimitTests {
    @Test("a 10 MiB upload stops at the window while the server does not consume; all arrives after it does")
    func uploadWaitsForConsumption() async throws {
        var configuration = HTTP2Configuration()
        configuration.initialStreamWindowSize = 256 << 10
        configuration.connectionWindowSize = 1 << 20
        let server = try await LoopbackServer.start(configuration: configuration)
        defer { Task { await server.stop() } }
        let client = try await LoopbackClient.connect(port: server.port)
        defer { Task { await client.close() } }

        let body = patternBytes(10 << 20, seed: 42)
        let sent = NIOLockedValueBox(0)
        let (_, response) = try await client.start(
            [":method": "POST", ":scheme": "http", ":authority": "x", ":path": "/hold"], body: body, chunkSize: 64 << 10, sent: sent)

        // The window fills, then nothing more comes: never more than one stream window.
        let deadline = Date().addingTimeInterval(60)
        while server.control.receivedCount < 256 << 10 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.control.receivedCount == 256 << 10)
        #expect(server.control.unconsumed == 256 << 10)
        // The client's chunks complete only as they are framed: at most a window's worth.
        #expect(sent.withLockedValue { $0 } <= 256 << 10)

        server.control.release()
        let summary = try await response.get()
        #expect(summary.heads.first?.status == 200)
        #expect(summary.trailers?.first(name: "x-received-bytes") == "\(10 << 20)")
        #expect(server.control.received == body)
        #expect(sent.withLockedValue { $0 } == 10 << 20)
    }

    @Test("curl uploading 10 MiB stops at the window while the server does not consume; all arrives after it does")
    func curlUploadWaitsForConsumption() async throws {
        let curl = try InteropTests.tool("curl")
        let files = try TemporaryFiles()
        defer { files.remove() }
        var configuration = HTTP2Configuration()
        configuration.initialStreamWindowSize = 256 << 10
        configuration.connectionWindowSize = 1 << 20
        let server = try await LoopbackServer.start(configuration: configuration)
        defer { Task { await server.stop() } }
        let body = patternBytes(10 << 20, seed: 9)
        let upload = try files.write(Array(body.readableBytesView), to: "upload.bin")
        let client = try SpawnedTool(
            [curl, "-sS", "--http2-prior-knowledge", "--data-binary", "@\(upload)", "-o", "/dev/null", "-w", "%{http_code}",
             "\(server.url)/hold"],
            directory: files)
        defer { client.kill() }

        let deadline = Date().addingTimeInterval(60)
        while server.control.receivedCount < 256 << 10 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.control.receivedCount == 256 << 10)
        #expect(client.isRunning)

        server.control.release()
        #expect(await client.waitForExit(timeout: 120))
        #expect(client.exitStatus == 0, "\(client.stderr)")
        #expect(client.stdout == "200")
        #expect(server.control.received == body)
    }

    @Test("rapid-reset flood: GOAWAY(ENHANCE_YOUR_CALM), connection closed, another connection still served")
    func rapidResetFlood() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let attacker = try await RawConnection.connect(port: server.port)
        defer { Task { await attacker.close() } }
        try await attacker.send(RawFrames.rapidResetFlood(count: 1000))
        let received = try #require(try await attacker.waitForClose(timeout: .seconds(60)), "the server kept the connection open")
        #expect(RawFrames.goAwayCodes(in: received) == [0xb])

        let client = try await LoopbackClient.connect(port: server.port)
        defer { Task { await client.close() } }
        let summary = try await client.request([":method": "GET", ":scheme": "http", ":authority": "x", ":path": "/"])
        #expect(summary.heads.first?.status == 200)
        #expect(String(buffer: summary.body) == TestServerApplication.staticBody)
    }

    @Test("HEADERS flood past the stream limit, SETTINGS not acknowledged: refusals counted, GOAWAY(ENHANCE_YOUR_CALM)")
    func headersFloodUnacknowledged() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let attacker = try await RawConnection.connect(port: server.port)
        defer { Task { await attacker.close() } }
        try await attacker.send(RawFrames.headersFlood(count: 1000, acknowledge: false))
        let received = try #require(try await attacker.waitForClose(timeout: .seconds(60)), "the server kept the connection open")
        #expect(RawFrames.goAwayCodes(in: received) == [0xb])
        // The first 100 were taken; then refusals.
        let refused = RawFrames.scan(received).filter { $0.type == RawFrames.rstStream }
        #expect(refused.count > 100)
    }

    @Test("HEADERS flood past the acknowledged stream limit: GOAWAY(PROTOCOL_ERROR)")
    func headersFloodAcknowledged() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let attacker = try await RawConnection.connect(port: server.port)
        defer { Task { await attacker.close() } }
        // Let the server's SETTINGS go out first, so that our ACK answers it.
        try await attacker.send(RawFrames.preface)
        try await Task.sleep(for: .milliseconds(200))
        var flood = RawFrames.headersFlood(count: 200, acknowledge: true)
        flood.moveReaderIndex(forwardBy: RawFrames.preface.readableBytes)
        try await attacker.send(flood)
        let received = try #require(try await attacker.waitForClose(timeout: .seconds(60)), "the server kept the connection open")
        #expect(RawFrames.goAwayCodes(in: received) == [0x1])
    }

    @Test("garbage after the preface: GOAWAY(PROTOCOL_ERROR) and close")
    func garbageAfterPreface() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let peer = try await RawConnection.connect(port: server.port)
        defer { Task { await peer.close() } }
        var bytes = RawFrames.preface
        bytes.writeBytes((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        try await peer.send(bytes)
        let received = try #require(try await peer.waitForClose(timeout: .seconds(60)), "the server kept the connection open")
        #expect(RawFrames.goAwayCodes(in: received) == [0x1])
    }

    @Test("a HEADERS frame with a broken HPACK block: GOAWAY(COMPRESSION_ERROR) and close")
    func brokenHeaderBlock() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let peer = try await RawConnection.connect(port: server.port)
        defer { Task { await peer.close() } }
        var bytes = RawFrames.preface
        RawFrames.append(type: RawFrames.settings, to: &bytes)
        // 0xff 0xff ...: an indexed field far beyond any table.
        RawFrames.append(
            type: RawFrames.headers, flags: RawFrames.endHeaders | RawFrames.endStream, stream: 1,
            payload: [0xff, 0xff, 0xff, 0xff, 0x0f], to: &bytes)
        try await peer.send(bytes)
        let received = try #require(try await peer.waitForClose(timeout: .seconds(60)), "the server kept the connection open")
        #expect(RawFrames.goAwayCodes(in: received) == [0x9])
    }

    @Test("graceful shutdown over a socket: the in-flight stream finishes, then the server closes")
    func gracefulShutdown() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let client = try await LoopbackClient.connect(port: server.port)
        defer { Task { await client.close() } }
        // A /hold stream stays open until released.
        let (_, response) = try await client.start(
            [":method": "POST", ":scheme": "http", ":authority": "x", ":path": "/hold"], body: ByteBuffer(string: "payload"))
        let deadline = Date().addingTimeInterval(60)
        while server.control.receivedCount < 7 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await server.shutdownConnections(gracePeriod: .seconds(60))
        // The notice, then (after the PING's round trip) the final GOAWAY naming stream 1.
        while try await client.goAways().count < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let goAways = try await client.goAways()
        #expect(goAways == [.noError, .noError], "\(goAways)")
        // The stream is still served…
        server.control.release()
        let summary = try await response.get()
        #expect(summary.heads.first?.status == 200)
        #expect(summary.closed == .noError)
        // …then the connection closes.
        try await client.channel.closeFuture.get()
    }
}
