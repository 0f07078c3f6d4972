import Foundation
import Testing

/// The outbound listener with real interception (no `--ingress-mode`): apps in a network
/// namespace connect to ClusterIPs as they would in a pod, iptables REDIRECTs them to 4140,
/// and the daemon finds each destination with SO_ORIGINAL_DST (`RedirectWorld`).
@Suite("real interception: iptables REDIRECT to the outbound listener, SO_ORIGINAL_DST")
struct RedirectTests {
    static let frontendIdentity = WorldManifests.pod("frontend").identity
    /// Opaque connections made at once (the daemon runs two event loops).
    static let opaqueConnections = 4

    @Test("""
        a plain connect to backend-a-podinfo's ClusterIP reaches A over mTLS (x-request-id: alternative reaches B), \
        opaque bytes to db's ClusterIP:3306 are echoed, pod IPs are not intercepted, upstream sockets carry the mark
        """)
    func tutorialThroughRedirect() async throws {
        try await RedirectWorld.with { world in
            let a = try await world.request("http://10.96.0.20:9898/env")
            #expect(a.status == 200, "\(a)\n\(world.daemonLogTail())")
            #expect(a.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(a)")
            #expect(a.body.contains("l5d-client-id=\(Self.frontendIdentity)\n"),
                    "backend-a must see the frontend's mTLS identity (the source IP names the pod): \(a)")

            let b = try await world.request("http://10.96.0.20:9898/env", headers: ["x-request-id: alternative"])
            #expect(b.status == 200, "\(b)\n\(world.daemonLogTail())")
            #expect(b.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "the tutorial's route sends alternative to B: \(b)")
            #expect(b.body.contains("l5d-client-id=\(Self.frontendIdentity)\n"), "\(b)")

            // Only the Service range is redirected: a pod IP is reached directly, without the mesh.
            let direct = try await world.request("http://\(RedirectWorld.ip(of: "backend-a")):9898/env")
            #expect(direct.status == 200 && direct.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(direct)")
            #expect(direct.body.contains("l5d-client-id=<none>\n"), "a pod IP must not be intercepted: \(direct)")

            // 3306 is an opaque port: spliced without detection to the unmeshed db pod. Several
            // connections at once, so that both of the daemon's event loops accept some.
            let opaque = try await withThrowingTaskGroup(of: CommandResult.self) { group in
                for _ in 0..<Self.opaqueConnections {
                    group.addTask {
                        try await world.run(["/usr/bin/env", "python3", "-c", Opaque.clientScript, "10.96.0.40",
                                             String(WorldAddresses.echoPort), RedirectWorld.ip(of: "frontend")])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let echoed = opaque.filter { $0.status == 0 && $0.stdout.contains("echoed") }.count
            let rulesAfterOpaque = try await world.natRules()
            #expect(echoed == Self.opaqueConnections,
                    """
                    \(echoed) of \(Self.opaqueConnections) opaque connections to 10.96.0.40:3306 were echoed; the others printed: \
                    \(opaque.filter { $0.status != 0 }.map { $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) })
                    \(rulesAfterOpaque)
                    \(world.daemonLogTail())
                    """)

            let metrics = try await world.metrics()
            let accepted = metrics.sum("tcp_open_total", ["direction": "outbound", "tls": "false"])
            #expect(accepted >= 2 + Double(Self.opaqueConnections),
                    "A, B and the opaque connections were accepted by the outbound listener:\n\(metrics.lines("tcp_open_total"))")
            let toB = metrics.sum("outbound_http_route_request_total") { ($0["backend"] ?? "").contains("backend-b-podinfo") }
            #expect(toB >= 1, "\(metrics.lines("outbound_http_route_request_total"))")
            let inbound = metrics.sum("request_total", ["direction": "inbound", "tls": "true"])
            #expect(inbound >= 2, "the meshed hops went through the inbound listener over mTLS:\n\(metrics.lines("request_total"))")

            // The nat OUTPUT counters: every redirected connection, and the daemon's own upstream
            // connections (the mTLS hops to 10.244.1.2:4143 for A and B, the dials to db:3306) marked 0x5359.
            let rules = try await world.natRules()
            let redirected = try await world.packets(ofRuleCommented: "switchyard outbound") ?? 0
            #expect(redirected >= 2 + Self.opaqueConnections, "A, B and the opaque connections were redirected:\n\(rules)")
            let marked = try await world.packets(ofRuleCommented: "switchyard upstream") ?? 0
            #expect(marked >= 2 + Self.opaqueConnections, "the daemon's upstream sockets carry SO_MARK 0x5359:\n\(rules)")
        }
    }
}
