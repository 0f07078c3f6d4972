// A real ProxyDaemon in ingress mode, in process: draining on shutdown.
import NIOCore
import NIOPosix
@testable import SwitchyardProxy
import Testing

@Suite("ProxyDaemon: shutdown")
struct ProxyDaemonLifecycleTests {
    typealias M = TestManifests

    @Test("shutdown(gracePeriod:) lets a slow request in flight finish and refuses new connections")
    func drainLetsInFlightFinish() async throws {
        try await withProxyWorld { world in
            let backend = try await world.startWithBackend("slow", ip: "127.0.77.121", clusterIP: "10.96.0.121")
            let daemon = try #require(world.daemon)
            let outbound = try world.outbound

            // An idle keep-alive connection, and one with a slow request in flight.
            let idle = try await world.client()
            try await idle.send(RawHTTPClient.request("GET", "/", host: "slow.test:8080"))
            #expect(try await idle.readResponse().status == 200)
            let busy = try await world.client()
            try await busy.send(RawHTTPClient.request("GET", "/slow?ms=6000", host: "slow.test:8080"))
            #expect(await eventually { backend.heads.contains { $0.uri == "/slow?ms=6000" } })

            // 6 s: long enough that the drain starts before the answer, even on a busy machine.
            let shutdown = Task { await daemon.shutdown(gracePeriod: .seconds(20)) }
            // New connections are refused once the listener is closed (while the request is still in flight).
            let refused = await eventually(timeout: .seconds(3)) {
                !(tryConnect(outbound))
            }
            #expect(refused, "the outbound listener still accepts connections during the drain")
            #expect(await idle.waitForClose(), "an idle connection is closed at once")

            let response = try await busy.readResponse(timeout: .seconds(20))
            #expect(response.status == 200)
            #expect(response.body == "slow")
            #expect(response.header("connection")?.lowercased() == "close", "the drained connection says it closes")
            #expect(await busy.waitForClose())
            await shutdown.value
        }
    }
}

/// Whether a blocking TCP connect to `address` succeeds (closed at once).
private func tryConnect(_ address: SocketAddress) -> Bool {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let result = address.withSockAddr { pointer, length in connect(fd, pointer, socklen_t(length)) }
    return result == 0
}
