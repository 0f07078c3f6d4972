import Foundation
import NIOCore
import NIOPosix
import Testing
import SwitchyardAdmin
import SwitchyardSubprocess
import SwitchyardTestSupport

/// What curl saw: the status line's code, the headers (lower-cased names) and the body.
private struct CurlResult {
    var status: Int
    var headers: [String: String]
    var body: String
    var connectionsOpened: Int
}

/// Runs curl against the server; `paths` in one invocation reuse one connection when they can.
private func curl(_ arguments: [String]) throws -> (output: String, exitCode: Int32) {
    let result = try SpawnedProcess.run(["/usr/bin/curl", "--silent", "--show-error", "--max-time", "10"] + arguments)
    return (result.stdout, result.status)
}

private func get(_ url: String, method: String = "GET", extra: [String] = []) throws -> CurlResult {
    let (output, code) = try curl(["-X", method, "--include", "--write-out", "\n%{num_connects}", url] + extra)
    try #require(code == 0, "curl exited \(code)")
    var lines = output.components(separatedBy: "\r\n")
    let status = Int(lines.removeFirst().split(separator: " ")[1])!
    var headers: [String: String] = [:]
    while let line = lines.first, !line.isEmpty {
        lines.removeFirst()
        let parts = line.split(separator: ":", maxSplits: 1)
        headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
    }
    lines.removeFirst()
    var body = lines.joined(separator: "\r\n")
    let connects = Int(body[body.index(after: body.lastIndex(of: "\n")!)...])!
    body = String(body[..<body.lastIndex(of: "\n")!])
    return CurlResult(status: status, headers: headers, body: body, connectionsOpened: connects)
}

private func withServer(
    readiness: Readiness = Readiness(), registry: MetricsRegistry = MetricsRegistry(),
    _ body: (String) async throws -> Void
) async throws {
    let server = AdminServer(
        registry: registry, readiness: readiness,
        configuration: .init(host: "127.0.0.1", port: 0, maxRequestBodyBytes: 64))
    let address = try await server.start()
    do {
        try await body("http://127.0.0.1:\(address.port!)")
    } catch {
        try await server.close()
        throw error
    }
    try await server.close()
}

@Suite("Admin HTTP server over loopback", .dedicatedThread)
struct AdminServerTests {
    @Test func liveAnswersAtOnce() async throws {
        try await withServer { base in
            let result = try get(base + "/live")
            #expect(result.status == 200)
            #expect(result.body == "live\n")
            #expect(result.headers["content-type"] == "text/plain; charset=utf-8")
        }
    }

    @Test func readyWaitsForEveryCondition() async throws {
        let readiness = Readiness(conditions: ["manifests not loaded", "identities not loaded"])
        try await withServer(readiness: readiness) { base in
            var result = try get(base + "/ready")
            #expect(result.status == 503)
            #expect(result.body == "not ready:\n  manifests not loaded\n  identities not loaded\n")
            readiness.markReady("manifests not loaded")
            result = try get(base + "/ready")
            #expect(result.status == 503)
            #expect(result.body == "not ready:\n  identities not loaded\n")
            readiness.markReady("identities not loaded")
            result = try get(base + "/ready")
            #expect(result.status == 200)
            #expect(result.body == "ready\n")
        }
    }

    @Test func metricsServesPrometheusText() async throws {
        let registry = MetricsRegistry()
        registry.counterFamily("request_total", help: "Requests.", labelNames: ["direction"])
            .labels("inbound").increment(by: 3)
        try await withServer(registry: registry) { base in
            let result = try get(base + "/metrics")
            #expect(result.status == 200)
            #expect(result.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(result.body == registry.render())
            #expect(result.body.contains("request_total{direction=\"inbound\"} 3\n"))
        }
    }

    @Test func unknownPathsAre404AndOtherMethods405() async throws {
        try await withServer { base in
            #expect(try get(base + "/nope").status == 404)
            #expect(try get(base + "/").status == 404)
            let post = try get(base + "/metrics", method: "POST")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET, HEAD")
            #expect(try get(base + "/live", method: "DELETE").status == 405)
            #expect(try get(base + "/live?verbose=1").status == 200)
        }
    }

    @Test func oversizedBodiesAreRefused() async throws {
        try await withServer { base in
            let result = try get(
                base + "/live", extra: ["--data-binary", String(repeating: "x", count: 1000)])
            #expect(result.status == 413)
            #expect(result.headers["connection"] == "close")
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer { base in
            let (output, code) = try curl([
                "--write-out", "[%{http_code} %{num_connects}]",
                base + "/live", base + "/metrics", base + "/live",
            ])
            #expect(code == 0)
            #expect(output == "live\n[200 1][200 0]live\n[200 0]")
        }
    }

    @Test func closeLetsTheServerStopAcceptingAndClosesIdleConnections() async throws {
        let server = AdminServer(
            registry: MetricsRegistry(), readiness: Readiness(),
            configuration: .init(host: "127.0.0.1", port: 0))
        let address = try await server.start()
        // An idle keep-alive connection, opened with NIO, is closed by the graceful close.
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: address.port!).get()
        try await Task.sleep(for: .milliseconds(50))
        let clock = ContinuousClock()
        let started = clock.now
        try await server.close()
        try await client.closeFuture.get()
        #expect(clock.now - started < .seconds(3))
        let (_, code) = try curl(["http://127.0.0.1:\(address.port!)/live"])
        #expect(code == 7)  // curl: failed to connect
    }
}
