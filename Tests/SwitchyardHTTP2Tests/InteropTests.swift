import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardHTTP2
import SwitchyardSubprocess
import Testing

/// Real peers over loopback sockets: curl, nghttp and h2load against our server; our client
/// against nghttpd and against our server.
@Suite("HTTP/2 interop over loopback")
struct InteropTests {
    static func tool(_ name: String) throws -> String {
        try #require(SpawnedTool.find(name), "\(name) is missing: apt-get install -y nghttp2-client nghttp2-server curl")
    }

    @Test("curl --http2-prior-knowledge: GET, and a 1 MiB POST echoed back")
    func curl() async throws {
        let curl = try Self.tool("curl")
        let files = try TemporaryFiles()
        defer { files.remove() }
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }

        let get = try await SpawnedTool.run(
            [curl, "-sS", "--http2-prior-knowledge", "-D", files.path("get.headers"), "-o", files.path("get.body"), "\(server.url)/"],
            in: files)
        #expect(get.status == 0, "\(get.stderr)")
        let headers = String(decoding: try files.read("get.headers"), as: UTF8.self)
        #expect(headers.hasPrefix("HTTP/2 200"))
        #expect(headers.lowercased().contains("content-type: text/plain"))
        #expect(String(decoding: try files.read("get.body"), as: UTF8.self) == TestServerApplication.staticBody)

        let upload = Array(patternBytes(1 << 20, seed: 7).readableBytesView)
        let uploadPath = try files.write(upload, to: "upload.bin")
        let post = try await SpawnedTool.run(
            [curl, "-sS", "--http2-prior-knowledge", "--data-binary", "@\(uploadPath)", "-D", files.path("post.headers"),
             "-o", files.path("post.body"), "\(server.url)/echo"],
            in: files)
        #expect(post.status == 0, "\(post.stderr)")
        #expect(String(decoding: try files.read("post.headers"), as: UTF8.self).hasPrefix("HTTP/2 200"))
        #expect(try files.read("post.body") == upload)
    }

    @Test("curl: a request header list over the server's limit gets 431, the next request 200")
    func curlOversizedHeaders() async throws {
        let curl = try Self.tool("curl")
        let files = try TemporaryFiles()
        defer { files.remove() }
        var configuration = HTTP2Configuration()
        configuration.maxHeaderListSize = 8 << 10
        let server = try await LoopbackServer.start(configuration: configuration)
        defer { Task { await server.stop() } }
        let big = String(repeating: "x", count: 20 << 10)
        let refused = try await SpawnedTool.run(
            [curl, "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "-H", "x-big: \(big)", "\(server.url)/"],
            in: files)
        #expect(refused.stdout == "431", "\(refused.stderr)")
        let fine = try await SpawnedTool.run(
            [curl, "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "\(server.url)/"], in: files)
        #expect(fine.stdout == "200", "\(fine.stderr)")
    }

    @Test("nghttp: a POST with request trailers, echoed with response trailers (grpc-status)")
    func nghttpTrailers() async throws {
        let nghttp = try Self.tool("nghttp")
        let files = try TemporaryFiles()
        defer { files.remove() }
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let upload = try files.write(Array(patternBytes(300_000, seed: 3).readableBytesView), to: "upload.bin")
        let result = try await SpawnedTool.run(
            [nghttp, "-v", "-n", "-d", upload, "--trailer", "x-client-checksum: 1234", "\(server.url)/echo"], in: files)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(":status: 200"))
        // The response trailers, as nghttp prints the HEADERS frame that carries them.
        #expect(result.stdout.contains("grpc-status: 0"))
        #expect(result.stdout.contains("x-echo-bytes: 300000"))
        #expect(result.stdout.contains("echo-x-client-checksum: 1234"))
    }

    @Test("nghttp: 100 concurrent GETs on one connection")
    func nghttpMultiplexed() async throws {
        let nghttp = try Self.tool("nghttp")
        let files = try TemporaryFiles()
        defer { files.remove() }
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let result = try await SpawnedTool.run([nghttp, "-s", "-n", "-m", "100", "\(server.url)/"], in: files)
        #expect(result.status == 0, "\(result.stderr)")
        // -s prints one line per stream: "+<time> +<time> <id> 200 22 /".
        let ok = result.stdout.split(separator: "\n").filter { $0.contains(" 200 ") }.count
        #expect(ok == 100, "\(result.stdout)")
    }

    @Test("h2load -n 20000 -c 10 -m 10: every request succeeds with a 2xx")
    func h2load() async throws {
        let h2load = try Self.tool("h2load")
        let files = try TemporaryFiles()
        defer { files.remove() }
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let result = try await SpawnedTool.run([h2load, "-n", "20000", "-c", "10", "-m", "10", "\(server.url)/"], in: files, timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("requests:") }, "\(result.stdout)")
        // requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout
        let succeeded = requests.split(separator: ",").first { $0.contains("succeeded") }?
            .split(separator: " ").first.flatMap { Int($0) }
        #expect(succeeded == 20000, "\(requests)")
        let statuses = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("status codes:") })
        #expect(statuses.hasPrefix("status codes: 20000 2xx"), "\(statuses)")
    }

    @Test("our client against nghttpd: a 2 MiB file, 50 concurrent GETs, response trailers")
    func clientAgainstNghttpd() async throws {
        let nghttpd = try Self.tool("nghttpd")
        let files = try TemporaryFiles()
        defer { files.remove() }
        let content = Array(patternBytes(2 << 20, seed: 11).readableBytesView)
        _ = try files.write(content, to: "file.bin")
        _ = try files.write(Array("small\n".utf8), to: "small.txt")
        let (daemon, client, port) = try await startNghttpd(nghttpd, files: files, extra: ["--trailer", "grpc-status: 0"])
        defer { daemon.kill() }
        defer { Task { await client.close() } }

        let head: HTTP2HeaderBlock = [":method": "GET", ":scheme": "http", ":authority": "127.0.0.1:\(port)", ":path": "/file.bin"]
        let big = try await client.request(head)
        #expect(big.heads.first?.status == 200)
        #expect(big.heads.first?.first(name: "server")?.hasPrefix("nghttpd") == true)
        #expect(Array(big.body.readableBytesView) == content)
        #expect(big.trailers?.first(name: "grpc-status") == "0")
        #expect(big.closed == .noError)

        var streams: [EventLoopFuture<StreamSummary>] = []
        for _ in 0..<50 {
            var small = head
            small.remove(name: ":path")
            small.add(name: ":path", value: "/small.txt")
            streams.append(try await client.start(small).1)
        }
        for stream in streams {
            let summary = try await stream.get()
            #expect(summary.heads.first?.status == 200)
            #expect(String(buffer: summary.body) == "small\n")
        }
        let missing = try await client.request([":method": "GET", ":scheme": "http", ":authority": "x", ":path": "/nope"])
        #expect(missing.heads.first?.status == 404)
    }

    @Test("our client against our server: 200 concurrent echo streams with trailers both ways")
    func clientAgainstServer() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let client = try await LoopbackClient.connect(port: server.port)
        defer { Task { await client.close() } }
        var streams: [(ByteBuffer, EventLoopFuture<StreamSummary>)] = []
        for index in 0..<200 {
            let body = patternBytes(1000 + index * 37, seed: UInt32(index))
            let started = try await client.start(
                [":method": "POST", ":scheme": "http", ":authority": "x", ":path": "/echo"], body: body, chunkSize: 700,
                trailers: ["x-index": "\(index)"])
            streams.append((body, started.1))
        }
        for (index, (body, future)) in streams.enumerated() {
            let summary = try await future.get()
            #expect(summary.heads.first?.status == 200)
            #expect(summary.body == body)
            #expect(summary.trailers?.first(name: "echo-x-index") == "\(index)")
            #expect(summary.trailers?.first(name: "grpc-status") == "0")
            #expect(summary.closed == .noError)
        }
    }

    @Test("a 32 MiB download over a socket arrives intact")
    func bigDownload() async throws {
        let server = try await LoopbackServer.start()
        defer { Task { await server.stop() } }
        let client = try await LoopbackClient.connect(port: server.port)
        defer { Task { await client.close() } }
        let count = 32 << 20
        let summary = try await client.request([":method": "GET", ":scheme": "http", ":authority": "x", ":path": "/big?bytes=\(count)"])
        #expect(summary.heads.first?.status == 200)
        #expect(summary.body.readableBytes == count)
        #expect(isBigPattern(summary.body))
    }
}

