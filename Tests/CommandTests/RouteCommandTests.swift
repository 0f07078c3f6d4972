import Foundation
import Testing
import SwitchyardTestSupport

@Suite("switchyard route", .dedicatedThread)
struct RouteCommandTests {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try Switchyard.run(["route", "--manifests", "examples/podinfo", "--output", "json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test("the tutorial: x-request-id: alternative reaches B, anything else A", arguments: [
        (["-H", "x-request-id: alternative"], "backend-b-podinfo", 0),
        (["-H", "X-Request-Id:alternative"], "backend-b-podinfo", 0),
        (["-H", "x-request-id: something-else"], "backend-a-podinfo", 1),
        ([], "backend-a-podinfo", 1),
    ])
    func tutorial(headers: [String], backend: String, rule: Int) throws {
        let j = try json(["--to", "backend-a-podinfo.test:9898", "--method", "POST", "--path", "/echo"] + headers)
        #expect(j["status"] as? Int == 200)
        #expect((j["parent"] as? [String: Any])?["name"] as? String == "backend-a-podinfo")
        #expect((j["backend"] as? [String: Any])?["name"] as? String == backend)
        let route = try #require(j["route"] as? [String: Any])
        #expect(route["group"] as? String == "policy.linkerd.io")
        #expect(route["name"] as? String == "backend-router")
        #expect(route["rule"] as? Int == rule)
        #expect((j["endpoints"] as? [String])?.count == 1)
        let request = try #require(j["request"] as? [String: Any])
        #expect(request["method"] as? String == "POST")
        #expect(request["path"] as? String == "/echo")
        #expect(j["redirect"] is NSNull)
    }

    @Test("every destination form reaches the same parent", arguments: [
        "backend-a-podinfo.test:9898", "backend-a-podinfo.test.svc.cluster.local:9898", "10.96.0.20:9898",
    ])
    func destinations(dest: String) throws {
        let j = try json(["--to", dest, "-H", "x-request-id: alternative"])
        #expect((j["backend"] as? [String: Any])?["name"] as? String == "backend-b-podinfo")
    }

    @Test("a pod IP is sent to that pod, unrouted")
    func podIP() throws {
        let j = try json(["--to", "10.244.2.30:9898"])
        #expect(j["status"] as? Int == 200)
        #expect(j["parent"] is NSNull)
        #expect(j["endpoints"] as? [String] == ["10.244.2.30:9898"])
    }

    @Test("the JSON keys come in the documented order")
    func keyOrder() throws {
        let r = try Switchyard.run(["route", "--manifests", "examples/podinfo", "--to", "backend-a-podinfo.test:9898", "--output", "json"])
        let keys = ["\"status\"", "\"parent\"", "\"route\"", "\"backend\"", "\"candidates\"", "\"endpoints\"", "\"request\"",
                    "\"responseHeaders\"", "\"redirect\""]
        let positions = keys.compactMap { r.stdout.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count)
        #expect(positions == positions.sorted())
    }

    @Test("text output names the route, backend and endpoint")
    func text() throws {
        let r = try Switchyard.run(["route", "--manifests", "examples/podinfo", "--to", "backend-a-podinfo.test:9898",
                                    "-H", "x-request-id: alternative"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("HTTPRoute test/backend-router, rule 0"))
        #expect(r.stdout.contains("backend:   backend-b-podinfo.test:9898"))
        #expect(r.stdout.contains("10.244.2.30:9898"))
    }

    @Test("bad arguments fail with a message that says what is wrong", arguments: [
        (["--to", "nope.test:9898"], "Service test/nope not found"),
        (["--to", "backend-a-podinfo.test"], "HOST:PORT"),
        (["--to", "backend-a-podinfo.test:9898", "-H", "no-colon"], "Name: value"),
        (["--to", "backend-a-podinfo.test:9898", "--path", "echo"], "must begin with"),
        (["--to", "backend-a-podinfo.test:9898", "--from", "test/ghost"], "pod test/ghost not found"),
        (["--to", "backend-a-podinfo.test:9898", "--from", "justaname"], "NAMESPACE/POD"),
    ])
    func badArguments(args: [String], message: String) throws {
        let r = try Switchyard.run(["route", "--manifests", "examples/podinfo"] + args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
