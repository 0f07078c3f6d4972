import Foundation
import SwitchyardModel
import SwitchyardRouting

/// A gRPC world beside the tutorial's: Service `greeter` (port 50051 `grpc`, 8080 `http`) and
/// its versions `greeter-v1`, `greeter-v2`, one pod each, in namespace `test`.
enum GRPCFixtures {
    static let test = Fixtures.test
    static let services = [
        Fixtures.service("greeter", ip: "10.96.5.1", ports: [50051, 8080]),
        Fixtures.service("greeter-v1", ip: "10.96.5.2", ports: [50051]),
        Fixtures.service("greeter-v2", ip: "10.96.5.3", ports: [50051]),
    ]
    static let pods = [
        Fixtures.pod("greeter-1", app: "greeter", ip: "10.244.5.1"),
        Fixtures.pod("greeter-v1-1", app: "greeter-v1", ip: "10.244.5.2"),
        Fixtures.pod("greeter-v2-1", app: "greeter-v2", ip: "10.244.5.3"),
    ]
    static let parent = ParentKey(service: ResourceID(namespace: test, name: "greeter"), port: 50051)
    static let httpParent = ParentKey(service: ResourceID(namespace: test, name: "greeter"), port: 8080)

    static func snapshot(grpc: [GRPCRoute], http: [HTTPRoute] = [], namespaces: [Namespace] = [],
                         grants: [ReferenceGrant] = [], extraServices: [Service] = []) -> MeshSnapshot {
        let base = Fixtures.snapshot(routes: http, extraServices: services + extraServices, extraPods: pods,
                                     namespaces: namespaces, grants: grants)
        return MeshSnapshot(namespaces: Array(base.namespaces.values), services: Array(base.services.values),
                            pods: Array(base.pods.values), httpRoutes: base.httpRoutes, grpcRoutes: grpc,
                            referenceGrants: base.referenceGrants)
    }

    static func router(grpc: [GRPCRoute], http: [HTTPRoute] = [], namespaces: [Namespace] = [],
                       grants: [ReferenceGrant] = [], extraServices: [Service] = []) -> Router {
        Router(snapshot: snapshot(grpc: grpc, http: http, namespaces: namespaces, grants: grants, extraServices: extraServices))
    }

    /// A GRPCRoute in `ns` attached to greeter (port 50051 unless told otherwise).
    static func route(_ name: String, ns: String = test, created: TimeInterval? = nil, port: Int? = 50051,
                      parent: String = "greeter", parentNamespace: String? = nil, _ rules: [GRPCRouteRule]) -> GRPCRoute {
        GRPCRoute(id: ResourceID(namespace: ns, name: name), creationTimestamp: created.map { Date(timeIntervalSince1970: $0) },
                  parentRefs: [ParentReference(group: "", kind: "Service", namespace: parentNamespace, name: parent, port: port)],
                  rules: rules)
    }

    static func to(_ backend: String, weight: Int = 1, port: Int? = 50051, ns: String? = nil,
                   filters: [HTTPRouteFilter] = []) -> HTTPBackendRef {
        HTTPBackendRef(name: backend, namespace: ns, port: port, weight: weight, filters: filters)
    }

    static func exact(_ service: String?, _ method: String?) -> GRPCMethodMatch {
        GRPCMethodMatch(type: .exact, service: service, method: method)
    }

    static func regex(_ service: String?, _ method: String?) -> GRPCMethodMatch {
        GRPCMethodMatch(type: .regularExpression, service: service, method: method)
    }

    /// A gRPC call as a client sends it: `POST /<service>/<method>`, `content-type: application/grpc`.
    static func call(_ router: Router, _ path: String, headers: [(String, String)] = [], parent: ParentKey = parent,
                     from clientNamespace: String? = nil, seed: UInt64 = 1) -> RouteDecision {
        Fixtures.decide(router, method: "POST", path: path,
                        headers: [("content-type", "application/grpc"), ("te", "trailers")] + headers,
                        parent: parent, from: clientNamespace, seed: seed)
    }
}
