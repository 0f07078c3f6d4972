import Foundation
import Testing
import SwitchyardTestSupport

@Suite("switchyard check", .dedicatedThread)
struct CheckCommandTests {
    @Test("the tutorial's manifests check clean and say what they hold")
    func tutorial() throws {
        let r = try Switchyard.run(["check", "--manifests", "examples/podinfo"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("1 namespace, 3 services, 3 pods (3 meshed), 2 nodes, 1 HTTPRoute, 0 ReferenceGrants, 0 EndpointSlices"))
        #expect(r.stdout.contains("HTTPRoute test/backend-router (policy.linkerd.io/v1beta2, 2 rules) -> backend-a-podinfo.test:9898"))
        #expect(!r.stdout.contains("warning"))
    }

    @Test("every error is named by file, document and field, and the exit status is 1")
    func errors() throws {
        let dir = try Switchyard.manifests([
            "routes/bad.yaml": """
                apiVersion: v1
                kind: Namespace
                metadata: {name: test}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: test}
                spec:
                  parentRefs: [{name: svc, kind: Service, group: core}]
                  rules:
                  - matches:
                    - path: {type: PathPrefix, value: /ok}
                    - path: {type: PathPrefix, value: nope}
                    backendRefs: [{name: svc}]
                """,
            "broken.yml": "kind: [unclosed\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["check", "--manifests", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("routes/bad.yaml: document 1"))
        #expect(r.stderr.contains("spec.rules[0].matches[1].path.value"))
        #expect(r.stderr.contains("spec.rules[0].backendRefs[0].port"))
        #expect(r.stderr.contains("broken.yml"))
        #expect(r.stdout.isEmpty)
    }

    @Test("unknown kinds are skipped with a note; dangling references are warnings")
    func skippedAndWarnings() throws {
        let dir = try Switchyard.manifests([
            "a.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: test}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: test}
                spec:
                  parentRefs: [{name: missing-svc, kind: Service, group: ""}]
                  rules:
                  - backendRefs: [{name: also-missing, port: 80}]
                """,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Switchyard.run(["check", "--manifests", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("skipped:"))
        #expect(r.stdout.contains("Deployment"))
        #expect(r.stdout.contains("parent Service test/missing-svc not found"))
        #expect(r.stdout.contains("backendRef Service test/also-missing not found"))
    }

    @Test("a missing directory is an error")
    func missingDirectory() throws {
        let r = try Switchyard.run(["check", "--manifests", "/nonexistent/sy-manifests"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/sy-manifests"))
    }
}
