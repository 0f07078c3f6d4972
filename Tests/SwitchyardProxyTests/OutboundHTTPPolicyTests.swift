// OutboundHTTPPolicy.plan(_:) on a snapshot loaded from manifests: where each request goes
// (mTLS to the peer's node, plaintext to the pod), which identities the hop uses, what the
// proxy answers itself, and the head that goes upstream.
import NIOHTTP1
import SwitchyardAdmin
import SwitchyardInterception
import SwitchyardModel
@testable import SwitchyardProxy
import Testing

@Suite("OutboundHTTPPolicy: planning one request")
struct OutboundHTTPPolicyTests {
    static let manifests: [(path: String, contents: String)] = [
        ("mesh.yaml", [
            TestManifests.namespace(),
            TestManifests.node("node-1", internalIP: "10.0.0.1"),
            TestManifests.node("node-2", internalIP: "10.0.0.2"),
            TestManifests.service("frontend", clusterIP: "10.96.0.10"),
            TestManifests.pod("frontend-0", app: "frontend", ip: "10.244.1.10", port: 9898, node: "node-1", meshed: true,
                              serviceAccount: "frontend"),
            TestManifests.pod("neighbour-0", app: "neighbour", ip: "10.244.2.11", port: 9898, node: "node-2", meshed: true,
                              serviceAccount: "neighbour"),
            TestManifests.service("backend", clusterIP: "10.96.0.20"),
            TestManifests.pod("backend-0", app: "backend", ip: "10.244.2.20", port: 9898, node: "node-2", meshed: true,
                              serviceAccount: "backend"),
            TestManifests.service("plain", clusterIP: "10.96.0.40"),
            TestManifests.pod("plain-0", app: "plain", ip: "10.244.2.40", port: 9898, node: "node-2"),
            TestManifests.service("moved", clusterIP: "10.96.0.50"),
            TestManifests.gatewayRoute("moved", parent: "moved", rules: """
                - filters:
                  - type: RequestRedirect
                    requestRedirect: {scheme: https, hostname: new.example.com, statusCode: 301}
                """),
        ].joined(separator: "\n---\n")),
    ]

