// A real ProxyDaemon in ingress mode, in process: message framing through the proxy (chunked
// and content-length bodies both ways, streaming, HEAD), Expect: 100-continue, and Upgrade.
import NIOCore
@testable import SwitchyardProxy
import Testing

@Suite("ProxyDaemon: HTTP/1 messages through the proxy")
struct ProxyDaemonMessageTests {
    typealias M = TestManifests

    @Test("a chunked request body is streamed to the backend before it ends; a chunked response is streamed back", arguments: TestHop.allCases)
    func chunkedBothWaysStreamed(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("bodies", ip: "127.0.77.31", clusterIP: "10.96.0.31", hop: hop)
            let client = try await world.client()

            // Request: the first chunk must reach the backend while the client still holds the rest.
            try await client.send(RawHTTPClient.request("POST", "/echo", host: "bodies.test:8080",
                                                        headers: [("Transfer-Encoding", "chunked")]) + "6\r\nhello \r\n")
            let streamed = await eventually { backend.partialBody == "hello " }
            #expect(streamed, "the backend had \(backend.partialBody.debugDescription) before the request ended")
            try await client.send("5\r\nworld\r\n0\r\n\r\n")
            let echoed = try await client.readResponse()
            #expect(echoed.status == 200)
            #expect(echoed.body == "hello world")
            let seen = try #require(backend.requests.last)
            #expect(seen.body == "hello world")
            #expect(seen.values("transfer-encoding") == ["chunked"], "re-framed chunked on the upstream hop")

            // Response: the first part reaches the client while the backend still holds the rest.
            try await client.send(RawHTTPClient.request("GET", "/stream", host: "bodies.test:8080"))
            let firstArrived = await eventually { String(decoding: client.receivedBytes(), as: UTF8.self).contains("first ") }
            #expect(firstArrived, "received \(String(decoding: client.receivedBytes(), as: UTF8.self).debugDescription)")
            backend.release()
            let stream = try await client.readResponse()
            #expect(stream.status == 200)
            #expect(stream.chunked)
            #expect(stream.body == "first rest")

            // A chunked response of several parts, on the same connection.
            let chunked = try await client.roundTrip("GET", "/chunked", host: "bodies.test:8080")
            #expect(chunked.chunked)
            #expect(chunked.header("content-length") == nil)
            #expect(chunked.body == "part1 part2 part3")
            #expect(!client.isClosed)
        }
    }

    @Test("content-length bodies both ways; a HEAD response carries no body and the connection stays in step", arguments: TestHop.allCases)
    func contentLengthAndHead(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("lengths", ip: "127.0.77.32", clusterIP: "10.96.0.32", hop: hop)
            let client = try await world.client()
            let body = String(repeating: "0123456789", count: 1000)
            let echoed = try await client.roundTrip("POST", "/echo", host: "lengths.test:8080",
                                                    headers: [("Content-Length", "\(body.utf8.count)")], body: body)
            #expect(echoed.status == 200)
            #expect(!echoed.chunked)
            #expect(echoed.header("content-length") == "\(body.utf8.count)")
            #expect(echoed.body == body)
            let seen = try #require(backend.requests.last)
            #expect(seen.values("content-length") == ["\(body.utf8.count)"])
            #expect(seen.values("transfer-encoding").isEmpty)
            #expect(seen.body == body)

            let head = try await client.roundTrip("HEAD", "/", host: "lengths.test:8080", headRequest: true)
            #expect(head.status == 200)
            #expect(head.header("content-length") == "\("lengths".utf8.count)")
            #expect(backend.requests.last?.method == .HEAD)
            // Had a body followed the HEAD response, this response would not parse.
            let after = try await client.roundTrip("GET", "/after-head", host: "lengths.test:8080")
            #expect(after.status == 200)
            #expect(after.body == "lengths")
            #expect(after.header("x-seen-uri") == "/after-head")
            try await Task.sleep(for: .milliseconds(100))
            #expect(client.receivedBytes().isEmpty, "nothing after the last response")
        }
    }

    @Test("Expect: 100-continue: the backend's 100 Continue is relayed, then the body goes up and the response comes back", arguments: TestHop.allCases)
    func expectContinue(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("continue", ip: "127.0.77.41", clusterIP: "10.96.0.41", hop: hop)
            let client = try await world.client()
            try await client.send(RawHTTPClient.request("POST", "/echo", host: "continue.test:8080",
                                                        headers: [("Content-Length", "5"), ("Expect", "100-continue")]))
            let interim = try await client.readResponse(timeout: .seconds(5))
            #expect(interim.status == 100)
            #expect(backend.heads.last?.headers["expect"] == ["100-continue"], "the backend was asked")
            try await client.send("hello")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.body == "hello")
            #expect(backend.requests.last?.body == "hello")
        }
    }

    @Test("Upgrade: the backend's 101 is relayed, then raw bytes flow both ways through the proxy", arguments: TestHop.allCases)
    func upgradeSplice(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("echo", ip: "127.0.77.91", clusterIP: "10.96.0.91",
                                                           kind: .upgradeEcho, hop: hop)
            let client = try await world.client()
            let switched = try await client.roundTrip("GET", "/socket", host: "echo.test:8080",
                                                      headers: [("Connection", "Upgrade"), ("Upgrade", "echo")])
            #expect(switched.status == 101)
            #expect(switched.header("upgrade")?.lowercased() == "echo")
            #expect(switched.header("connection")?.lowercased() == "upgrade")
            let seen = try #require(backend.requests.last)
            #expect(seen.values("upgrade") == ["echo"])
            #expect(seen.values("connection").map { $0.lowercased() } == ["upgrade"])

            try await client.send("ping\u{0}\u{1}binary")
            #expect(try await client.read(until: "ping\u{0}\u{1}binary") == "ping\u{0}\u{1}binary")
            let big = String(repeating: "x", count: 200_000) + "END"
            try await client.send(big)
            let back = try await client.read(until: "END")
            #expect(back.utf8.count == big.utf8.count)
            #expect(!client.isClosed)
        }
    }

    @Test("Upgrade: bytes the client sends right behind the upgrade request reach the backend after the switch", arguments: TestHop.allCases)
    func upgradeWithEarlyData(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("echo", ip: "127.0.77.92", clusterIP: "10.96.0.92", kind: .upgradeEcho, hop: hop)
            let client = try await world.client()
            try await client.send(RawHTTPClient.request("GET", "/socket", host: "echo.test:8080",
                                                        headers: [("Connection", "Upgrade"), ("Upgrade", "echo")])
                                  + "early bytes")
            let switched = try await client.readResponse()
            #expect(switched.status == 101)
            #expect(try await client.read(until: "early bytes") == "early bytes")
            try await client.send("later")
            #expect(try await client.read(until: "later") == "later")
        }
    }

    @Test("Upgrade refused by the backend (an ordinary 200): relayed, then the client connection is closed", arguments: TestHop.allCases)
    func upgradeRefused(hop: TestHop) async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("plain", ip: "127.0.77.93", clusterIP: "10.96.0.93", hop: hop)
            let client = try await world.client()
            let response = try await client.roundTrip("GET", "/", host: "plain.test:8080",
                                                      headers: [("Connection", "Upgrade"), ("Upgrade", "echo")])
            #expect(response.status == 200)
            #expect(response.body == "plain")
            #expect(response.header("connection")?.lowercased() == "close")
            #expect(await client.waitForClose())
            #expect(backend.requests.last?.values("upgrade") == ["echo"])
        }
    }

    @Test("Upgrade: bytes the backend sends in the same write as its 101 reach the client without waiting for the client", arguments: TestHop.allCases)
    func upgradeWithServerGreeting(hop: TestHop) async throws {
        try await withProxyWorld { world in
            _ = try await world.startWithBackend("greeter", ip: "127.0.77.94", clusterIP: "10.96.0.94",
                                                 kind: .upgradeEchoGreeting, hop: hop)
            let client = try await world.client()
            let switched = try await client.roundTrip("GET", "/socket", host: "greeter.test:8080",
                                                      headers: [("Connection", "Upgrade"), ("Upgrade", "echo")])
            #expect(switched.status == 101)
            #expect(try await client.read(until: "welcome\n", timeout: .seconds(5)) == "welcome\n")
            try await client.send("ping")
            #expect(try await client.read(until: "ping") == "ping")
        }
    }
}
