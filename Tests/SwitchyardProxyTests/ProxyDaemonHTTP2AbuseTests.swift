// HTTP/2 clients that misbehave, at the daemon's outbound listener: raw frames written by a
// small Python client (socket only), the GOAWAY it gets back read from the wire; meanwhile a
// well-behaved client on another connection is still served.
import Foundation
import NIOCore
@testable import SwitchyardProxy
import SwitchyardSubprocess
import Testing

@Suite("ProxyDaemon: HTTP/2 abuse")
struct ProxyDaemonHTTP2AbuseTests {
    typealias M = TestManifests

    /// Writes the preface, an empty SETTINGS, then what `attack` says; prints the first GOAWAY's
    /// error code (`goaway <code>`), or `closed` / `timeout`, and the 431s it saw.
    static let script = #"""
import socket, struct, sys, time

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

def headers_block(extra=b""):
    # :method GET, :scheme http, :path /, then :authority as a literal without indexing
    authority = b"backend-a.test:8080"
    return b"\x82\x86\x84" + b"\x01" + bytes([len(authority)]) + authority + extra

def literal(name, value):
    def length(n):
        if n < 127:
            return bytes([n])
        out, n = [127], n - 127
        while n >= 128:
            out.append((n % 128) + 128)
            n //= 128
        out.append(n)
        return bytes(out)
    return b"\x00" + length(len(name)) + name + length(len(value)) + value

host, port, attack = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.settimeout(10)
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
out = b""
try:
    if attack == "rapid-reset":
        for i in range(1000):
            stream = 2 * i + 1
            out += frame(1, 0x05, stream, headers_block()) + frame(3, 0, stream, struct.pack(">I", 8))
        s.sendall(out)
    elif attack == "headers-flood":
        # 1,000 streams opened (no END_STREAM: they stay open) without waiting for anything:
        # far past SETTINGS_MAX_CONCURRENT_STREAMS (100).
        for i in range(1000):
            out += frame(1, 0x04, 2 * i + 1, headers_block())
        s.sendall(out)
    elif attack == "garbage":
        s.sendall(b"\xff" * 64)
    elif attack == "big-headers":
        s.sendall(frame(1, 0x05, 1, headers_block(literal(b"x-big", b"a" * 100000)[:16000])))
    elif attack == "data-on-stream-0":
        s.sendall(frame(0, 0, 0, b"hello"))
except OSError:
    pass
buffer, seen431, result = b"", 0, "timeout"
deadline = time.time() + 10
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except OSError:
        result = "closed"
        break
    if not chunk:
        result = "closed"
        break
    buffer += chunk
    while len(buffer) >= 9:
        length = int.from_bytes(buffer[:3], "big")
        if len(buffer) < 9 + length:
            break
        kind, payload = buffer[3], buffer[9:9 + length]
        buffer = buffer[9 + length:]
        if kind == 1 and payload[:2] == b"\x48\x03" and payload[2:5] == b"431":
            seen431 += 1
        if kind == 7:
            result = "goaway %d" % int.from_bytes(payload[4:8], "big")
            deadline = 0
            break
print(result, "431s=%d" % seen431)
"""#

    static func attack(_ world: ProxyWorld, _ name: String) async throws -> String {
        let file = world.directory.appendingPathComponent("h2abuse.py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let outbound = try world.outbound
        let result = try await SpawnedProcess.run(["python3", file.path, "127.0.0.1", String(outbound.port ?? 0), name], timeout: 60)
        #expect(result.status == 0, "\(result)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a rapid-reset flood and a HEADERS flood get GOAWAY ENHANCE_YOUR_CALM, an oversized frame FRAME_SIZE_ERROR, DATA on stream 0 PROTOCOL_ERROR; a client on another connection is served throughout")
    func floodsAndGarbage() async throws {
        try await withProxyWorld { world in
            let (a, _) = try await ProxyDaemonHTTP2Tests.tutorialWorld(world, ipA: "127.0.78.71", ipB: "127.0.78.72")
            let good = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await good.close() } }
            #expect(try await good.request(authority: "backend-a.test:8080").status == 200)

            let flood = try await Self.attack(world, "rapid-reset")
            #expect(flood.hasPrefix("goaway 11"), "ENHANCE_YOUR_CALM (0xb): \(flood)")
            #expect(try await good.request(authority: "backend-a.test:8080").body == "A backend\n", "still served")

            // Streams past the concurrency limit are refused; refusing them at that rate is the
            // same flood from the other side.
            let headers = try await Self.attack(world, "headers-flood")
            #expect(headers.hasPrefix("goaway 11"), "ENHANCE_YOUR_CALM (0xb): \(headers)")
            #expect(try await good.request(authority: "backend-a.test:8080").body == "A backend\n", "still served")

            // 64 bytes of 0xff read as a frame 16 MiB long: over SETTINGS_MAX_FRAME_SIZE.
            let garbage = try await Self.attack(world, "garbage")
            #expect(garbage.hasPrefix("goaway 6"), "FRAME_SIZE_ERROR (0x6): \(garbage)")
            let data = try await Self.attack(world, "data-on-stream-0")
            #expect(data.hasPrefix("goaway 1 "), "PROTOCOL_ERROR (0x1): \(data)")
            #expect(try await good.request(authority: "backend-a.test:8080").body == "A backend\n", "still served")
            #expect(a.requests.count < 600, "the floods were cut off long before their 2,000 streams: \(a.requests.count) forwarded")
        }
    }

    @Test("request headers over the limit: the stream is answered 431 (or refused), other streams and connections go on")
    func oversizedHeaders() async throws {
        try await withProxyWorld { world in
            _ = try await ProxyDaemonHTTP2Tests.tutorialWorld(world, ipA: "127.0.78.81", ipB: "127.0.78.82")
            let client = try await HTTP2TestClient.connect(to: try world.outbound, group: world.group)
            defer { Task { await client.close() } }
            let big = try await client.request(authority: "backend-a.test:8080",
                                               headers: [("x-big", String(repeating: "a", count: 80_000))])
            #expect(big.status == 431 || big.closed != .noError, "\(big.status) \(big.closed)")
            let next = try await client.request(authority: "backend-a.test:8080")
            #expect(next.status == 200, "the same connection goes on")
        }
    }
}
