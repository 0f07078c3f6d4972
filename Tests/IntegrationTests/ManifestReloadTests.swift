import Foundation
import Testing

/// The manifests directory is watched: good changes go live without a restart, bad ones change nothing.
@Suite("manifest reload")
struct ManifestReloadTests {
    /// Which backend an `x-request-id: alternative` request from the frontend reaches.
    static func alternativeReaches(_ world: World) async throws -> String {
        let response = try await world.request(headers: ["x-request-id: alternative"])
        return response.body.split(separator: "\n").first { $0.hasPrefix("PODINFO_UI_MESSAGE=") }
            .map { String($0.dropFirst("PODINFO_UI_MESSAGE=".count)) } ?? "HTTP \(response.status): \(response.body)"
    }

    static func reloads(_ world: World, _ result: String) async throws -> Double {
        try await world.node1.metrics().sum("switchyard_config_reload_total", ["result": result])
    }

    @Test("a broken edit is refused and routing stays; deleting the HTTPRoute sends alternative to A; restoring it, to B")
    func reload() async throws {
        try await World.with { world in
            #expect(try await Self.alternativeReaches(world) == "B backend", "\(world.diagnostics)")

            let failuresBefore = try await Self.reloads(world, "failure")
            let broken = world.manifests.appendingPathComponent("broken.yaml")
            try "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unterminated\n".write(to: broken, atomically: true, encoding: .utf8)
            let refused = try await world.eventually(timeout: 5) { try await Self.reloads(world, "failure") > failuresBefore }
            #expect(refused, "switchyard_config_reload_total{result=\"failure\"} must rise\n\(world.diagnostics)")
            #expect(try await Self.alternativeReaches(world) == "B backend", "the last good snapshot keeps serving")
            try FileManager.default.removeItem(at: broken)

            let route = world.manifests.appendingPathComponent("backend-router.yaml")
            try FileManager.default.removeItem(at: route)
            let started = Date()
            let switched = try await world.eventually(timeout: 5) { try await Self.alternativeReaches(world) == "A backend" }
            let took = Date().timeIntervalSince(started)
            #expect(switched, "without the HTTPRoute, alternative must reach A\n\(world.diagnostics)")
            if took > 2 { print("note: the route deletion took \(took) s to go live (contract: 2 s)") }

            try WorldManifests.tutorialRoute().write(to: route, atomically: true, encoding: .utf8)
            let restored = try await world.eventually(timeout: 5) { try await Self.alternativeReaches(world) == "B backend" }
            #expect(restored, "with the HTTPRoute back, alternative must reach B again\n\(world.diagnostics)")
            #expect(try await Self.reloads(world, "success") >= 2)
        }
    }
}
