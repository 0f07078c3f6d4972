import Foundation
import Testing
import SwitchyardTestSupport

/// `switchyard check` and `switchyard route` with GRPCRoutes (examples/grpc).
@Suite("switchyard check and route: GRPCRoute", .dedicatedThread)
struct GRPCRouteCommandTests {
    @Test("check counts and lists GRPCRoutes")
    func check() throws {
        let r = try Switchyard.run(["check", "--manifests", "examples/grpc"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("1 namespace, 3 services, 2 pods (2 meshed), 1 node, 0 HTTPRoutes, 0 ReferenceGrants, 0 EndpointSlices, 1 GRPCRoute"))
        #expect(r.stdout.contains("GRPCRoute grpc-demo/greeter-route (gateway.networking.k8s.io/v1, 3 rules) -> greeter.grpc-demo:50051"))
        #expect(!r.stdout.contains("warning"), "\(r.stdout)")
    }

    @Test("a gRPC call is decided by the GRPCRoute", arguments: [
        (["--path", "/helloworld.Greeter/SayHello", "-H", "x-canary: true"], "greeter-v2", 0),
        (["--path", "/grpc.health.v1.Health/Check"], "greeter-v1", 2),
    ])
    func route(args: [String], backend: String, rule: Int) throws {
        let r = try Switchyard.run(["route", "--manifests", "examples/grpc", "--to", "greeter.grpc-demo:50051", "--output", "json",
                                    "--method", "POST", "-H", "content-type: application/grpc"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        let j = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(j["status"] as? Int == 200)
        let route = try #require(j["route"] as? [String: Any])
        #expect(route["kind"] as? String == "GRPCRoute")
        #expect(route["group"] as? String == "gateway.networking.k8s.io")
        #expect(route["name"] as? String == "greeter-route")
        #expect(route["rule"] as? Int == rule)
        #expect((j["backend"] as? [String: Any])?["name"] as? String == backend)
    }

    @Test("text output names the GRPCRoute; a call no rule matches is a 404")
    func text() throws {
        let hit = try Switchyard.run(["route", "--manifests", "examples/grpc", "--to", "greeter.grpc-demo:50051",
                                      "--method", "POST", "--path", "/helloworld.Greeter/SayGoodbye"])
        #expect(hit.status == 0, "\(hit.stderr)")
        #expect(hit.stdout.contains("route:     gateway.networking.k8s.io GRPCRoute grpc-demo/greeter-route, rule 1 (greeter)"), "\(hit.stdout)")
        #expect(hit.stdout.contains("response set: x-routed-by: greeter-route"))
        let miss = try Switchyard.run(["route", "--manifests", "examples/grpc", "--to", "greeter.grpc-demo:50051",
                                       "--method", "POST", "--path", "/other.Service/Get"])
        #expect(miss.status == 0)
        #expect(miss.stdout.contains("status:    404 no route matched"), "\(miss.stdout)")
    }

    @Test("check warns about an HTTPRoute a GRPCRoute displaces, and about GRPCRoute backends")
    func conflict() throws {
        let dir = try Switchyard.manifests([
            "all.yaml": """
                apiVersion: v1
                kind: Service
                metadata: {name: svc, namespace: test}
                spec: {clusterIP: 10.96.7.7, ports: [{name: grpc, port: 50051}], selector: {app: svc}}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: web, namespace: test}
                spec:
                  parentRefs: [{name: svc, kind: Service, group: "", port: 50051}]
                  rules: [{backendRefs: [{name: svc, port: 50051}]}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: GRPCRoute
                metadata: {name: rpc, namespace: test}
                spec:
                  parentRefs: [{name: svc, kind: Service, group: "", port: 50051}]
                  rules: [{backendRefs: [{name: missing, port: 50051}]}]
                """,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["check", "--manifests", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("HTTPRoute test/web (gateway.networking.k8s.io/v1, 1 rule) not applied (GRPCRoutes take its parents)"), "\(r.stdout)")
        #expect(r.stdout.contains("GRPCRoute test/rpc (gateway.networking.k8s.io/v1, 1 rule) -> svc.test:50051"))
        #expect(r.stdout.contains("warning: HTTPRoute test/web spec.parentRefs[0]: not applied to svc.test:50051: GRPCRoute test/rpc attached there too"))
        #expect(r.stdout.contains("warning: GRPCRoute test/rpc spec.rules[0].backendRefs[0]: backendRef Service test/missing not found"))
    }

    @Test("an invalid GRPCRoute fails check, naming file, document and field")
    func invalid() throws {
        let dir = try Switchyard.manifests([
            "routes/grpc.yaml": """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GRPCRoute
                metadata: {name: rpc, namespace: test}
                spec:
                  rules: [{matches: [{method: {type: Exact}}]}]
                """,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["check", "--manifests", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("routes/grpc.yaml: document 0 (GRPCRoute test/rpc): spec.rules[0].matches[0].method: "
            + "one or both of 'service' or 'method' must be specified"), "\(r.stderr)")
    }
}
