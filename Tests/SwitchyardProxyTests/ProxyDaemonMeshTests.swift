// A real ProxyDaemon in process, carrying a request over its own mTLS mesh hop: one node owns
// both the meshed client pod and the meshed backend pod, so the outbound side dials the
// node's InternalIP (127.0.0.1) at the daemon's own inbound port, and the inbound side
// forwards to the pod with the verified client identity in `l5d-client-id`.
import Foundation
import NIOCore
@testable import SwitchyardProxy
import SwitchyardInterception
import SwitchyardTLS
import Testing

@Suite("ProxyDaemon: the mTLS mesh hop")
struct ProxyDaemonMeshTests {
    typealias M = TestManifests

    @Test("meshed client to meshed backend: mTLS through the inbound listener; the backend sees the verified l5d-client-id")
    func meshedHop() async throws {
        try await withProxyWorld { world in
            let server = try await world.backend("meshed server", ip: "127.0.77.202")
            let clientIP = "127.0.77.201"
            let clientIdentity = M.identity("client")
            let serverIdentity = M.identity("server")

            let credentials = try world.meshCredentials(["client", "server"])
            #expect(Set(credentials.current.credentials.keys) == [clientIdentity, serverIdentity])

            let inboundPort = try await unusedPort(group: world.group)
            let bound = try await world.start(
                manifests: [M.namespace(), M.node("node-1", internalIP: "127.0.0.1"),
                            M.service("server", clusterIP: "10.96.0.202"),
                            M.pod("server-0", app: "server", ip: server.ip, port: server.port, meshed: true,
                                  serviceAccount: "server"),
                            M.pod("client-0", app: "client", ip: clientIP, port: 9, meshed: true, serviceAccount: "client")],
                credentials: credentials
            ) { configuration in
                configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: UInt16(inboundPort))
                configuration.peerInboundPort = UInt16(inboundPort)
            }
            #expect(bound.inbound.port == inboundPort)

            // The client connects from its pod IP, so the daemon knows its workload; it also tries a forged identity.
            let client = try await world.client(from: clientIP)
            for path in ["/one", "/two"] {
                let response = try await client.roundTrip("GET", path, host: "server.test:8080",
                                                          headers: [("l5d-client-id", "forged.identity")])
                #expect(response.status == 200, "\(response)")
                #expect(response.body == "meshed server")
            }
            let seen = server.requests
            #expect(seen.map(\.uri) == ["/one", "/two"])
            for request in seen {
                #expect(request.values("l5d-client-id") == [clientIdentity])
            }
            #expect(world.metric("switchyard_upstream_connect_total", ["tls": "true", "result": "success"]) == 1,
                    "one mTLS connection, pooled for the second request\n\(world.metricsText())")
            #expect(world.metric("request_total", ["direction": "inbound", "tls": "true"]) == 2)
            #expect(world.metric("request_total", ["direction": "outbound", "tls": "false"]) == 2)
        }
    }

    @Test("a meshed backend but no certificate for the client's workload: 502, nothing reaches the backend")
    func meshedHopWithoutClientIdentity() async throws {
        try await withProxyWorld { world in
            let server = try await world.backend("meshed server", ip: "127.0.77.204")
            let inboundPort = try await unusedPort(group: world.group)
            // Empty identity directory: the daemon has no certificate to present.
            try await world.start(
                manifests: [M.namespace(), M.node("node-1", internalIP: "127.0.0.1"),
                            M.service("server", clusterIP: "10.96.0.204"),
                            M.pod("server-0", app: "server", ip: server.ip, port: server.port, meshed: true,
                                  serviceAccount: "server"),
                            M.pod("client-0", app: "client", ip: "127.0.77.203", port: 9, meshed: true,
                                  serviceAccount: "client")]
            ) { configuration in
                configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: UInt16(inboundPort))
                configuration.peerInboundPort = UInt16(inboundPort)
            }
            let client = try await world.client(from: "127.0.77.203")
            let response = try await client.roundTrip("GET", "/", host: "server.test:8080")
            #expect(response.status == 502)
            #expect(response.header("l5d-proxy-error")?.contains(M.identity("client")) == true, "\(response)")
            #expect(server.acceptedConnections == 0)
        }
    }

    @Test("plaintext to the inbound listener that iptables did not redirect is refused (and with requireMTLS, any plaintext)",
          arguments: [(false, "no_original_destination"), (true, "plaintext_refused")])
    func inboundPlaintextRefused(requireMTLS: Bool, reason: String) async throws {
        try await withProxyWorld { world in
            let server = try await world.backend("local", ip: "127.0.77.205")
            let bound = try await world.start(
                manifests: [M.namespace(), M.node("node-1", internalIP: "127.0.0.1"),
                            M.service("local", clusterIP: "10.96.0.205"),
                            M.pod("local-0", app: "local", ip: server.ip, port: server.port, meshed: true)]
            ) { configuration in
                configuration.requireMTLS = requireMTLS
            }
            let client = try await RawHTTPClient.connect(to: bound.inbound, group: world.group)
            defer { client.closeNow() }
            try await client.send(RawHTTPClient.request("GET", "/", host: "local.test:8080"))
            #expect(await client.waitForClose(), "the inbound listener closes a plaintext connection it may not serve")
            #expect(client.receivedBytes().isEmpty)
            #expect(server.acceptedConnections == 0)
            #expect(world.metric("switchyard_tls_handshake_refused_total", ["direction": "inbound", "reason": reason]) == 1,
                    "\(world.metricsText())")
        }
    }
}
