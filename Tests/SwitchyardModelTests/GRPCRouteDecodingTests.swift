import Foundation
import Testing
@testable import SwitchyardModel

/// GRPCRoute (gateway.networking.k8s.io/v1, v1alpha2): what is read, and how.
@Suite struct GRPCRouteDecodingTests {
    static let fullRoute = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: greeter, namespace: shop, creationTimestamp: "2024-05-01T12:00:00Z"}
        spec:
          parentRefs:
          - {group: "", kind: Service, name: greeter, port: 50051}
          - {group: core, kind: Service, name: greeter, namespace: other, sectionName: grpc}
          hostnames: [greeter.shop.svc.cluster.local]
          rules:
          - name: say-hello
            matches:
            - method: {service: helloworld.Greeter, method: SayHello}
              headers:
              - {name: x-canary, value: "true"}
              - {type: RegularExpression, name: x-user, value: "u-[0-9]+"}
            - method: {type: RegularExpression, service: "helloworld\\\\..*"}
            - method: {method: Check}
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {set: [{name: x-route, value: grpc}], remove: [x-drop]}
            - type: ResponseHeaderModifier
              responseHeaderModifier: {add: [{name: x-served-by, value: greeter-v2}]}
            - type: RequestMirror
              requestMirror: {backendRef: {name: greeter-shadow, port: 50051}}
            backendRefs:
            - name: greeter-v2
              port: 50051
              weight: 90
              filters:
              - type: RequestHeaderModifier
                requestHeaderModifier: {add: [{name: x-backend, value: v2}]}
            - {name: greeter-v1, port: 50051, weight: 10}
          - backendRefs: [{name: greeter-v1, port: 50051}]
        """

    @Test func everyFieldIsRead() throws {
        let snapshot = try loadManifest(Self.fullRoute)
        #expect(snapshot.httpRoutes.isEmpty)
        #expect(snapshot.skipped.isEmpty)
        let route = try #require(snapshot.grpcRoutes.first)
        #expect(route.id == ResourceID(namespace: "shop", name: "greeter"))
        #expect(route.api == .gatewayV1)
        #expect(route.creationTimestamp == Date(timeIntervalSince1970: 1_714_564_800))
        #expect(route.source == ManifestSource(file: "test.yaml", document: 0))
        #expect(route.parentRefs == [
            ParentReference(group: "", kind: "Service", name: "greeter", port: 50051),
            ParentReference(group: "core", kind: "Service", namespace: "other", name: "greeter", sectionName: "grpc"),
        ])
        #expect(route.hostnames == ["greeter.shop.svc.cluster.local"])
        #expect(route.rules.count == 2)
        let rule = route.rules[0]
        #expect(rule.name == "say-hello")
        #expect(rule.matches == [
            GRPCRouteMatch(method: GRPCMethodMatch(type: .exact, service: "helloworld.Greeter", method: "SayHello"),
                           headers: [HTTPHeaderMatch(name: "x-canary", value: "true"),
                                     HTTPHeaderMatch(type: .regularExpression, name: "x-user", value: "u-[0-9]+")]),
            GRPCRouteMatch(method: GRPCMethodMatch(type: .regularExpression, service: "helloworld\\..*")),
            GRPCRouteMatch(method: GRPCMethodMatch(method: "Check")),
        ])
        #expect(rule.filters == [
            .requestHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "x-route", value: "grpc")], remove: ["x-drop"])),
            .responseHeaderModifier(HTTPHeaderModifier(add: [HTTPHeader(name: "x-served-by", value: "greeter-v2")])),
            .requestMirror(HTTPRequestMirror(backend: HTTPBackendRef(name: "greeter-shadow", port: 50051))),
        ])
        #expect(rule.backendRefs == [
            HTTPBackendRef(name: "greeter-v2", port: 50051, weight: 90,
                           filters: [.requestHeaderModifier(HTTPHeaderModifier(add: [HTTPHeader(name: "x-backend", value: "v2")]))]),
            HTTPBackendRef(name: "greeter-v1", port: 50051, weight: 10),
        ])
        #expect(route.rules[1] == GRPCRouteRule(backendRefs: [HTTPBackendRef(name: "greeter-v1", port: 50051)]))
    }

    @Test func v1alpha2IsReadToo() throws {
        let snapshot = try loadManifest(Self.fullRoute.replacingOccurrences(of: "networking.k8s.io/v1\n", with: "networking.k8s.io/v1alpha2\n"))
        #expect(snapshot.grpcRoutes.map(\.api) == [.gatewayV1alpha2])
        #expect(GRPCRouteAPIVersion.gatewayV1alpha2.group == "gateway.networking.k8s.io")
    }

    @Test func otherVersionsAreSkippedWithANote() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: GRPCRoute
            metadata: {name: old}
            spec: {}
            ---
            apiVersion: policy.linkerd.io/v1beta3
            kind: GRPCRoute
            metadata: {name: linkerd}
            """)
        #expect(snapshot.grpcRoutes.isEmpty)
        #expect(snapshot.skipped.map(\.kind) == ["GRPCRoute", "GRPCRoute"])
        #expect(snapshot.skipped[0].reason == "GRPCRoute gateway.networking.k8s.io/v1beta1 is not read (Switchyard reads "
            + "gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1alpha2), skipped")
        #expect(snapshot.skipped[1].reason.hasPrefix("GRPCRoute policy.linkerd.io/v1beta3 is not read"))
    }

    @Test func defaults() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: r}
            spec:
              rules:
              - matches: [{method: {service: a.B}}, {headers: [{name: x, value: "1"}]}, {}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: no-rules}
            spec: {parentRefs: [{name: svc, kind: Service, group: ""}]}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: empty-regex-part}
            spec:
              rules: [{matches: [{method: {type: RegularExpression, service: "", method: "Get.*"}}]}]
            """)
        let routes = Dictionary(uniqueKeysWithValues: snapshot.grpcRoutes.map { ($0.id.name, $0) })
        let r = try #require(routes["r"])
        #expect(r.id.namespace == "default")
        #expect(r.parentRefs.isEmpty && r.hostnames.isEmpty && r.creationTimestamp == nil)
        // Type defaults to Exact; an absent method matches every service and method.
        #expect(r.rules[0].matches == [
            GRPCRouteMatch(method: GRPCMethodMatch(type: .exact, service: "a.B")),
            GRPCRouteMatch(headers: [HTTPHeaderMatch(type: .exact, name: "x", value: "1")]),
            GRPCRouteMatch(),
        ])
        #expect(r.rules[0].backendRefs.isEmpty && r.rules[0].filters.isEmpty)
        // No CRD default for rules (unlike HTTPRoute): none means none.
        #expect(routes["no-rules"]?.rules == [])
        // An empty RegularExpression part is "any", like an absent one.
        #expect(routes["empty-regex-part"]?.rules[0].matches[0].method == GRPCMethodMatch(type: .regularExpression, method: "Get.*"))
    }

    @Test func validServiceAndMethodNames() throws {
        for (service, method) in [("grpc.health.v1.Health", "Check"), (".pkg.Svc", "_private"), ("Svc", "Get2"),
                                  ("a_b.C_d9", "snake_case_method"), ("UPPER.lower", "X")] {
            let snapshot = try loadManifest("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: GRPCRoute
                metadata: {name: r}
                spec: {rules: [{matches: [{method: {service: "\(service)", method: "\(method)"}}]}]}
                """)
            #expect(snapshot.grpcRoutes.first?.rules[0].matches[0].method?.service == service)
        }
    }

    @Test func grpcRoutesAndHTTPRoutesWithTheSameNameAreDistinct() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: r, namespace: shop}
            spec: {}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            spec: {}
            """)
        #expect(snapshot.grpcRoutes.count == 1 && snapshot.httpRoutes.count == 1)
    }

    @Test func aGRPCRouteTwiceIsADuplicate() throws {
        let errors = manifestErrors("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: r, namespace: shop}
            spec: {}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: r, namespace: shop}
            spec: {}
            """)
        #expect(errors.map(\.description) == [
            "test.yaml: document 1 (GRPCRoute shop/r): metadata.name: duplicate GRPCRoute shop/r: also defined in test.yaml: document 0",
        ])
    }

    @Test func aGRPCRouteListIsUnpacked() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRouteList
            items:
            - metadata: {name: a}
              spec: {rules: [{backendRefs: [{name: a, port: 50051}]}]}
            - metadata: {name: b}
              spec: {rules: [{backendRefs: [{name: b, port: 50051}]}]}
            """)
        #expect(snapshot.grpcRoutes.map(\.id.name) == ["a", "b"])
    }

    @Test func referenceGrantsForGRPCRoutes() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow, namespace: backends}
            spec:
              from:
              - {group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: grpc}
              - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}
              - {group: policy.linkerd.io, kind: GRPCRoute, namespace: linkerd}
              to: [{group: "", kind: Service, name: db}]
            """)
        let db = ResourceID(namespace: "backends", name: "db")
        #expect(snapshot.routeMayReference(from: "grpc", service: db, kind: "GRPCRoute"))
        #expect(!snapshot.routeMayReference(from: "grpc", service: db, kind: "HTTPRoute"))
        #expect(!snapshot.routeMayReference(from: "web", service: db, kind: "GRPCRoute"))
        #expect(snapshot.routeMayReference(from: "web", service: db, kind: "HTTPRoute"))
        // Switchyard reads no policy.linkerd.io GRPCRoute, so that group grants nothing.
        #expect(!snapshot.routeMayReference(from: "linkerd", service: db, kind: "GRPCRoute"))
    }
}
