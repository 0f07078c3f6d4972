import Foundation
import Testing

/// The answers the proxy makes itself, each with `l5d-proxy-error`.
@Suite("proxy errors")
struct ProxyErrorTests {
    @Test("backend down → 502 fast; no ready pods → 503; no matching rule → 404; unknown Service → 400")
    func errors() async throws {
        try await World.with { world in
            for host in ["down.test:9898", "down-plain.test:9898"] {
                let started = Date()
                let down = try await world.request(host: host, timeout: 20)
                let elapsed = Date().timeIntervalSince(started)
                #expect(down.status == 502, "\(host): \(down)\n\(world.diagnostics)")
                #expect(down.header("l5d-proxy-error") != nil, "\(host): \(down)")
                #expect(elapsed < 5, "\(host): a refused connection must fail fast, took \(elapsed) s")
            }

            let notReady = try await world.request(host: "notready.test:9898")
            #expect(notReady.status == 503, "\(notReady)")
            #expect(notReady.header("l5d-proxy-error") != nil, "\(notReady)")
            #expect(!notReady.body.contains("not ready backend"), "\(notReady)")

            let unknownPath = try await world.request("/unknown", host: "picky.test:9898")
            #expect(unknownPath.status == 404, "\(unknownPath)")
            #expect(unknownPath.header("l5d-proxy-error") != nil, "\(unknownPath)")
            let knownPath = try await world.request("/env", host: "picky.test:9898")
            #expect(knownPath.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(knownPath)")
            let byHeader = try await world.request("/unknown", host: "picky.test:9898", headers: ["x-picky: yes"])
            #expect(byHeader.status == 404 && byHeader.header("l5d-proxy-error") == nil, "the app's own 404: \(byHeader)")

            let unknownService = try await world.request(host: "nosuch.test:9898")
            #expect(unknownService.status == 400, "\(unknownService)")
            #expect(unknownService.header("l5d-proxy-error") != nil, "\(unknownService)")

            let metrics = try await world.node1.metrics()
            for reason in ["upstream_failed", "no_endpoints", "no_route", "malformed_request"] {
                #expect(metrics.sum("switchyard_proxy_error_total", ["direction": "outbound", "reason": reason]) >= 1,
                        "\(reason):\n\(metrics.lines("switchyard_proxy_error_total"))")
            }
        }
    }
}
