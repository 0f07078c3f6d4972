import Foundation
import SwitchyardModel

/// The HTTPRoutes of a snapshot, compiled per parent (Service, port).
///
/// For each parent there is one producer set (routes in the Service's namespace) and a
/// consumer set per client namespace (GAMMA: a route in another namespace applies only to
/// clients in that namespace, in place of the producer routes). Each set holds all its
/// matches sorted by `MatchPrecedence`, greatest first, so a lookup returns the first hit.
/// Lookup cost depends on the routes of one parent, never on the number of Services.
public struct RouteTable: Sendable {
    /// The routes attached to one parent for one audience, compiled.
    final class RouteSet: Sendable {
        /// Routes in precedence order: oldest first, then by namespace/name.
        let routes: [HTTPRoute]
        /// Every rule of those routes; `CompiledMatch.rule` indexes this.
        let rules: [CompiledRule]
        let matches: [CompiledMatch]

        init(routes: [HTTPRoute], rules: [CompiledRule], matches: [CompiledMatch]) {
            self.routes = routes
            self.rules = rules
            self.matches = matches
        }

        /// The index in `matches` of the first (highest precedence) match for the request.
        func firstMatch(_ request: RouteRequest) -> Int? {
            var i = 0
            while i < matches.count {
                if matches[i].matches(request) { return i }
                i += 1
            }
            return nil
        }
    }

    /// Everything about one Service port: its routes per audience, and where its traffic goes
    /// when no route is attached.
    final class ParentRoutes: @unchecked Sendable {
        // Mutated only while the table is being built, before it is shared.
        var producer: RouteSet?
        var consumers: [String: RouteSet] = [:]
        let direct: BackendTarget
        let directCandidates: [BackendCandidate]
        let directEndpoints: [Endpoint]

        init(direct: BackendTarget, directCandidates: [BackendCandidate], directEndpoints: [Endpoint]) {
            self.direct = direct
            self.directCandidates = directCandidates
            self.directEndpoints = directEndpoints
        }
    }

    /// A route that attached to nothing, or to less than it asked for, and why.
    public struct Note: Hashable, Sendable, CustomStringConvertible {
        public var route: ResourceID
        public var parentRef: Int
        public var message: String
        public var description: String { "HTTPRoute \(route) spec.parentRefs[\(parentRef)]: \(message)" }
    }

    let parents: [ParentKey: ParentRoutes]
    /// Every (parent, route) attachment, for `switchyard check`: the routes in precedence order.
    public let attachments: [ParentKey: [ResourceID]]
    /// Parent references that did not attach, with the reason.
    public let notes: [Note]

    public init(snapshot: MeshSnapshot) {
        // parent -> audience (nil = producer) -> routes
        var attached: [ParentKey: [String?: [HTTPRoute]]] = [:]
        var notes: [Note] = []
        for route in snapshot.httpRoutes {
            var seen = Set<ParentKey>()
            for (i, ref) in route.parentRefs.enumerated() {
                guard ref.isService else {
                    notes.append(Note(route: route.id, parentRef: i,
                                      message: "parent kind \(ref.group.isEmpty ? "" : ref.group + "/")\(ref.kind) is not a Service; ignored by the mesh"))
                    continue
                }
                let serviceID = ResourceID(namespace: ref.namespace ?? route.id.namespace, name: ref.name)
                guard let service = snapshot.services[serviceID] else {
                    notes.append(Note(route: route.id, parentRef: i, message: "parent Service \(serviceID) not found"))
                    continue
                }
                let ports: [Int]
                if let port = ref.port {
                    guard service.port(port) != nil else {
                        notes.append(Note(route: route.id, parentRef: i, message: "Service \(serviceID) has no port \(port)"))
                        continue
                    }
                    ports = [port]
                } else if let section = ref.sectionName {
                    guard let p = service.ports.first(where: { $0.name == section }) else {
                        notes.append(Note(route: route.id, parentRef: i, message: "Service \(serviceID) has no port named \(section)"))
                        continue
                    }
                    ports = [p.port]
                } else {
                    ports = service.ports.map(\.port)
                }
                let audience: String? = route.id.namespace == serviceID.namespace ? nil : route.id.namespace
                for port in ports {
                    let key = ParentKey(service: serviceID, port: port)
                    guard seen.insert(key).inserted else { continue }
                    attached[key, default: [:]][audience, default: []].append(route)
                }
            }
        }

        let resolver = BackendResolver(snapshot: snapshot)
        var parents: [ParentKey: ParentRoutes] = [:]
        for service in snapshot.services.values {
            for port in service.ports where port.protocol == "TCP" {
                let key = ParentKey(service: service.id, port: port.port)
                parents[key] = ParentRoutes(
                    direct: BackendTarget(service: service.id, port: port.port),
                    directCandidates: [BackendCandidate(namespace: service.id.namespace, name: service.id.name, port: port.port, weight: 1)],
                    directEndpoints: snapshot.endpoints(of: service.id, port: port.port))
            }
        }
        var attachments: [ParentKey: [ResourceID]] = [:]
        for (key, audiences) in attached {
            guard parents[key] != nil else { continue }
            for (audience, routes) in audiences {
                let set = Self.compile(routes, resolver: resolver)
                if let audience { parents[key]!.consumers[audience] = set } else { parents[key]!.producer = set }
                attachments[key, default: []].append(contentsOf: set.routes.map(\.id))
            }
        }
        self.parents = parents
        self.attachments = attachments
        self.notes = notes
    }

    static func compile(_ routes: [HTTPRoute], resolver: BackendResolver) -> RouteSet {
        let ordered = routes.sorted { a, b in
            switch (a.creationTimestamp, b.creationTimestamp) {
            case let (x?, y?) where x != y: return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.id < b.id
            }
        }
        var matches: [CompiledMatch] = []
        var rules: [CompiledRule] = []
        for (r, route) in ordered.enumerated() {
            for (ruleIndex, rule) in route.rules.enumerated() {
                let ruleMatches = rule.matches.isEmpty ? [HTTPRouteMatch()] : rule.matches
                for (m, match) in ruleMatches.enumerated() {
                    matches.append(CompiledMatch(match, rule: rules.count, precedence: (routeOrder: r, rule: ruleIndex, match: m)))
                }
                rules.append(CompiledRule(route: route, ruleIndex: ruleIndex, resolver: resolver))
            }
        }
        matches.sort { $0.precedence > $1.precedence }
        return RouteSet(routes: ordered, rules: rules, matches: matches)
    }

    /// The routes that apply to a client in `clientNamespace` calling `parent`, or nil when
    /// none are attached (traffic then goes to the parent Service itself).
    func routeSet(in entry: ParentRoutes, parent: ParentKey, clientNamespace: String) -> RouteSet? {
        if !entry.consumers.isEmpty, clientNamespace != parent.service.namespace, let consumer = entry.consumers[clientNamespace] {
            return consumer
        }
        return entry.producer
    }
}
