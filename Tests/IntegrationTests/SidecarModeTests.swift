import Foundation
import Testing

/// `switchyard run --mode sidecar`: one proxy per pod instead of one per node. No node daemon
/// runs (nothing listens on the nodes' InternalIPs); frontend, backend-a and backend-b each have
/// a sidecar on their pod IP holding only their own identity.
@Suite("sidecar mode")
struct SidecarModeTests {
    static let refused = "switchyard_tls_handshake_refused_total"
    static let frontendID = WorldManifests.pod("frontend").identity

    @Test("""
        frontend's sidecar dials backend-a's and backend-b's sidecars at their pod IPs over mTLS as frontend; \
        backend-a's sidecar refuses a preface naming a pod it does not serve
        """)
    func sidecars() async throws {
        try await SidecarWorld.with { s in
            let world = s.world
            // A node-mode dial would go to node-2's InternalIP: nothing listens there.
            let node2 = try await Curl.run(["http://\(world.addresses.node2):\(WorldAddresses.inboundPort)/"], dir: world.dir, timeout: 5)
            #expect(node2.result.status == 7, "no node daemon may answer on node-2: \(node2.result)")

            let a = try await s.request()
            #expect(a.status == 200 && a.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(a)\n\(s.diagnostics)")
            #expect(a.body.contains("l5d-client-id=\(Self.frontendID)\n"), "the client identity is --pod's: \(a)")
            let b = try await s.request(headers: ["x-request-id: alternative"])
            #expect(b.status == 200 && b.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "\(b)\n\(s.diagnostics)")
            #expect(b.body.contains("l5d-client-id=\(Self.frontendID)\n"), "\(b)")

            let inboundTLS = ["direction": "inbound", "tls": "true"]
            for (sidecar, name) in [(s.backendA, "backend-a"), (s.backendB, "backend-b")] {
                let metrics = try await sidecar.metrics(world)
                #expect(metrics.sum("request_total", inboundTLS) == 1,
                        "\(name)'s sidecar served the mTLS hop:\n\(metrics.lines("request_total"))")
                #expect(metrics.sum("response_total", inboundTLS.merging(["status_code": "200"]) { $1 }) == 1,
                        "\(metrics.lines("response_total"))")
            }
            let frontend = try await s.frontend.metrics(world)
            #expect(frontend.sum("request_total", ["direction": "outbound"]) == 2, "\(frontend.lines("request_total"))")
            #expect(frontend.sum("switchyard_upstream_connect_total", ["tls": "true", "result": "success"]) >= 2,
                    "\(frontend.lines("switchyard_upstream_connect_total"))")
            #expect(frontend.sum("switchyard_upstream_connect_total", ["tls": "false"]) == 0,
                    "no plaintext upstream: \(frontend.lines("switchyard_upstream_connect_total"))")

            // The control: the same client, SNI and certificate, naming the pod served (its echo port).
            let served = try await s.meshPeer(targetIP: s.backendA.ip, targetPort: WorldAddresses.echoPort)
            #expect(served.status == 0 && served.stdout.contains("echoed"), "\(served)\n\(s.diagnostics)")

            // backend-a-twin: a meshed pod of node-2 with backend-a's identity (node-2's daemon would
            // serve it); backend-b: another pod with another identity. Neither is the pod served.
            let notLocal = ["direction": "inbound", "reason": "not_local_pod"]
            let before = try await s.backendA.metrics(world)
            #expect(before.sum(Self.refused, ["direction": "inbound"]) == 0, "\(before.lines(Self.refused))")
            for (target, count) in [(s.twinIP, 1.0), (world.ip(of: "backend-b"), 2.0)] {
                let refused = try await s.meshPeer(targetIP: target, targetPort: WorldAddresses.appPort)
                // Closed without a byte back: the client sees EOF on read, or (closed while it still sends) an exception.
                #expect(refused.status == 1 && !refused.stdout.contains("echoed"), "\(target): \(refused)\n\(s.diagnostics)")
                let counted = try await world.eventually(timeout: 5) {
                    try await s.backendA.metrics(world).sum(Self.refused, notLocal) >= count
                }
                #expect(counted, "\(target)\n\(s.diagnostics)")
            }
            let after = try await s.backendA.metrics(world)
            #expect(after.sum(Self.refused, notLocal) == 2 && after.sum(Self.refused, ["direction": "inbound"]) == 2,
                    "one count per refused connection:\n\(after.lines(Self.refused))")
            #expect(s.backendA.logTail().contains("is pod test/backend-a-twin, not the pod served here"), "\(s.diagnostics)")
            #expect(after.sum("request_total", inboundTLS) == 1, "nothing more reached the app: \(after.lines("request_total"))")
        }
    }
}
