import Foundation
import Testing

/// A peer that cannot prove the identity dialled is never talked to, and the inbound port
/// talks only to clients with a certificate from the mesh.
@Suite("peer identity")
struct PeerIdentityTests {
    /// `openssl s_server -www` (it does not read stdin, which is /dev/null) on node-3's inbound port
    /// presenting backend-b's (valid) certificate.
    static func startRogueNode(_ world: World) async throws -> ChildProcess {
        let backendB = world.pki.credential(of: "backend-b")
        let server = try world.spawn(
            "/usr/bin/openssl",
            ["s_server", "-www", "-accept", "\(world.addresses.node3):\(WorldAddresses.inboundPort)", "-tls1_3",
             "-cert", backendB.certificate.path, "-key", backendB.key.path, "-cert_chain", world.pki.issuerCertificate.path,
             "-CAfile", world.pki.trustBundle.path, "-Verify", "1"],
            label: "rogue-node")
        let listening = await world.eventually(timeout: 10) { server.stdout.contains("ACCEPT") || !server.isRunning }
        guard listening, server.isRunning else {
            throw ChildProcessError(description: "openssl s_server did not start: \(server.stdout)\n\(server.stderr)")
        }
        return server
    }

    static let refused = "switchyard_tls_handshake_refused_total"

    @Test("a peer presenting another identity than the pod's is refused: 502, counted as identity_mismatch on node-1")
    func wrongPeerIdentity() async throws {
        try await World.with { world in
            let rogueNode = try await Self.startRogueNode(world)
            let mismatch = ["direction": "outbound", "reason": "identity_mismatch"]
            let before = try await world.node1.metrics().sum(Self.refused, mismatch)
            let rogue = try await world.request(host: "rogue.test:9898", timeout: 20)
            #expect(rogue.status == 502, "\(rogue)\n\(world.diagnostics)")
            #expect(rogue.header("l5d-proxy-error") != nil, "\(rogue)")
            let after = try await world.node1.metrics()
            #expect(after.sum(Self.refused, mismatch) == before + 1, "\(after.lines(Self.refused))\n\(rogue)")
            #expect(rogueNode.isRunning, "the rogue node must have been there to refuse: \(rogueNode.stderr)")
        }
    }

    @Test("node-2 holding backend-b's certificate as pod swapped's identity: it refuses it and says not ready; requests to swapped fail with 502")
    func swappedCertificateFiles() async throws {
        try await World.with(World.Options(swapIdentity: true)) { world in
            let ready = try await Curl.run(["\(world.node2.adminURL)/ready"], dir: world.dir)
            #expect(ready.responses.first?.status == 503, "node-2 lacks swapped's identity: \(ready.result)")
            #expect(world.node2.log.contains("credential refused"), "\(world.diagnostics)")
            let swapped = try await world.request(host: "swapped.test:9898", timeout: 20)
            #expect(swapped.status == 502, "\(swapped)\n\(world.diagnostics)")
            #expect(!swapped.body.contains("PODINFO_UI_MESSAGE"), "the app must not be reached: \(swapped)")
            let metrics = try await world.node2.metrics()
            #expect(metrics.sum(Self.refused, ["direction": "inbound", "reason": "unknown_server_name"]) == 1,
                    "\(metrics.lines(Self.refused))")
            let fine = try await world.request()
            #expect(fine.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "other pods of node-2 are unaffected: \(fine)")
        }
    }

    @Test("openssl s_client without a client certificate is refused by node-2's inbound port, counted once")
    func noClientCertificate() async throws {
        try await World.with { world in
            let inbound = ["direction": "inbound"]
            let before = try await world.node2.metrics().sum(Self.refused, inbound)
            let client = try await ChildProcess.run(
                "/usr/bin/openssl",
                ["s_client", "-connect", world.node2.inboundAddress, "-tls1_3", "-ign_eof",
                 "-servername", WorldManifests.pod("backend-a").identity, "-CAfile", world.pki.trustBundle.path],
                outputDir: world.dir, label: "s_client", timeout: 30)
            #expect(client.status != 0 && client.stderr.contains("certificate required"), "\(client)")
            #expect(!client.stdout.contains("HTTP/1."), "\(client)")
            let counted = try await world.eventually(timeout: 5) {
                try await world.node2.metrics().sum(Self.refused, inbound) > before
            }
            #expect(counted, "node-2 counts the refusal\n\(world.diagnostics)")
            try await Task.sleep(for: .milliseconds(300))  // anything else it would count for this connection
            let metrics = try await world.node2.metrics()
            #expect(metrics.sum(Self.refused, ["direction": "inbound", "reason": "no_client_certificate"]) == 1,
                    "\(metrics.lines(Self.refused))")
            #expect(metrics.sum(Self.refused, inbound) == before + 1,
                    "one refused connection, one count:\n\(metrics.lines(Self.refused))\n\(world.node2.logTail(3))")
            for tls in ["true", "false"] {
                let labels = ["direction": "inbound", "tls": tls]
                #expect(metrics.sum("tcp_open_total", labels) == metrics.sum("tcp_close_total", labels),
                        "the closed connection is counted open and closed under the same labels:\n\(metrics.lines("tcp_open_total"))\n\(metrics.lines("tcp_close_total"))")
            }
        }
    }
}
