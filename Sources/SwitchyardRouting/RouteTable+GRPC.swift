import SwitchyardModel

/// Attaching routes of either kind to Service ports, and compiling GRPCRoutes.
///
/// A GRPCRoute is compiled into the same `RouteSet` as HTTPRoutes are: its matches become
/// `CompiledMatch`es of kind `.grpc` (service and method tested on the path
/// `/<service>/<method>`, headers as for HTTPRoute) and its rules `CompiledRule`s built from
/// its HTTPRoute form, so backends, weights, filters and the decision are shared code.
///
/// One parent (Service port), for one audience (its producer routes, or the consumer routes
/// of one client namespace), is served by routes of one kind: when GRPCRoutes and HTTPRoutes
/// both attach, the GRPCRoutes take it and the HTTPRoutes are not applied there (a `Note`
/// says so). This is what Linkerd's policy controller does, after GEP-1426: the HTTPRoute is
/// not accepted (reason `Conflicted`).
extension RouteTable {
    /// One place a route attaches: a Service port, for an audience (nil: producer route;
    /// else the client namespace of a consumer route), through `parentRefs[parentRef]`.
    struct Attachment {
        var parent: ParentKey
        var audience: String?
        var parentRef: Int
    }

    /// Where a route's `parentRefs` attach, each parent once; a reference that cannot attach
    /// (not a Service, a Service or port that does not exist) gets a note instead.
    static func attach(_ route: ResourceID, parentRefs: [ParentReference], kind: String, snapshot: MeshSnapshot,
                       notes: inout [Note]) -> [Attachment] {
        var result: [Attachment] = []
        var seen = Set<ParentKey>()
        for (i, ref) in parentRefs.enumerated() {
            guard ref.isService else {
                notes.append(Note(route: route, parentRef: i,
                                  message: "parent kind \(ref.group.isEmpty ? "" : ref.group + "/")\(ref.kind) is not a Service; ignored by the mesh",
                                  kind: kind))
                continue
            }
            let serviceID = ResourceID(namespace: ref.namespace ?? route.namespace, name: ref.name)
            guard let service = snapshot.services[serviceID] else {
                notes.append(Note(route: route, parentRef: i, message: "parent Service \(serviceID) not found", kind: kind))
                continue
            }
            let ports: [Int]
            if let port = ref.port {
                guard service.port(port) != nil else {
                    notes.append(Note(route: route, parentRef: i, message: "Service \(serviceID) has no port \(port)", kind: kind))
                    continue
                }
                ports = [port]
            } else if let section = ref.sectionName {
                guard let p = service.ports.first(where: { $0.name == section }) else {
                    notes.append(Note(route: route, parentRef: i, message: "Service \(serviceID) has no port named \(section)", kind: kind))
                    continue
                }
                ports = [p.port]
            } else {
                ports = service.ports.map(\.port)
            }
            let audience: String? = route.namespace == serviceID.namespace ? nil : route.namespace
            for port in ports {
                let key = ParentKey(service: serviceID, port: port)
                guard seen.insert(key).inserted else { continue }
                result.append(Attachment(parent: key, audience: audience, parentRef: i))
            }
        }
        return result
    }

    /// The note for an HTTPRoute that GRPCRoutes displaced from `parent`.
    static func displacedNote(_ route: ResourceID, parentRef: Int, parent: ParentKey, audience: String?,
                              by grpc: [GRPCRoute]) -> Note {
        let names = grpc.map(\.id.description).sorted().joined(separator: ", ")
        let whom = audience.map { " for clients in \($0)" } ?? ""
        return Note(route: route, parentRef: parentRef,
                    message: "not applied to \(parent)\(whom): GRPCRoute \(names) attached there too, and a GRPCRoute takes "
                        + "a Service port from HTTPRoutes (as Linkerd does, GEP-1426)",
                    displacedByGRPCRoutes: true)
    }

    /// Compiles the GRPCRoutes attached to one parent for one audience, as `compile` does
    /// HTTPRoutes: routes oldest first, then by namespace/name; every match sorted by
    /// GRPCRoute precedence. A rule without matches matches every request.
    static func compile(grpc routes: [GRPCRoute], resolver: BackendResolver) -> RouteSet {
        let ordered = routes.sorted { olderFirst(($0.creationTimestamp, $0.id), ($1.creationTimestamp, $1.id)) }
        var matches: [CompiledMatch] = []
        var rules: [CompiledRule] = []
        var forms: [HTTPRoute] = []
        for (r, route) in ordered.enumerated() {
            let form = route.httpRouteForm
            forms.append(form)
            for (ruleIndex, rule) in route.rules.enumerated() {
                let ruleMatches = rule.matches.isEmpty ? [GRPCRouteMatch()] : rule.matches
                for (m, match) in ruleMatches.enumerated() {
                    matches.append(CompiledMatch(grpc: match, rule: rules.count, precedence: (routeOrder: r, rule: ruleIndex, match: m)))
                }
                rules.append(CompiledRule(route: form, ruleIndex: ruleIndex, resolver: resolver, kind: "GRPCRoute"))
            }
        }
        matches.sort { $0.precedence > $1.precedence }
        return RouteSet(routes: forms, rules: rules, matches: matches)
    }
}

extension GRPCRoute {
    /// The route as an HTTPRoute with the same identity, parents and rules (names, filters,
    /// backendRefs) but no matches: what `CompiledRule`, `BackendResolver` and the filters
    /// read. Its `api` is `gatewayV1`, which gives the right group (every GRPCRoute version
    /// is in `gateway.networking.k8s.io`).
    var httpRouteForm: HTTPRoute {
        HTTPRoute(id: id, api: .gatewayV1, creationTimestamp: creationTimestamp, parentRefs: parentRefs, hostnames: hostnames,
                  rules: rules.map { HTTPRouteRule(name: $0.name, matches: [], filters: $0.filters, backendRefs: $0.backendRefs) },
                  source: source)
    }
}
