import SwitchyardModel
import SwitchyardRouting

/// The readable summary `switchyard check` prints: counts, each route and where it attached,
/// backendRefs that would answer 500, parents that did not attach, skipped documents.
struct CheckReport {
    let snapshot: MeshSnapshot
    let router: Router
    let directory: String

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    var text: String {
        var out = ""
        let meshed = snapshot.pods.values.filter { snapshot.isMeshed($0) }.count
        let counts = [count(snapshot.namespaces.count, "namespace"), count(snapshot.services.count, "service"),
                      count(snapshot.pods.count, "pod") + " (\(meshed) meshed)", count(snapshot.nodes.count, "node"),
                      count(snapshot.httpRoutes.count, "HTTPRoute"), count(snapshot.referenceGrants.count, "ReferenceGrant"),
                      count(snapshot.endpointSlices.count, "EndpointSlice"), count(snapshot.grpcRoutes.count, "GRPCRoute")]
        out += "\(directory): \(counts.joined(separator: ", "))\n"

        let byRoute = Dictionary(grouping: router.table.attachments.flatMap { parent, routes in routes.map { ($0, parent) } },
                                 by: { $0.0 }).mapValues { $0.map(\.1).sorted { $0.description < $1.description } }
        // HTTPRoutes that GRPCRoutes displaced from some parent (the warnings say where).
        let displaced = Set(router.table.notes.filter(\.displacedByGRPCRoutes).map(\.route))
        for route in snapshot.httpRoutes {
            let parents = byRoute[route.id] ?? []
            let attached = parents.isEmpty ? (displaced.contains(route.id) ? "not applied (GRPCRoutes take its parents)" : "attached to nothing")
                : "-> " + parents.map { p in
                    p.service.namespace == route.id.namespace ? p.description : "\(p) (consumer route for clients in \(route.id.namespace))"
                }.joined(separator: ", ")
            out += "HTTPRoute \(route.id) (\(route.api.rawValue), \(route.rules.count) rule\(route.rules.count == 1 ? "" : "s")) \(attached)\n"
        }
        let byGRPCRoute = Dictionary(grouping: router.table.grpcAttachments.flatMap { parent, routes in routes.map { ($0, parent) } },
                                     by: { $0.0 }).mapValues { $0.map(\.1).sorted { $0.description < $1.description } }
        for route in snapshot.grpcRoutes {
            let parents = byGRPCRoute[route.id] ?? []
            let attached = parents.isEmpty ? "attached to nothing"
                : "-> " + parents.map { p in
                    p.service.namespace == route.id.namespace ? p.description : "\(p) (consumer route for clients in \(route.id.namespace))"
                }.joined(separator: ", ")
            out += "GRPCRoute \(route.id) (\(route.api.rawValue), \(route.rules.count) rule\(route.rules.count == 1 ? "" : "s")) \(attached)\n"
        }
        for service in snapshot.services.values.sorted(by: { $0.id < $1.id }) {
            let counts = service.ports.map { "\($0.port): \(snapshot.endpoints(of: service.id, port: $0.port).count)" }
            out += "Service \(service.id) \(service.clusterIP ?? "headless") endpoints {\(counts.joined(separator: ", "))}\n"
        }
        for note in router.table.notes { out += "warning: \(note)\n" }
        for problem in router.unresolvedBackendRefs() {
            out += "warning: HTTPRoute \(problem.route) \(problem.field): \(problem.reason)\n"
        }
        for problem in router.unresolvedGRPCBackendRefs() {
            out += "warning: GRPCRoute \(problem.route) \(problem.field): \(problem.reason)\n"
        }
        for skipped in snapshot.skipped { out += "skipped: \(skipped)\n" }
        out += "ok\n"
        return out
    }
}
