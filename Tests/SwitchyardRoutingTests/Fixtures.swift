import Foundation
import SwitchyardModel
import SwitchyardRouting

/// A deterministic generator for the weighted pick.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The tutorial's world: namespace `test` (meshed), three podinfo Services with one pod each.
enum Fixtures {
    static let test = "test"

    static func service(_ name: String, ns: String = test, ip: String, ports: [Int] = [9898]) -> Service {
        Service(id: ResourceID(namespace: ns, name: name), clusterIP: ip,
                ports: ports.map { ServicePort(name: "p\($0)", port: $0) }, selector: ["app": name])
    }

    static func pod(_ name: String, app: String, ns: String = test, ip: String, node: String = "node-2") -> Pod {
        Pod(id: ResourceID(namespace: ns, name: name), labels: ["app": app], nodeName: node, podIP: ip)
    }

    static let tutorialRoute = HTTPRoute(
        id: ResourceID(namespace: test, name: "backend-router"), api: .linkerdV1beta2,
        parentRefs: [ParentReference(group: "core", kind: "Service", name: "backend-a-podinfo", port: 9898)],
        rules: [
            HTTPRouteRule(matches: [HTTPRouteMatch(headers: [HTTPHeaderMatch(name: "x-request-id", value: "alternative")])],
                          backendRefs: [HTTPBackendRef(name: "backend-b-podinfo", port: 9898)]),
            HTTPRouteRule(backendRefs: [HTTPBackendRef(name: "backend-a-podinfo", port: 9898)]),
        ])

    static func snapshot(routes: [HTTPRoute] = [tutorialRoute], extraServices: [Service] = [], extraPods: [Pod] = [],
                         namespaces: [Namespace] = [], grants: [ReferenceGrant] = []) -> MeshSnapshot {
        MeshSnapshot(
            namespaces: [Namespace(name: test, annotations: ["linkerd.io/inject": "enabled"])] + namespaces,
            services: [service("frontend-podinfo", ip: "10.96.0.10"), service("backend-a-podinfo", ip: "10.96.0.20"),
                       service("backend-b-podinfo", ip: "10.96.0.30")] + extraServices,
            pods: [pod("frontend-1", app: "frontend-podinfo", ip: "10.244.1.10", node: "node-1"),
                   pod("backend-a-1", app: "backend-a-podinfo", ip: "10.244.2.20"),
                   pod("backend-b-1", app: "backend-b-podinfo", ip: "10.244.2.30")] + extraPods,
            httpRoutes: routes, referenceGrants: grants)
    }

    /// A route in `test` attached to backend-a-podinfo:9898 with the given rules.
    static func route(_ name: String, ns: String = test, created: TimeInterval? = nil, port: Int? = 9898,
                      parent: String = "backend-a-podinfo", parentNamespace: String? = nil,
                      _ rules: [HTTPRouteRule]) -> HTTPRoute {
        HTTPRoute(id: ResourceID(namespace: ns, name: name), api: .gatewayV1,
                  creationTimestamp: created.map { Date(timeIntervalSince1970: $0) },
                  parentRefs: [ParentReference(group: "", kind: "Service", namespace: parentNamespace, name: parent, port: port)],
                  rules: rules)
    }

    static func to(_ backend: String, weight: Int = 1, port: Int? = 9898, ns: String? = nil,
                   filters: [HTTPRouteFilter] = []) -> HTTPBackendRef {
        HTTPBackendRef(name: backend, namespace: ns, port: port, weight: weight, filters: filters)
    }

    static let parentA = ParentKey(service: ResourceID(namespace: test, name: "backend-a-podinfo"), port: 9898)

    static func decide(_ router: Router, method: String = "GET", path: String = "/", headers: [(String, String)] = [],
                       parent: ParentKey = parentA, from clientNamespace: String? = nil, seed: UInt64 = 1) -> RouteDecision {
        var rng = SplitMix64(seed: seed)
        let request = RouteRequest(method: method, path: path, headers: headers.map { HTTPHeader(name: $0.0, value: $0.1) })
        return router.decide(request, parent: parent, clientNamespace: clientNamespace, using: &rng)
    }
}
