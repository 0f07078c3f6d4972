// Route decisions per second on the tutorial table, and on a table with 10,000 Services
// (to show lookup cost does not grow with the number of Services). A benchmark, not a test:
// run it with `make bench-router` (release build) and read the ns/decision it prints.
import Foundation
import SwitchyardModel
import SwitchyardRouting

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func measure(_ label: String, router: Router, parent: ParentKey, request: RouteRequest, expect: String) {
    var rng = SplitMix64(state: 7)
    let check = router.decide(request, parent: parent, using: &rng)
    guard check.backend?.service.name == expect else {
        fatalError("\(label): routed to \(String(describing: check.backend)), expected \(expect)")
    }
    let iterations = Int(ProcessInfo.processInfo.environment["SY_BENCH_ITERATIONS"] ?? "") ?? 2_000_000
    var best = Double.infinity
    for _ in 0..<5 {
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            sink &+= router.decide(request, parent: parent, using: &rng).status
        }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
        precondition(sink != 0)
        best = min(best, ns)
    }
    print(String(format: "%-52@ %7.0f ns/decision  %6.2f M decisions/s", label as NSString, best, 1_000 / best))
}

let manifests = CommandLine.arguments.dropFirst().first ?? "examples/podinfo"
let snapshot = try ManifestLoader().load(directory: manifests)
let tutorial = Router(snapshot: snapshot)
let parent = ParentKey(service: ResourceID(namespace: "test", name: "backend-a-podinfo"), port: 9898)
let headers = [HTTPHeader(name: "host", value: "backend-a-podinfo:9898"), HTTPHeader(name: "user-agent", value: "curl/7.88.1"),
               HTTPHeader(name: "accept", value: "*/*")]
let toB = RouteRequest(method: "POST", path: "/echo", headers: headers + [HTTPHeader(name: "x-request-id", value: "alternative")])
let toA = RouteRequest(method: "POST", path: "/echo", headers: headers + [HTTPHeader(name: "x-request-id", value: "b1f3c2")])

print("route decisions, release build, one core, best of 5 runs of 2,000,000")
measure("tutorial: x-request-id: alternative -> B", router: tutorial, parent: parent, request: toB, expect: "backend-b-podinfo")
measure("tutorial: other x-request-id -> A", router: tutorial, parent: parent, request: toA, expect: "backend-a-podinfo")

// The same tutorial route among 10,000 other Services, each with a route of its own.
var services = Array(snapshot.services.values)
var routes = snapshot.httpRoutes
for i in 0..<10_000 {
    let name = "svc-\(i)"
    services.append(Service(id: ResourceID(namespace: "bulk", name: name), clusterIP: "10.100.\(i / 256).\(i % 256)",
                            ports: [ServicePort(port: 80)], selector: ["app": name]))
    routes.append(HTTPRoute(id: ResourceID(namespace: "bulk", name: "route-\(i)"),
                            parentRefs: [ParentReference(group: "core", kind: "Service", name: name, port: 80)],
                            rules: [HTTPRouteRule(matches: [HTTPRouteMatch(headers: [HTTPHeaderMatch(name: "x-request-id", value: "alternative")])],
                                                  backendRefs: [HTTPBackendRef(name: name, port: 80)])]))
}
let big = Router(snapshot: MeshSnapshot(namespaces: Array(snapshot.namespaces.values), services: services,
                                        pods: Array(snapshot.pods.values), nodes: Array(snapshot.nodes.values), httpRoutes: routes))
measure("10,000 Services: x-request-id: alternative -> B", router: big, parent: parent, request: toB, expect: "backend-b-podinfo")
measure("10,000 Services: other x-request-id -> A", router: big, parent: parent, request: toA, expect: "backend-a-podinfo")