/// Starts nghttpd (no TLS, serving `files`) on a port below the ephemeral range, so that no
/// test's `bind(port: 0)` can take it meanwhile; tries other ports while the chosen one is taken.
func startNghttpd(_ nghttpd: String, files: TemporaryFiles, extra: [String]) async throws -> (SpawnedTool, LoopbackClient, Int) {
    var lastError: Error = SpawnedTool.Failure("nghttpd did not start")
    for _ in 0..<8 {
        let port = Int.random(in: 20_000..<32_000)
        if let taken = try? await LoopbackClient.connect(port: port) {
            await taken.close()
            continue
        }
        let daemon = try SpawnedTool([nghttpd, "--no-tls", "-a", "127.0.0.1", "-d", files.root] + extra + ["\(port)"], directory: files)
        do {
            let client = try await connectWithRetry(port: port, daemon: daemon)
            return (daemon, client, port)
        } catch {
            daemon.kill()
            lastError = error
        }
    }
    throw lastError
}

/// Connects our client to a daemon that is still starting.
func connectWithRetry(port: Int, daemon: SpawnedTool, timeout: Double = 30) async throws -> LoopbackClient {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        do {
            return try await LoopbackClient.connect(port: port)
        } catch {
            guard daemon.isRunning else {
                throw SpawnedTool.Failure("\(daemon.arguments[0]) exited: \(daemon.stderr)")
            }
            guard Date() < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
