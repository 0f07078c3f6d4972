import SwitchyardModel
import SwitchyardRouting
import Testing

@Suite("Backends: weights, invalid references, namespaces and ports")
struct BackendSelectionTests {
    static func router(_ refs: [HTTPBackendRef], extraServices: [Service] = [], grants: [ReferenceGrant] = []) -> Router {
        Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [HTTPRouteRule(backendRefs: refs)])],
                                           extraServices: extraServices, grants: grants))
    }

    static func shares(_ router: Router, samples: Int = 20_000) -> [String: Double] {
        var counts: [String: Int] = [:]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<samples {
            let d = router.decide(RouteRequest(), parent: Fixtures.parentA, using: &rng)
            counts[d.backend?.service.name ?? "status \(d.status)", default: 0] += 1
        }
        return counts.mapValues { Double($0) / Double(samples) }
    }

    @Test("weights split traffic in proportion")
    func weightedSplit() {
        let s = Self.shares(Self.router([Fixtures.to("backend-a-podinfo", weight: 70), Fixtures.to("backend-b-podinfo", weight: 30)]))
        #expect(abs((s["backend-a-podinfo"] ?? 0) - 0.7) < 0.02)
        #expect(abs((s["backend-b-podinfo"] ?? 0) - 0.3) < 0.02)
    }

    @Test("weight 0 is never chosen")
    func zeroWeight() {
        let s = Self.shares(Self.router([Fixtures.to("backend-a-podinfo", weight: 0), Fixtures.to("backend-b-podinfo", weight: 1)]), samples: 2_000)
        #expect(s["backend-a-podinfo"] == nil)
        #expect(s["backend-b-podinfo"] == 1.0)
    }

    @Test("every weight 0 is a 500")
    func allZero() {
        let d = Fixtures.decide(Self.router([Fixtures.to("backend-a-podinfo", weight: 0)]))
        #expect(d.status == 500)
        #expect(d.backend == nil)
    }

    @Test("an invalid backend keeps its share of traffic, as 500s")
    func invalidShare() {
        let s = Self.shares(Self.router([Fixtures.to("backend-a-podinfo"), Fixtures.to("missing")]))
        #expect(abs((s["backend-a-podinfo"] ?? 0) - 0.5) < 0.02)
        #expect(abs((s["status 500"] ?? 0) - 0.5) < 0.02)
    }

    @Test("backendRefs that cannot be used answer 500 with the reason", arguments: [
        (HTTPBackendRef(name: "missing", port: 9898), "not found"),
        (HTTPBackendRef(name: "backend-b-podinfo", port: 1234), "has no port 1234"),
        (HTTPBackendRef(name: "backend-b-podinfo", port: nil), "has no port"),
        (HTTPBackendRef(group: "example.com", kind: "Bucket", name: "backend-b-podinfo", port: 9898), "is not a Service"),
        (HTTPBackendRef(name: "other-svc", namespace: "other", port: 80), "no ReferenceGrant"),
    ])
    func invalid(ref: HTTPBackendRef, reason: String) {
        let other = Fixtures.service("other-svc", ns: "other", ip: "10.96.1.1", ports: [80])
        let d = Fixtures.decide(Self.router([ref], extraServices: [other]))
        #expect(d.status == 500)
        #expect(d.reason?.contains(reason) == true, "\(d.reason ?? "nil")")
        #expect(d.candidates.first?.invalidReason != nil)
    }

    @Test("a ReferenceGrant allows a backend in another namespace")
    func grant() {
        let other = Fixtures.service("other-svc", ns: "other", ip: "10.96.1.1", ports: [80])
        let grant = ReferenceGrant(id: ResourceID(namespace: "other", name: "allow-test"),
                                   from: [.init(group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "test")],
                                   to: [.init(group: "", kind: "Service")])
        let d = Fixtures.decide(Self.router([Fixtures.to("other-svc", port: 80, ns: "other")], extraServices: [other], grants: [grant]))
        #expect(d.status == 200)
        #expect(d.backend == BackendTarget(service: ResourceID(namespace: "other", name: "other-svc"), port: 80))
    }

    @Test("a ReferenceGrant naming Linkerd's HTTPRoute group allows a policy.linkerd.io route")
    func linkerdGrant() {
        let other = Fixtures.service("other-svc", ns: "other", ip: "10.96.1.1", ports: [80])
        let grant = ReferenceGrant(id: ResourceID(namespace: "other", name: "allow-linkerd"),
                                   from: [.init(group: "policy.linkerd.io", kind: "HTTPRoute", namespace: "test")],
                                   to: [.init(group: "", kind: "Service", name: "other-svc")])
        var route = Fixtures.route("linkerd-route", [HTTPRouteRule(backendRefs: [Fixtures.to("other-svc", port: 80, ns: "other")])])
        route.api = .linkerdV1beta2
        let router = Router(snapshot: Fixtures.snapshot(routes: [route], extraServices: [other], grants: [grant]))
        let d = Fixtures.decide(router)
        #expect(d.status == 200, "\(d.reason ?? "")")
        #expect(d.backend == BackendTarget(service: ResourceID(namespace: "other", name: "other-svc"), port: 80))
        #expect(router.unresolvedBackendRefs().isEmpty)
    }

    @Test("a Service without a selector routes to its EndpointSlice endpoints, pod or not")
    func manualEndpoints() throws {
        let manual = Service(id: ResourceID(namespace: "test", name: "manual"), clusterIP: "10.96.0.40",
                             ports: [ServicePort(name: "http", port: 80)])
        let slice = EndpointSlice(id: ResourceID(namespace: "test", name: "manual-1"), ports: [.init(name: "http", port: 9898)],
                                  endpoints: [.init(addresses: ["10.244.2.30"]), .init(addresses: ["192.0.2.4"], nodeName: "edge")],
                                  labels: [EndpointSlice.serviceNameLabel: "manual"])
        let snapshot = MeshSnapshot(namespaces: [Namespace(name: "test", annotations: ["linkerd.io/inject": "enabled"])],
                                    services: [manual], pods: [Fixtures.pod("backend-b-1", app: "backend-b-podinfo", ip: "10.244.2.30")],
                                    endpointSlices: [slice])
        let router = Router(snapshot: snapshot)
        let d = Fixtures.decide(router, parent: ParentKey(service: manual.id, port: 80))
        #expect(d.status == 200)
        #expect(d.endpoints.map(\.description) == ["10.244.2.30:9898", "192.0.2.4:9898"])
        // A known pod IP is that pod, meshed with its identity; an outside address is neither.
        #expect(d.endpoints[0].pod == ResourceID(namespace: "test", name: "backend-b-1"))
        #expect(d.endpoints[0].meshed && d.endpoints[0].identity?.name == "default.test.serviceaccount.identity.linkerd.cluster.local")
        #expect(d.endpoints[1] == Endpoint(ip: "192.0.2.4", port: 9898, nodeName: "edge"))
        #expect(try router.resolve(destination: "10.96.0.40:80") == .service(ParentKey(service: manual.id, port: 80)))
    }

    @Test("a rule without backendRefs is a 500")
    func noBackends() {
        let d = Fixtures.decide(Self.router([]))
        #expect(d.status == 500)
        #expect(d.reason == "rule has no backendRefs")
    }

    @Test("a route on one port leaves the other ports of the Service alone")
    func portScoped() {
        let twoPorts = Fixtures.service("backend-a-podinfo", ip: "10.96.0.20", ports: [9898, 9999])
        var snapshot = Fixtures.snapshot(routes: [Fixtures.route("r", port: 9898, [HTTPRouteRule(backendRefs: [Fixtures.to("backend-b-podinfo")])])])
        snapshot = MeshSnapshot(namespaces: Array(snapshot.namespaces.values),
                                services: snapshot.services.values.filter { $0.id.name != "backend-a-podinfo" } + [twoPorts],
                                pods: Array(snapshot.pods.values), httpRoutes: snapshot.httpRoutes)
        let router = Router(snapshot: snapshot)
        #expect(Fixtures.decide(router).backend?.service.name == "backend-b-podinfo")
        let other = ParentKey(service: Fixtures.parentA.service, port: 9999)
        #expect(Fixtures.decide(router, parent: other).backend == BackendTarget(service: Fixtures.parentA.service, port: 9999))
    }

    @Test("a route without a parent port applies to every port")
    func allPorts() {
        let twoPorts = Fixtures.service("backend-a-podinfo", ip: "10.96.0.20", ports: [9898, 9999])
        let route = Fixtures.route("r", port: nil, [HTTPRouteRule(backendRefs: [Fixtures.to("backend-b-podinfo")])])
        let base = Fixtures.snapshot(routes: [route])
        let snapshot = MeshSnapshot(namespaces: Array(base.namespaces.values),
                                    services: base.services.values.filter { $0.id.name != "backend-a-podinfo" } + [twoPorts],
                                    pods: Array(base.pods.values), httpRoutes: [route])
        let d = Fixtures.decide(Router(snapshot: snapshot), parent: ParentKey(service: Fixtures.parentA.service, port: 9999))
        #expect(d.backend?.service.name == "backend-b-podinfo")
    }

    @Test("hostnames on a Service-parented route are ignored (GAMMA)")
    func hostnamesIgnored() {
        var route = Fixtures.route("r", [HTTPRouteRule(backendRefs: [Fixtures.to("backend-b-podinfo")])])
        route.hostnames = ["elsewhere.example.com"]
        let d = Fixtures.decide(Router(snapshot: Fixtures.snapshot(routes: [route])), headers: [("host", "backend-a-podinfo.test:9898")])
        #expect(d.backend?.service.name == "backend-b-podinfo")
    }
}