    static func policy(client: String?, original: String? = nil,
                       configure: (inout ProxyConfiguration) -> Void = { _ in }) throws -> OutboundHTTPPolicy {
        let snapshot = try ManifestLoader().load(files: manifests)
        var configuration = ProxyConfiguration(nodeName: "node-1")
        configuration.peerInboundPort = 4143
        configuration.ingressMode = original == nil
        configure(&configuration)
        return OutboundHTTPPolicy(mesh: MeshState(snapshot: snapshot), configuration: configuration,
                                  metrics: ProxyMetrics(registry: MetricsRegistry()),
                                  client: try client.map { try #require(IPEndpoint($0)) },
                                  originalDestination: try original.map { try #require(IPEndpoint($0)) })
    }

    static func head(_ headers: [(String, String)], uri: String = "/") -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
    }

    static func forwarded(_ plan: ForwardingPlan, sourceLocation: SourceLocation = #_sourceLocation) throws -> ForwardRequest {
        guard case .forward(let request) = plan else {
            Issue.record("expected a forward, got \(plan)", sourceLocation: sourceLocation)
            throw ProxyTestError("not forwarded")
        }
        return request
    }

    static let frontend = TestManifests.identity("frontend")
    static let backend = TestManifests.identity("backend")

    @Test("a meshed endpoint (ingress mode, by Host) is dialled at its node's InternalIP:peerInboundPort with both identities")
    func meshedEndpointByHost() throws {
        let policy = try Self.policy(client: "10.244.1.10:40000")
        #expect(policy.source?.identity == Self.frontend, "the source workload is the local pod with the client's IP")
        let request = try Self.forwarded(policy.plan(Self.head([("Host", "backend.test:8080")])))
        #expect(request.targets.count == 1)
        let target = try #require(request.targets.first)
        #expect(target.endpoint == IPEndpoint("10.244.2.20:9898"))
        #expect(target.dial == IPEndpoint("10.0.0.2:4143"))
        #expect(target.peerIdentity == Self.backend)
        #expect(target.sourceIdentity == Self.frontend)
        #expect(target.isMeshed)
    }

    @Test("the same by original destination (not ingress mode): the ClusterIP names the Service")
    func meshedEndpointByOriginalDestination() throws {
        let policy = try Self.policy(client: "10.244.1.10:40000", original: "10.96.0.20:8080")
        let request = try Self.forwarded(policy.plan(Self.head([("Host", "whatever.example")])))
        let target = try #require(request.targets.first)
        #expect(target.dial == IPEndpoint("10.0.0.2:4143"))
        #expect(target.peerIdentity == Self.backend)
        #expect(target.sourceIdentity == Self.frontend)
    }

    @Test("sidecar mode dials the meshed pod's own IP at the inbound port, as the --pod workload")
    func sidecarDialsPodIP() throws {
        let policy = try Self.policy(client: "127.0.0.1:40000") { configuration in
            configuration.mode = .sidecar
            configuration.pod = ResourceID(namespace: "test", name: "frontend-0")
        }
        let request = try Self.forwarded(policy.plan(Self.head([("Host", "backend.test:8080")])))
        let target = try #require(request.targets.first)
        #expect(target.dial == IPEndpoint("10.244.2.20:4143"))
        #expect(target.sourceIdentity == Self.frontend)
    }

    @Test("a client that is no local meshed pod has no source identity (a pod of another node, an unknown IP)",
          arguments: ["10.244.2.11:40000", "192.0.2.7:40000"])
    func noSourceIdentity(_ client: String) throws {
        let policy = try Self.policy(client: client)
        #expect(policy.source == nil)
        let request = try Self.forwarded(policy.plan(Self.head([("Host", "backend.test:8080")])))
        #expect(request.targets.first?.peerIdentity == Self.backend)
        #expect(request.targets.first?.sourceIdentity == nil, "the connector refuses such a hop")
    }

    @Test("an unmeshed endpoint is dialled in plaintext at the pod IP")
    func unmeshedEndpoint() throws {
        let policy = try Self.policy(client: "10.244.1.10:40000")
        let request = try Self.forwarded(policy.plan(Self.head([("Host", "plain.test:8080")])))
        let target = try #require(request.targets.first)
        #expect(target.endpoint == IPEndpoint("10.244.2.40:9898"))
        #expect(target.dial == target.endpoint)
        #expect(target.peerIdentity == nil)
        #expect(target.sourceIdentity == nil)
        #expect(!target.isMeshed)
    }

    @Test("ingress mode: an address that is no Service or pod, or no destination at all, is answered 400",
          arguments: [[("Host", "192.0.2.1:80")], [("l5d-dst-override", "192.0.2.1:8080"), ("Host", "plain.test:8080")], []])
    func ingressUnknownAddress(_ headers: [(String, String)]) throws {
        let policy = try Self.policy(client: "10.244.1.10:40000")
        guard case .answer(let error) = policy.plan(Self.head(headers)) else {
            Issue.record("expected an answer")
            return
        }
        #expect(error.status.code == 400)
        #expect(error.label == ProxyError.malformedRequest("").label)
    }

    @Test("a RequestRedirect rule is planned as a redirect with the Gateway API Location")
    func redirect() throws {
        let policy = try Self.policy(client: "10.244.1.10:40000")
        guard case .redirect(let status, let location) = policy.plan(Self.head([("Host", "moved.test:8080")], uri: "/a/b?c=d")) else {
            Issue.record("expected a redirect")
            return
        }
        #expect(status == 301)
        #expect(location == "https://new.example.com/a/b?c=d")
    }

    @Test("the outgoing head has no l5d-dst-override, l5d-client-id or hop-by-hop fields; Host and the rest stay")
    func outgoingHeadStripped() throws {
        let policy = try Self.policy(client: "10.244.1.10:40000")
        let request = try Self.forwarded(policy.plan(Self.head([
            ("Host", "api.example.com"), ("l5d-dst-override", "plain.test:8080"), ("L5D-Client-Id", "forged"),
            ("Connection", "keep-alive, x-hop"), ("x-hop", "1"), ("Keep-Alive", "timeout=5"), ("x-end-to-end", "kept"),
        ], uri: "/path?q=1")))
        let headers = request.head.headers
        #expect(!headers.contains(name: "l5d-dst-override"))
        #expect(!headers.contains(name: "l5d-client-id"))
        #expect(!headers.contains(name: "connection"))
        #expect(!headers.contains(name: "x-hop"))
        #expect(!headers.contains(name: "keep-alive"))
        #expect(headers["host"] == ["api.example.com"])
        #expect(headers["x-end-to-end"] == ["kept"])
        #expect(request.head.uri == "/path?q=1")
        #expect(request.targets.first?.endpoint == IPEndpoint("10.244.2.40:9898"), "routed by the override, not Host")
    }
}
