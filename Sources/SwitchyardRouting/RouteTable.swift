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
        /// `HTTPRoute` or `GRPCRoute`.
        public var kind: String = "HTTPRoute"
        /// An HTTPRoute that attached, but GRPCRoutes on the same parent took it.
        public var displacedByGRPCRoutes = false
        public var description: String { "\(kind) \(route) spec.parentRefs[\(parentRef)]: \(message)" }
    }

    let parents: [ParentKey: ParentRoutes]
    /// Every (parent, HTTPRoute) attachment in force, for `switchyard check`: the routes in
    /// precedence order. HTTPRoutes displaced by GRPCRoutes are not here (see `notes`).
    public let attachments: [ParentKey: [ResourceID]]
    /// Every (parent, GRPCRoute) attachment, in precedence order.
    public let grpcAttachments: [ParentKey: [ResourceID]]
    /// Parent references that did not attach, with the reason.
    public let notes: [Note]

    public init(snapshot: MeshSnapshot) {
        // parent -> audience (nil = producer) -> routes
        var attached: [ParentKey: [String?: [HTTPRoute]]] = [:]
        var notes: [Note] = []
        // route -> parent -> the parentRefs index that attached it there (for conflict notes)
        var attachedBy: [ResourceID: [ParentKey: Int]] = [:]
        for route in snapshot.httpRoutes {
            for a in Self.attach(route.id, parentRefs: route.parentRefs, kind: "HTTPRoute", snapshot: snapshot, notes: &notes) {
                attached[a.parent, default: [:]][a.audience, default: []].append(route)
                attachedBy[route.id, default: [:]][a.parent] = a.parentRef
            }
        }
        var attachedGRPC: [ParentKey: [String?: [GRPCRoute]]] = [:]
        for route in snapshot.grpcRoutes {
            for a in Self.attach(route.id, parentRefs: route.parentRefs, kind: "GRPCRoute", snapshot: snapshot, notes: &notes) {
                attachedGRPC[a.parent, default: [:]][a.audience, default: []].append(route)
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
        var conflicts: [Note] = []
        for (key, audiences) in attached {
            guard parents[key] != nil else { continue }
            for (audience, routes) in audiences {
                if let grpc = attachedGRPC[key]?[audience] {
                    // GRPCRoutes take this parent (for this audience); see `displacedNote`.
                    for route in routes {
                        conflicts.append(Self.displacedNote(route.id, parentRef: attachedBy[route.id]?[key] ?? 0, parent: key,
                                                            audience: audience, by: grpc))
                    }
                    continue
                }
                let set = Self.compile(routes, resolver: resolver)
                if let audience { parents[key]!.consumers[audience] = set } else { parents[key]!.producer = set }
                attachments[key, default: []].append(contentsOf: set.routes.map(\.id))
            }
        }
        var grpcAttachments: [ParentKey: [ResourceID]] = [:]
        for (key, audiences) in attachedGRPC {
            guard parents[key] != nil else { continue }
            for (audience, routes) in audiences {
                let set = Self.compile(grpc: routes, resolver: resolver)
                if let audience { parents[key]!.consumers[audience] = set } else { parents[key]!.producer = set }
                grpcAttachments[key, default: []].append(contentsOf: set.routes.map(\.id))
            }
        }
        self.parents = parents
        self.attachments = attachments
        self.grpcAttachments = grpcAttachments
        self.notes = notes + conflicts.sorted { ($0.route, $0.parentRef, $0.message) < ($1.route, $1.parentRef, $1.message) }
    }

    /// Route precedence among routes (HTTPRoute and GRPCRoute alike): the older first (a route
    /// without a creation time counts as newest), then by namespace/name.
    static func olderFirst(_ a: (created: Date?, id: ResourceID), _ b: (created: Date?, id: ResourceID)) -> Bool {
        switch (a.created, b.created) {
        case let (x?, y?) where x != y: return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        default: return a.id < b.id
        }
    }

    static func compile(_ routes: [HTTPRoute], resolver: BackendResolver) -> RouteSet {
        let ordered = routes.sorted { olderFirst(($0.creationTimestamp, $0.id), ($1.creationTimestamp, $1.id)) }
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
