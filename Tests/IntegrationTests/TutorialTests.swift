import Foundation
import Testing

/// Linkerd's dynamic request routing tutorial, from the frontend pod on node-1 through both
/// daemons to the backends on node-2.
@Suite("tutorial across two nodes")
struct TutorialTests {
    static let frontendIdentity = WorldManifests.pod("frontend").identity

    @Test("no header reaches A, x-request-id: alternative reaches B, over mTLS with the frontend's identity; a forged l5d-client-id never arrives")
    func tutorial() async throws {
        try await World.with { world in
            let a = try await world.request()
            #expect(a.status == 200, "\(a)\n\(world.diagnostics)")
            #expect(a.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(a)")
            #expect(a.body.contains("l5d-client-id=\(Self.frontendIdentity)\n"), "the app must see the mTLS client identity: \(a)")

            let b = try await world.request(headers: ["x-request-id: alternative"])
            #expect(b.status == 200, "\(b)\n\(world.diagnostics)")
            #expect(b.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "\(b)")
            #expect(b.body.contains("l5d-client-id=\(Self.frontendIdentity)\n"), "\(b)")

            // l5d-dst-override wins over Host; the FQDN form works.
            let overridden = try await world.request(
                host: "frontend-podinfo.test:9898",
                headers: ["l5d-dst-override: backend-a-podinfo.test.svc.cluster.local:9898", "x-request-id: alternative"])
            #expect(overridden.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "\(overridden)")
            let seen = try await world.request(
                "/headers", host: "frontend-podinfo.test:9898", headers: ["l5d-dst-override: backend-a-podinfo.test:9898"])
            #expect(seen.status == 200 && !seen.body.lowercased().contains("l5d-dst-override"), "the override is not forwarded: \(seen)")

            let forged = try await world.request(headers: ["l5d-client-id: forged"])
            #expect(forged.status == 200, "\(forged)")
            #expect(forged.body.contains("l5d-client-id=\(Self.frontendIdentity)\n"), "only the verified identity may arrive: \(forged)")
            #expect(!forged.body.contains("forged"), "\(forged)")
            let headers = try await world.request("/headers", headers: ["l5d-client-id: forged"])
            #expect(!headers.body.contains("forged"), "\(headers)")

            let routes = try await world.node1.metrics()
            let toB = routes.sum("outbound_http_route_request_total") { ($0["backend"] ?? "").contains("backend-b-podinfo") }
            #expect(toB >= 2, "node-1 counts requests routed to backend-b:\n\(routes.lines("outbound_http_route_request_total"))")
            let inbound = try await world.node2.metrics()
            #expect(inbound.sum("request_total", ["direction": "inbound", "tls": "true"]) >= 5,
                    "node-2 counts the mTLS requests:\n\(inbound.lines("request_total"))")
        }
    }

    @Test("keep-alive: alternative, none, alternative on one client connection reach B, A, B")
    func keepAliveAlternation() async throws {
        try await World.with { world in
            let url = world.node1.outboundURL + "/env"
            let segment = { (extra: [String]) -> [String] in
                ["-i", "--max-time", "30", "--interface", world.ip(of: "frontend"), "-H", "Host: backend-a-podinfo.test:9898"] + extra + [url]
            }
            let args = ["-v"] + segment(["-H", "x-request-id: alternative"]) + ["--next"] + segment([])
                + ["--next"] + segment(["-H", "x-request-id: alternative"])
            let (responses, result) = try await Curl.run(args, dir: world.dir)
            #expect(result.status == 0, "\(result)\n\(world.diagnostics)")
            let messages = responses.map { response in
                response.body.split(separator: "\n").first { $0.hasPrefix("PODINFO_UI_MESSAGE=") }.map(String.init) ?? "HTTP \(response.status)"
            }
            #expect(messages == ["PODINFO_UI_MESSAGE=B backend", "PODINFO_UI_MESSAGE=A backend", "PODINFO_UI_MESSAGE=B backend"],
                    "\(result)")
            let connects = result.stderr.components(separatedBy: "* Connected to").count - 1
            let reuses = result.stderr.components(separatedBy: "Re-using existing connection").count - 1
            #expect(connects == 1 && reuses == 2, "one TCP connection for the three requests:\n\(result.stderr)")
        }
    }

    @Test("an unmeshed backend is reached in plaintext: the app sees no l5d-client-id")
    func unmeshedBackend() async throws {
        try await World.with { world in
            let before = try await world.node2.metrics().sum("request_total", ["direction": "inbound"])
            let plain = try await world.request(host: "plain.test:9898")
            #expect(plain.status == 200, "\(plain)\n\(world.diagnostics)")
            #expect(plain.body.contains("PODINFO_UI_MESSAGE=plain backend\n"), "\(plain)")
            #expect(plain.body.contains("l5d-client-id=<none>\n"), "\(plain)")
            let after = try await world.node2.metrics().sum("request_total", ["direction": "inbound"])
            #expect(after == before, "the hop to an unmeshed pod must not pass node-2's inbound proxy")
        }
    }
}
