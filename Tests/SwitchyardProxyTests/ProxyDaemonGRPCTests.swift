// A real gRPC client and server (grpcio, GRPCApp) through a real ProxyDaemon: the client's
// HTTP/2 goes through the outbound side, is routed per call by a GRPCRoute, crosses the daemon's
// own mTLS mesh hop and reaches the server through the inbound side. Unary, server streaming,
// client streaming and bidi calls, status codes and trailers, deadlines and cancellation.
import Foundation
import NIOCore
@testable import SwitchyardProxy
import SwitchyardInterception
import SwitchyardModel
import SwitchyardSubprocess
import SwitchyardTLS
import Testing

@Suite("ProxyDaemon: gRPC (grpcio) through the mesh")
struct ProxyDaemonGRPCTests {
    typealias M = TestManifests

    struct Outcome: Decodable {
        var unary: String
        var unary_trailers: [String: String]
        var fail: [String]
        var deadline: String
        var server_stream: [String]
        var client_stream: String
        var bidi: [String]
        var hang_first: String
        var hang_cancelled: String
    }

    @Test("grpcio through both proxies over mTLS: every kind of call, status and trailers intact, deadline and cancel; a GRPCRoute sends Unary with x-version: 2 to v2")
    func grpcThroughTheMesh() async throws {
        let python = try await GRPCApp.python()
        try await withProxyWorld { world in
            let script = try GRPCApp.script(in: world.directory)
            let clientIP = "127.0.79.1"
            let v1IP = "127.0.79.11", v2IP = "127.0.79.12"
            let v1Port = try await unusedPort(on: v1IP, group: world.group)
            let v2Port = try await unusedPort(on: v2IP, group: world.group)
            let events = world.directory.appendingPathComponent("events.txt")
            var servers: [SpawnedProcess] = []
            for (ip, port, name) in [(v1IP, v1Port, "v1"), (v2IP, v2Port, "v2")] {
                servers.append(try SpawnedProcess([python, script, "serve", ip, String(port), name, events.path],
                                                  label: "grpc-\(name)", outputDirectory: world.directory))
            }
            defer { for server in servers { server.kill() } }
            for server in servers {
                let up = await eventually(timeout: .seconds(30)) { server.stdout.contains("serving") || !server.isRunning }
                try #require(up && server.isRunning, "gRPC server did not start: \(server.stderr)")
            }

            let credentials = try world.meshCredentials(["client", "greeter"])
            let inboundPort = try await unusedPort(group: world.group)
            let route = """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GRPCRoute
                metadata: {name: greeter-split, namespace: test}
                spec:
                  parentRefs:
                  - {group: "", kind: Service, name: greeter, port: 50051}
                  rules:
                  - matches:
                    - method: {service: demo.Echo, method: Unary}
                      headers:
                      - {name: x-version, value: "2"}
                    backendRefs:
                    - {name: greeter-v2, port: 50051}
                  - backendRefs:
                    - {name: greeter, port: 50051}
                """
            try await world.start(
                manifests: [M.namespace(), M.node("node-1", internalIP: "127.0.0.1"),
                            M.service("greeter", clusterIP: "10.96.3.1", port: 50051, app: "greeter-v1"),
                            M.service("greeter-v2", clusterIP: "10.96.3.2", port: 50051),
                            M.pod("greeter-v1-0", app: "greeter-v1", ip: v1IP, port: v1Port, meshed: true, serviceAccount: "greeter"),
                            M.pod("greeter-v2-0", app: "greeter-v2", ip: v2IP, port: v2Port, meshed: true, serviceAccount: "greeter"),
                            M.pod("client-0", app: "client", ip: clientIP, port: 9, meshed: true, serviceAccount: "client"),
                            route],
                credentials: credentials
            ) { configuration in
                configuration.inboundListen = IPEndpoint(IPv4Address(127, 0, 0, 1), port: UInt16(inboundPort))
                configuration.peerInboundPort = UInt16(inboundPort)
                configuration.pod = ResourceID(namespace: "test", name: "client-0")
            }
            let outbound = try world.outbound
            let target = "127.0.0.1:\(outbound.port ?? 0)"

            for version in ["2", "1"] {
                let run = try await SpawnedProcess.run([python, script, "client", target, "greeter.test:50051", "x-version=\(version)"],
                                                       timeout: 120)
                #expect(run.status == 0, "\(run)")
                let line = try #require(run.stdout.split(separator: "\n").last, "\(run)")
                let outcome = try JSONDecoder().decode(Outcome.self, from: Data(line.utf8))
                #expect(outcome.unary == (version == "2" ? "v2:hello" : "v1:hello"), "the GRPCRoute's method+header match")
                #expect(outcome.unary_trailers["seen-client-id"] == M.identity("client"), "the app saw the verified identity")
                #expect(outcome.fail == ["NOT_FOUND", "no such thing"], "status and message in the trailers")
                #expect(outcome.deadline == "DEADLINE_EXCEEDED")
                #expect(outcome.server_stream == (0..<5).map { "v1-\($0)" }, "only Unary matches the first rule")
                #expect(outcome.client_stream == "v1:3:a,b,c")
                #expect(outcome.bidi == ["v1>x", "v1>y", "v1>z"])
                #expect(outcome.hang_first == "first")
                #expect(outcome.hang_cancelled == "CANCELLED")
            }
            // The client's cancel reached the server through both proxies.
            #expect(await eventually(timeout: .seconds(20)) {
                ((try? String(contentsOf: events, encoding: .utf8)) ?? "").components(separatedBy: "cancelled").count - 1 >= 2
            }, "the server saw both cancellations")
            #expect(world.metric("request_total", ["direction": "inbound", "tls": "true"]) == 14,
                    "seven calls per run, each one stream: \(world.metricsText())")
        }
    }
}
