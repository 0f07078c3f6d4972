import Foundation
import Testing

/// SIGTERM: the daemon drains and exits 0.
@Suite("shutdown")
struct ShutdownTests {
    /// The blocked and ignored signal masks of a process, for failure messages.
    static func signalMasks(_ pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").filter { $0.hasPrefix("SigBlk") || $0.hasPrefix("SigIgn") }.joined(separator: ", ")
    }

    @Test("SIGTERM with a request in flight: the request completes, then the daemon exits 0")
    func sigterm() async throws {
        try await World.with { world in
            let warm = try await world.request()
            #expect(warm.status == 200, "\(warm)\n\(world.diagnostics)")

            let inFlight = Task { try await world.request("/delay?ms=1500", timeout: 20) }
            try await Task.sleep(for: .milliseconds(500))
            let masks = Self.signalMasks(world.node1.process.pid)
            world.node1.process.signal(SIGTERM)
            let drained = try await inFlight.value
            #expect(drained.status == 200 && drained.body == "delayed\n", "the in-flight request is drained: \(drained)")

            let exited = await world.node1.process.waitForExit(timeout: 20)
            #expect(exited, "node-1 still running 20 s after SIGTERM (\(masks))\n\(world.diagnostics)")
            if exited {
                #expect(world.node1.process.exitedNormally && world.node1.process.terminationStatus == 0,
                        "exit status \(world.node1.process.terminationStatus)\n\(world.diagnostics)")
            }

            world.node2.process.signal(SIGTERM)
            let idleExited = await world.node2.process.waitForExit(timeout: 20)
            #expect(idleExited && world.node2.process.exitedNormally && world.node2.process.terminationStatus == 0,
                    "node-2 (idle) after SIGTERM\n\(world.diagnostics)")
        }
    }
}