@Suite("Consumer routes (GAMMA)")
struct ConsumerRouteTests {
    // A producer route in `test` sends everything to B; a consumer route in `client-ns`
    // sends that namespace's traffic to the frontend Service instead.
    static let grant = ReferenceGrant(id: ResourceID(namespace: "test", name: "g"),
                                      from: [.init(group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "client-ns")],
                                      to: [.init(group: "", kind: "Service")])
    static let router = Router(snapshot: Fixtures.snapshot(
        routes: [
            Fixtures.route("producer", [HTTPRouteRule(backendRefs: [Fixtures.to("backend-b-podinfo")])]),
            Fixtures.route("consumer", ns: "client-ns", parentNamespace: "test",
                           [HTTPRouteRule(matches: [HTTPRouteMatch(path: .init(type: .pathPrefix, value: "/special"))],
                                          backendRefs: [Fixtures.to("frontend-podinfo", ns: "test")])]),
        ],
        extraPods: [Fixtures.pod("client", app: "client", ns: "client-ns", ip: "10.244.1.50")],
        grants: [grant]))

    @Test func producerNamespaceClientsUseProducerRoutes() {
        let d = Fixtures.decide(Self.router, path: "/special", from: "test")
        #expect(d.route?.name == "producer")
        #expect(d.backend?.service.name == "backend-b-podinfo")
    }

