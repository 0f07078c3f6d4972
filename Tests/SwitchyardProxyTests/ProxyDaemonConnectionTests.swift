// A real ProxyDaemon in ingress mode, in process: each hop's connection is managed on its own
// (keep-alive, Connection: close, HTTP/1.0), pooled connections the backend dropped, and a
// client that goes away mid-request.
import Foundation
import NIOCore
@testable import SwitchyardProxy
import Testing

@Suite("ProxyDaemon: connections on each hop")
struct ProxyDaemonConnectionTests {
    typealias M = TestManifests

    @Test("a pooled connection the backend drops when the next request arrives: a bodiless request is retried on a fresh one", arguments: TestHop.allCases)
    func stalePooledConnectionRetried(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("flaky", ip: "127.0.77.131", clusterIP: "10.96.0.131", hop: hop)
            let client = try await world.client()
            #expect(try await client.roundTrip("GET", "/arm-close", host: "flaky.test:8080").status == 200)
            // Goes out on the pooled connection, which the backend closes without answering.
            let response = try await client.roundTrip("GET", "/retried", host: "flaky.test:8080")
            #expect(response.status == 200)
            #expect(response.header("x-seen-uri") == "/retried")
            #expect(backend.acceptedConnections == 2)
            #expect(backend.heads.map(\.uri) == ["/arm-close", "/retried", "/retried"], "sent twice: dropped, then retried")
            #expect(!client.isClosed)
        }
    }

    @Test("the same with a request body: not replayed; 502 with l5d-proxy-error", arguments: TestHop.allCases)
    func stalePooledConnectionWithBodyNotRetried(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("flaky", ip: "127.0.77.132", clusterIP: "10.96.0.132", hop: hop)
            let client = try await world.client()
            #expect(try await client.roundTrip("GET", "/arm-close", host: "flaky.test:8080").status == 200)
            let response = try await client.roundTrip("POST", "/echo", host: "flaky.test:8080",
                                                      headers: [("Content-Length", "4")], body: "data")
            #expect(response.status == 502)
            #expect(response.header("l5d-proxy-error") != nil)
            #expect(backend.heads.map(\.uri) == ["/arm-close", "/echo"])
            #expect(backend.acceptedConnections == 1)
        }
    }

    @Test("poolMaxIdlePerKey 0 (--upstream-idle-connections 0): every request opens and closes its own upstream connection", arguments: TestHop.allCases)
    func noReuse(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("fresh", ip: "127.0.77.141", clusterIP: "10.96.0.141", hop: hop) { configuration in
                configuration.poolMaxIdlePerKey = 0
            }
            let client = try await world.client()
            for path in ["/one", "/two", "/three"] {
                #expect(try await client.roundTrip("GET", path, host: "fresh.test:8080").status == 200)
            }
            #expect(backend.acceptedConnections == 3)
            #expect(await eventually { backend.closedConnections == 3 }, "a used upstream connection is closed, not kept")
            #expect(!client.isClosed)
        }
    }

    @Test("the backend answers Connection: close: that upstream connection is not reused, the client's stays open", arguments: TestHop.allCases)
    func backendCloseIsPerHop(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("closer", ip: "127.0.77.133", clusterIP: "10.96.0.133", hop: hop)
            let client = try await world.client()
            let first = try await client.roundTrip("GET", "/close", host: "closer.test:8080")
            #expect(first.status == 200)
            #expect(first.header("connection") == nil, "the backend's Connection: close is hop-by-hop")
            let second = try await client.roundTrip("GET", "/next", host: "closer.test:8080")
            #expect(second.status == 200)
            #expect(backend.acceptedConnections == 2)
            #expect(!client.isClosed)
        }
    }

    @Test("the client sends Connection: close: the answer says so and the proxy closes; the upstream connection is pooled", arguments: TestHop.allCases)
    func clientClose(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("polite", ip: "127.0.77.134", clusterIP: "10.96.0.134", hop: hop)
            let client = try await world.client()
            let response = try await client.roundTrip("GET", "/", host: "polite.test:8080", headers: [("Connection", "close")])
            #expect(response.status == 200)
            #expect(response.header("connection")?.lowercased() == "close")
            #expect(await client.waitForClose())
            #expect(backend.heads.last?.headers["connection"].isEmpty == true, "the client's Connection: close is hop-by-hop")
            let again = try await world.get("/again", host: "polite.test:8080")
            #expect(again.status == 200)
            #expect(backend.acceptedConnections == 1, "the upstream connection outlived the client's")
        }
    }

    @Test("an HTTP/1.0 client: a chunked backend answer reaches it delimited by the close, as HTTP/1.0", arguments: TestHop.allCases)
    func http10Client(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("old", ip: "127.0.77.135", clusterIP: "10.96.0.135", hop: hop)
            let client = try await world.client()
            try await client.send(RawHTTPClient.request("GET", "/chunked", host: "old.test:8080", version: "HTTP/1.0"))
            #expect(await client.waitForClose(), "no keep-alive asked: the proxy closes after the answer")
            let text = String(decoding: client.receivedBytes(), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.0 200"), "\(text.debugDescription)")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(!response.chunked, "HTTP/1.0 has no chunked coding")
            #expect(response.body == "part1 part2 part3")
        }
    }

    @Test("the client goes away while its request waits: the upstream connection is closed, not pooled", arguments: TestHop.allCases)
    func clientGoesAway(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("waiter", ip: "127.0.77.136", clusterIP: "10.96.0.136", hop: hop)
            let client = try await world.client()
            try await client.send(RawHTTPClient.request("GET", "/hang", host: "waiter.test:8080"))
            #expect(await eventually { backend.heads.count == 1 })
            client.closeNow()
            #expect(await eventually { backend.closedConnections == 1 }, "the proxy closed its upstream connection")
            let next = try await world.get("/", host: "waiter.test:8080")
            #expect(next.status == 200)
            #expect(backend.acceptedConnections == 2)
        }
    }

    @Test("a client that closes its idle keep-alive connection: the proxy closes its side too", arguments: TestHop.allCases)
    func clientClosesIdleConnection(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("brief", ip: "127.0.77.138", clusterIP: "10.96.0.138", hop: hop)
            let daemon = try #require(world.daemon)
            let client = try await world.client()
            #expect(try await client.roundTrip("GET", "/", host: "brief.test:8080").status == 200)
            #expect(world.metric("tcp_open_connections", ["direction": "outbound", "tls": "false"]) == 1)
            client.closeNow()  // what curl does after its last response
            // Over the mesh hop, the inbound side's mTLS connection stays: the outbound keeps it for reuse.
            let kept = hop == .plain ? 0 : 1
            let closed = await eventually { daemon.connections.count == kept }
            #expect(closed, "the proxy keeps \(daemon.connections.count) client connection(s) open (CLOSE_WAIT)")
            #expect(world.metric("tcp_open_connections", ["direction": "outbound", "tls": "false"]) == 0)
            #expect(world.metric("tcp_close_total", ["direction": "outbound", "tls": "false"]) == 1)
        }
    }

    @Test("an idle client keep-alive connection is closed after clientIdleTimeout", arguments: TestHop.allCases)
    func clientIdleTimeout(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("idle", ip: "127.0.77.139", clusterIP: "10.96.0.139", hop: hop) { configuration in
                configuration.clientIdleTimeout = .milliseconds(300)
            }
            let client = try await world.client()
            #expect(try await client.roundTrip("GET", "/", host: "idle.test:8080").status == 200)
            #expect(await client.waitForClose(timeout: .seconds(5)), "still open 5 s after the last response")

            // A request in flight for longer than the idle timeout is not cut off by it.
            let slow = try await world.client()
            let response = try await slow.roundTrip("GET", "/slow?ms=900", host: "idle.test:8080")
            #expect(response.status == 200)
            #expect(response.body == "idle")
        }
    }

    @Test("a large request body and its echo pass through intact (backpressure both ways)", arguments: TestHop.allCases)
    func largeBodies(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("bulk", ip: "127.0.77.137", clusterIP: "10.96.0.137", hop: hop)
            let client = try await world.client()
            var body = ""
            for i in 0..<100_000 { body += "line \(i)\n" }  // about 1 MB, every line distinct
            try await client.send(RawHTTPClient.request("POST", "/echo", host: "bulk.test:8080",
                                                        headers: [("Content-Length", "\(body.utf8.count)")], body: body))
            let response = try await client.readResponse(timeout: .seconds(20))
            #expect(response.status == 200)
            #expect(response.body.utf8.count == body.utf8.count)
            #expect(response.body == body)
        }
    }
}
