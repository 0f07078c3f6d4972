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
    struct RouteSet: Sendable {
        /// Routes in precedence order: oldest first, then by namespace/name.
        let routes: [HTTPRoute]
        let matches: [CompiledMatch]

        func firstMatch(_ request: RouteRequest) -> CompiledMatch? {
            for m in matches where m.matches(request) { return m }
            return nil
        }
    }

    struct ParentRoutes: Sendable {
        var producer: RouteSet?
        var consumers: [String: RouteSet] = [:]
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

        var parents: [ParentKey: ParentRoutes] = [:]
        var attachments: [ParentKey: [ResourceID]] = [:]
        for (key, audiences) in attached {
            var entry = ParentRoutes()
            for (audience, routes) in audiences {
                let set = Self.compile(routes)
                if let audience { entry.consumers[audience] = set } else { entry.producer = set }
                attachments[key, default: []].append(contentsOf: set.routes.map(\.id))
            }
            parents[key] = entry
        }
        self.parents = parents
        self.attachments = attachments
        self.notes = notes
    }

    static func compile(_ routes: [HTTPRoute]) -> RouteSet {
        let ordered = routes.sorted { a, b in
            switch (a.creationTimestamp, b.creationTimestamp) {
            case let (x?, y?) where x != y: return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.id < b.id
            }
        }
        var matches: [CompiledMatch] = []
        for (r, route) in ordered.enumerated() {
            for (ruleIndex, rule) in route.rules.enumerated() {
                let ruleMatches = rule.matches.isEmpty ? [HTTPRouteMatch()] : rule.matches
                for (m, match) in ruleMatches.enumerated() {
                    matches.append(CompiledMatch(match, route: r, rule: ruleIndex, matchIndex: m, routeOrder: r))
                }
            }
        }
        matches.sort { $0.precedence > $1.precedence }
        return RouteSet(routes: ordered, matches: matches)
    }

    /// The routes that apply to a client in `clientNamespace` calling `parent`, or nil when
    /// none are attached (traffic then goes to the parent Service itself).
    func routeSet(for parent: ParentKey, clientNamespace: String) -> RouteSet? {
        guard let entry = parents[parent] else { return nil }
        if clientNamespace != parent.service.namespace, let consumer = entry.consumers[clientNamespace] {
            return consumer
        }
        return entry.producer
    }
}