    @Test func defaultClientIsInTheServiceNamespace() {
        #expect(Fixtures.decide(Self.router, path: "/special").route?.name == "producer")
    }

    @Test func consumerNamespaceUsesItsOwnRoutesOnly() {
        let d = Fixtures.decide(Self.router, path: "/special", from: "client-ns")
        #expect(d.route == RouteReference(group: "gateway.networking.k8s.io", namespace: "client-ns", name: "consumer", rule: 0))
        #expect(d.backend?.service.name == "frontend-podinfo")
        // the producer route no longer applies to this namespace: no match is a 404
        #expect(Fixtures.decide(Self.router, path: "/other", from: "client-ns").status == 404)
    }

    @Test func otherNamespacesUseProducerRoutes() {
        #expect(Fixtures.decide(Self.router, path: "/special", from: "third-ns").route?.name == "producer")
    }
}

@Suite("Consumer routes and namespaces without a ReferenceGrant")
struct ConsumerRouteGrantTests {
    static func decide(to backend: String) -> RouteDecision {
        let router = Router(snapshot: Fixtures.snapshot(
            routes: [Fixtures.route("consumer", ns: "client-ns", parentNamespace: "test",
                                    [HTTPRouteRule(filters: [.requestHeaderModifier(.init(set: [HTTPHeader(name: "x-via", value: "consumer")]))],
                                                   backendRefs: [Fixtures.to(backend, ns: "test")])])],
            extraPods: [Fixtures.pod("client", app: "client", ns: "client-ns", ip: "10.244.1.50")]))
        return Fixtures.decide(router, from: "client-ns")
    }

    @Test("a consumer route may send on to its own parent Service")
    func ownParent() {
        let d = Self.decide(to: "backend-a-podinfo")
        #expect(d.status == 200)
        #expect(d.backend?.service == ResourceID(namespace: "test", name: "backend-a-podinfo"))
        #expect(d.request.header("x-via") == "consumer")
    }

    @Test("but not to another Service of that namespace")
    func otherService() {
        let d = Self.decide(to: "backend-b-podinfo")
        #expect(d.status == 500)
        #expect(d.reason?.contains("no ReferenceGrant") == true)
    }
}

@Suite("RequestMirror percentages")
struct MirrorPercentTests {
    @Test("a mirror with percent mirrors about that share of requests", arguments: [0.0, 25.0, 100.0])
    func percent(percent: Double) {
        let router = Router(snapshot: Fixtures.snapshot(routes: [Fixtures.route("r", [
            HTTPRouteRule(filters: [.requestMirror(.init(backend: HTTPBackendRef(name: "frontend-podinfo", port: 9898), percent: percent))],
                          backendRefs: [Fixtures.to("backend-b-podinfo")]),
        ])]))
        var rng = SplitMix64(seed: 9)
        let samples = 10_000
        var mirrored = 0
        for _ in 0..<samples where !router.decide(RouteRequest(), parent: Fixtures.parentA, using: &rng).mirrors.isEmpty {
            mirrored += 1
        }
        #expect(abs(Double(mirrored) / Double(samples) * 100 - percent) < 2)
    }
}
