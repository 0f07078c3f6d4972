import Foundation
import Testing
@testable import SwitchyardModel

/// What the loader makes of valid manifests: defaults, Lists, every field it reads.
@Suite struct ManifestDecodingTests {
    @Test func vOneListItemsAreObjects() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: List
            metadata:
              resourceVersion: ""
            items:
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: shop}
              spec:
                clusterIP: 10.96.1.1
                ports: [{port: 80, targetPort: 8080}]
                selector: {app: web}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web-1, namespace: shop, labels: {app: web}}
              spec: {containers: [{name: web}]}
              status:
                phase: Running
                podIP: 10.244.0.5
                conditions: [{type: Ready, status: "True"}]
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: shop}
            """)
        #expect(snapshot.services.count == 1)
        #expect(snapshot.pods.count == 1)
        #expect(snapshot.endpoints(of: ResourceID(namespace: "shop", name: "web"), port: 80).map(\.description) == ["10.244.0.5:8080"])
        #expect(snapshot.skipped.count == 1)
        let skipped = try #require(snapshot.skipped.first)
        #expect(skipped.kind == "Deployment" && skipped.name == "web" && skipped.reason == "unknown kind, skipped")
        #expect(skipped.source == ManifestSource(file: "test.yaml", document: 0))
        // Errors inside a List name the item.
        let errors = manifestErrors("""
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: a}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: a}
              spec:
                ports: [{port: 70000}]
            """)
        #expect(errors.map(\.field) == ["items[1].spec.ports[0].port"])
        #expect(errors.first?.object == "Service a/web")
        #expect(errors.first?.document == 0)
    }

    @Test func typedListItemsTakeTheListsKind() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: PodList
            items:
            - metadata: {name: p1}
              status: {phase: Running, podIP: 10.0.0.9}
            """)
        #expect(snapshot.pods[ResourceID(namespace: "default", name: "p1")]?.podIP == "10.0.0.9")
    }

    @Test func namedTargetPortResolvesPerPod() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: api}
            spec:
              ports:
              - {name: http, port: 80, targetPort: web}
              - {name: dns, port: 53, targetPort: dns, protocol: UDP}
              selector: {app: api}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: api-old, labels: {app: api}}
            spec:
              containers:
              - name: api
                ports: [{name: web, containerPort: 8080}, {name: dns, containerPort: 5353, protocol: UDP}]
            status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: api-new, labels: {app: api}}
            spec:
              containers:
              - name: api
                ports: [{name: web, containerPort: 9090}]
            status: {phase: Running, podIP: 10.1.0.2, conditions: [{type: Ready, status: "True"}]}
            """)
        let id = ResourceID(namespace: "default", name: "api")
        #expect(snapshot.endpoints(of: id, port: 80).map(\.description) == ["10.1.0.2:9090", "10.1.0.1:8080"])
        // 53 is UDP only: the mesh proxies TCP, so the number names no port and has no endpoints.
        #expect(snapshot.endpoints(of: id, port: 53).isEmpty)
        #expect(snapshot.services[id]?.port(53) == nil)
        #expect(snapshot.services[id]?.ports.last?.protocol == "UDP")
    }

    @Test func tcpAndUDPOnOneNumberMeanTheTCPPort() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: dns}
            spec:
              clusterIP: 10.96.0.10
              ports:
              - {name: dns-udp, port: 53, targetPort: dns-udp, protocol: UDP}
              - {name: dns-tcp, port: 53, targetPort: dns-tcp, protocol: TCP}
              selector: {app: dns}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: dns-1, labels: {app: dns}}
            spec:
              containers:
              - name: dns
                ports: [{name: dns-udp, containerPort: 5353, protocol: UDP}, {name: dns-tcp, containerPort: 5354}]
            status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: "True"}]}
            """)
        let id = ResourceID(namespace: "default", name: "dns")
        let service = try #require(snapshot.services[id])
        #expect(service.port(53)?.name == "dns-tcp")
        #expect(service.port(53)?.protocol == "TCP")
        // The UDP entry, listed first, neither shadows nor mixes into the TCP port's endpoints.
        #expect(snapshot.endpoints(of: id, port: 53).map(\.description) == ["10.1.0.1:5354"])
        #expect(snapshot.endpoints[id]?.keys.sorted() == [53])
    }

    @Test func onlyRunningReadyPodsWithAnIPAreEndpoints() throws {
        let pods = [
            TutorialManifests.pod("web", suffix: "ready", ip: "10.2.0.1", node: "n1"),
            TutorialManifests.pod("web", suffix: "unready", ip: "10.2.0.2", node: "n1", ready: false),
            TutorialManifests.pod("web", suffix: "pending", ip: "10.2.0.3", node: "n1", phase: "Pending"),
            TutorialManifests.pod("web", suffix: "succeeded", ip: "10.2.0.4", node: "n1", phase: "Succeeded"),
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: web-noip, namespace: test, labels: {app.kubernetes.io/name: web}}
            status: {phase: Pending, conditions: [{type: PodScheduled, status: "True"}]}
            """,
        ]
        let snapshot = try loadManifest(([TutorialManifests.namespace, TutorialManifests.service("web", clusterIP: "10.96.5.5")] + pods)
            .joined(separator: "\n---\n"))
        #expect(snapshot.pods.count == 5)
        let unready = try #require(snapshot.pods[ResourceID(namespace: "test", name: "web-unready")])
        #expect(!unready.ready && unready.phase == "Running")
        #expect(snapshot.pods[ResourceID(namespace: "test", name: "web-noip")]?.podIP == nil)
        #expect(snapshot.endpoints(of: ResourceID(namespace: "test", name: "web"), port: 9898).map(\.ip) == ["10.2.0.1"])
    }

    @Test func defaults() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: svc}
            spec:
              clusterIP: None
              ports: [{port: 80}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pod}
            spec:
              serviceAccount: legacy
              containers: [{name: c, ports: [{containerPort: 80}]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pod2}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              parentRefs: [{name: gw}]
            """)
        let service = try #require(snapshot.services[ResourceID(namespace: "default", name: "svc")])
        #expect(service.clusterIP == nil && service.clusterIPs.isEmpty)
        #expect(service.type == "ClusterIP")
        #expect(service.ports == [ServicePort(port: 80, targetPort: .number(80), protocol: "TCP")])
        #expect(service.selector == nil)
        let pod = try #require(snapshot.pods[ResourceID(namespace: "default", name: "pod")])
        #expect(pod.serviceAccountName == "legacy")
        #expect(pod.containerPorts == [ContainerPort(containerPort: 80, protocol: "TCP")])
        #expect(!pod.ready && pod.phase == nil)
        #expect(snapshot.pods[ResourceID(namespace: "default", name: "pod2")]?.serviceAccountName == "default")
        let route = try #require(snapshot.httpRoutes.first)
        #expect(route.api == .gatewayV1)
        #expect(route.parentRefs == [ParentReference(group: "gateway.networking.k8s.io", kind: "Gateway", name: "gw")])
        // No rules: the CRD default, one rule matching everything, with no backends.
        #expect(route.rules == [HTTPRouteRule(matches: [HTTPRouteMatch(path: HTTPPathMatch(type: .pathPrefix, value: "/"))])])
    }

    @Test func fullHTTPRoute() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: everything
              namespace: shop
              creationTimestamp: "2024-05-01T12:00:00Z"
            spec:
              parentRefs:
              - {group: "", kind: Service, name: web, port: 80}
              - {group: "", kind: Service, name: web, namespace: shop, sectionName: http}
              hostnames: ["web.shop.svc.cluster.local", "*.example.com"]
              rules:
              - name: main
                matches:
                - path: {type: Exact, value: /exact}
                  method: POST
                  headers:
                  - {name: x-version, value: "2"}
                  - {type: RegularExpression, name: x-user, value: "[a-z]+"}
                  queryParams:
                  - {name: debug, value: "1"}
                  - {type: RegularExpression, name: page, value: "\\\\d+"}
                - path: {type: RegularExpression, value: "/items/([0-9]+)(/(?<rest>.*))?"}
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: x-set, value: a}]
                    add: [{name: x-add, value: b}]
                    remove: [x-remove]
                - type: ResponseHeaderModifier
                  responseHeaderModifier: {add: [{name: x-served-by, value: switchyard}]}
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: shadow, port: 8080}
                    fraction: {numerator: 1, denominator: 4}
                - type: URLRewrite
                  urlRewrite: {hostname: internal.example.com, path: {type: ReplaceFullPath, replaceFullPath: /v2}}
                backendRefs:
                - name: web-v1
                  port: 8080
                  weight: 90
                - name: web-v2
                  namespace: other
                  port: 8080
                  weight: 10
                  filters:
                  - type: RequestHeaderModifier
                    requestHeaderModifier: {set: [{name: x-canary, value: "true"}]}
                timeouts: {request: 10s, backendRequest: 2s500ms}
              - matches: [{path: {value: /old}}]
                filters:
                - type: RequestRedirect
                  requestRedirect:
                    scheme: https
                    hostname: new.example.com
                    port: 8443
                    statusCode: 301
                    path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
              - timeouts: {request: 0s}
                backendRefs: [{kind: Backend, group: example.com, name: custom}]
            """)
        let route = try #require(snapshot.httpRoutes.first)
        #expect(route.creationTimestamp == Date(timeIntervalSince1970: 1_714_564_800))
        #expect(route.parentRefs == [
            ParentReference(group: "", kind: "Service", name: "web", port: 80),
            ParentReference(group: "", kind: "Service", namespace: "shop", name: "web", sectionName: "http"),
        ])
        #expect(route.hostnames == ["web.shop.svc.cluster.local", "*.example.com"])
        #expect(route.rules.count == 3)
        let main = route.rules[0]
        #expect(main.name == "main")
        #expect(main.matches == [
            HTTPRouteMatch(path: HTTPPathMatch(type: .exact, value: "/exact"),
                           headers: [HTTPHeaderMatch(name: "x-version", value: "2"),
                                     HTTPHeaderMatch(type: .regularExpression, name: "x-user", value: "[a-z]+")],
                           queryParams: [HTTPQueryParamMatch(name: "debug", value: "1"),
                                         HTTPQueryParamMatch(type: .regularExpression, name: "page", value: "\\d+")],
                           method: "POST"),
            HTTPRouteMatch(path: HTTPPathMatch(type: .regularExpression, value: "/items/([0-9]+)(/(?<rest>.*))?")),
        ])
        #expect(main.filters == [
            .requestHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "x-set", value: "a")],
                                                      add: [HTTPHeader(name: "x-add", value: "b")], remove: ["x-remove"])),
            .responseHeaderModifier(HTTPHeaderModifier(add: [HTTPHeader(name: "x-served-by", value: "switchyard")])),
            .requestMirror(HTTPRequestMirror(backend: HTTPBackendRef(name: "shadow", port: 8080), percent: 25)),
            .urlRewrite(HTTPURLRewrite(hostname: "internal.example.com", path: .replaceFullPath("/v2"))),
        ])
        #expect(main.backendRefs == [
            HTTPBackendRef(name: "web-v1", port: 8080, weight: 90),
            HTTPBackendRef(name: "web-v2", namespace: "other", port: 8080, weight: 10,
                           filters: [.requestHeaderModifier(HTTPHeaderModifier(set: [HTTPHeader(name: "x-canary", value: "true")]))]),
        ])
        #expect(main.timeouts == HTTPRouteTimeouts(request: .seconds(10), backendRequest: .milliseconds(2500)))
        #expect(route.rules[1].filters == [.requestRedirect(HTTPRequestRedirect(
            scheme: "https", hostname: "new.example.com", path: .replacePrefixMatch("/new"), port: 8443, statusCode: 301))])
        #expect(route.rules[1].backendRefs.isEmpty)
        // "0s" explicitly disables the timeout (zero), unlike an unset one (nil); a non-Service
        // backend needs no port.
        #expect(route.rules[2].timeouts == HTTPRouteTimeouts(request: .zero, backendRequest: nil))
        #expect(route.rules[2].backendRefs == [HTTPBackendRef(group: "example.com", kind: "Backend", name: "custom")])
    }

    @Test(arguments: RouteAPIVersion.allCases)
    func everyRouteVersion(_ version: RouteAPIVersion) throws {
        let snapshot = try loadManifest("""
            apiVersion: \(version.rawValue)
            kind: HTTPRoute
            metadata: {name: r, namespace: ns}
            spec:
              parentRefs: [{name: svc, kind: Service, group: core, port: 80}]
              rules: [{backendRefs: [{name: svc, port: 80}]}]
            """)
        #expect(snapshot.httpRoutes.map(\.api) == [version])
    }

    @Test func redirectDefaultsTo302AndMirrorToAll() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - filters: [{type: RequestRedirect, requestRedirect: {hostname: example.com}}]
              - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}}},
                          {type: RequestMirror, requestMirror: {backendRef: {name: n, port: 80}, percent: 50}}]
                backendRefs: [{name: a, port: 80}]
            """)
        let rules = try #require(snapshot.httpRoutes.first?.rules)
        #expect(rules[0].filters == [.requestRedirect(HTTPRequestRedirect(hostname: "example.com", statusCode: 302))])
        #expect(rules[1].filters == [
            .requestMirror(HTTPRequestMirror(backend: HTTPBackendRef(name: "m", port: 80), percent: nil)),
            .requestMirror(HTTPRequestMirror(backend: HTTPBackendRef(name: "n", port: 80), percent: 50)),
        ])
    }

    @Test func referenceGrant() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow-shop, namespace: backends}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
              to: [{group: "", kind: Service, name: db}, {group: "", kind: Service}]
            """)
        let grant = try #require(snapshot.referenceGrants.first)
        #expect(grant.id == ResourceID(namespace: "backends", name: "allow-shop"))
        #expect(grant.from == [.init(group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "shop")])
        #expect(grant.to == [.init(group: "", kind: "Service", name: "db"), .init(group: "", kind: "Service")])
        #expect(snapshot.routeMayReference(from: "shop", service: ResourceID(namespace: "backends", name: "other")))
    }

    @Test func referenceGrantFromLinkerdHTTPRoutes() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow-linkerd, namespace: backends}
            spec:
              from:
              - {group: policy.linkerd.io, kind: HTTPRoute, namespace: shop}
              - {group: example.com, kind: HTTPRoute, namespace: other}
              - {group: policy.linkerd.io, kind: GRPCRoute, namespace: grpc}
              to: [{group: "", kind: Service, name: db}]
            """)
        let db = ResourceID(namespace: "backends", name: "db")
        // Linkerd's HTTPRoute group counts like the Gateway API's.
        #expect(snapshot.routeMayReference(from: "shop", service: db))
        #expect(!snapshot.routeMayReference(from: "shop", service: ResourceID(namespace: "backends", name: "cache")))
        // Another group, or another kind, does not.
        #expect(!snapshot.routeMayReference(from: "other", service: db))
        #expect(!snapshot.routeMayReference(from: "grpc", service: db))
    }

    @Test func zeroTimeoutsAreExplicitUnsetAreNil() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: shop}
            spec:
              rules:
              - timeouts: {request: 0s, backendRequest: 5s}
              - timeouts: {backendRequest: 0ms}
              - timeouts: {request: 0h0m0s}
              - timeouts: {}
              - backendRefs: [{name: web, port: 80}]
            """)
        let rules = try #require(snapshot.httpRoutes.first?.rules)
        // request 0s means no limit, so a longer backendRequest is allowed (the CRD's CEL rule).
        #expect(rules[0].timeouts == HTTPRouteTimeouts(request: .zero, backendRequest: .seconds(5)))
        #expect(rules[1].timeouts == HTTPRouteTimeouts(request: nil, backendRequest: .zero))
        #expect(rules[2].timeouts?.request == .zero)
        #expect(rules[3].timeouts == HTTPRouteTimeouts(request: nil, backendRequest: nil))
        #expect(rules[4].timeouts == nil)
    }

    @Test func dualStackAddresses() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: ds}
            spec:
              clusterIPs: [10.96.0.7, "fd00::7"]
              ports: [{port: 80}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: ds}
            status:
              podIP: 10.244.0.7
              podIPs: [{ip: 10.244.0.7}, {ip: "fd00:244::7"}]
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n}
            status: {addresses: [{type: InternalIP, address: "fd00::1"}, {type: InternalIP, address: 192.168.0.1}]}
            """)
        #expect(snapshot.services[ResourceID(namespace: "default", name: "ds")]?.clusterIP == "10.96.0.7")
        #expect(snapshot.service(clusterIP: "fd00::7")?.id.name == "ds")
        #expect(snapshot.pod(ip: "fd00:244::7")?.id.name == "ds")
        #expect(snapshot.nodes["n"]?.internalIPs == ["fd00::1", "192.168.0.1"])
    }

    @Test func emptyAndNullDocumentsAreSkippedSilently() throws {
        let snapshot = try loadManifest("""
            # a comment only
            ---
            ---
            null
            ---
            ~
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: ns}
            ---
            """)
        #expect(snapshot.namespaces.keys.sorted() == ["ns"])
        #expect(snapshot.skipped.isEmpty)
        #expect(snapshot.namespaces["ns"]?.source?.document == 3)
    }

    @Test func unknownKindsAreSkippedWithANote() throws {
        let snapshot = try loadManifest("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw}
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TLSRoute
            metadata: {name: tls}
            ---
            apiVersion: policy.linkerd.io/v1beta3
            kind: Server
            metadata: {name: srv}
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: HTTPRoute
            metadata: {name: old}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cm}
            data: {a: "1"}
            """)
        #expect(snapshot.skipped.map(\.kind) == ["Deployment", "Gateway", "TLSRoute", "Server", "HTTPRoute", "ConfigMap"])
        #expect(snapshot.skipped.map(\.source.document) == [0, 1, 2, 3, 4, 5])
        #expect(snapshot.skipped[0].description == "test.yaml: document 0 (apps/v1 Deployment web): unknown kind, skipped")
        #expect(snapshot.skipped.allSatisfy { $0.reason.hasSuffix("skipped") })
        #expect(snapshot.skipped[1].reason.contains("not used"))
        #expect(snapshot.skipped[2].reason.contains("not supported"))
        #expect(snapshot.skipped[3].reason.contains("Linkerd policy"))
        #expect(snapshot.skipped[4].reason.contains("v1alpha2 is not read"))
        #expect(snapshot.httpRoutes.isEmpty)
    }

    @Test func kubectlOutputWithManagedFieldsAndUnknownFields() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata:
              annotations:
                kubectl.kubernetes.io/last-applied-configuration: |
                  {"apiVersion":"v1","kind":"Service"}
              creationTimestamp: "2024-05-01T12:00:00Z"
              managedFields:
              - apiVersion: v1
                fieldsType: FieldsV1
                fieldsV1:
                  f:spec:
                    f:ports:
                      k:{"port":80,"protocol":"TCP"}:
                        .: {}
                        f:port: {}
                manager: kubectl
                operation: Update
                time: "2024-05-01T12:00:00Z"
              name: web
              namespace: default
              resourceVersion: "12345"
              uid: 0b7c3a7e-0000-0000-0000-000000000000
            spec:
              clusterIP: 10.96.0.1
              clusterIPs: [10.96.0.1]
              internalTrafficPolicy: Cluster
              ipFamilies: [IPv4]
              ipFamilyPolicy: SingleStack
              ports:
              - name: http
                port: 80
                protocol: TCP
                targetPort: 8080
              selector: {app: web}
              sessionAffinity: None
              type: ClusterIP
            status:
              loadBalancer: {}
            """)
        #expect(snapshot.services.first?.value.ports.first?.targetPort == .number(8080))
    }

    @Test func mergeKeysAndAnchors() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: a
              labels: &labels {app: web, tier: front}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: b
              labels:
                <<: *labels
                tier: back
            """)
        #expect(snapshot.pods[ResourceID(namespace: "default", name: "a")]?.labels == ["app": "web", "tier": "front"])
        #expect(snapshot.pods[ResourceID(namespace: "default", name: "b")]?.labels == ["app": "web", "tier": "back"])
    }

    @Test func sameNameInDifferentAPIGroupsIsNotADuplicate() throws {
        let snapshot = try loadManifest("""
            apiVersion: policy.linkerd.io/v1beta3
            kind: HTTPRoute
            metadata: {name: r}
            spec: {}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec: {}
            """)
        #expect(snapshot.httpRoutes.count == 2)
    }

    @Test func meshOptInFromPodOrNamespace() throws {
        func pod(_ name: String, _ namespace: String, inject: String?) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(name)
              namespace: \(namespace)
              labels: {app: web}
              annotations: {\(inject.map { "linkerd.io/inject: \($0)" } ?? "")}
            status: {phase: Running, podIP: 10.3.0.\(name.count), conditions: [{type: Ready, status: "True"}]}
            """
        }
        let snapshot = try loadManifest([
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: meshed, annotations: {linkerd.io/inject: enabled}}",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: plain}",
            pod("a", "meshed", inject: nil), pod("bb", "meshed", inject: "disabled"),
            pod("ccc", "plain", inject: "enabled"), pod("dddd", "plain", inject: nil), pod("eeeee", "absent", inject: nil),
        ].joined(separator: "\n---\n"))
        let meshed = snapshot.pods.values.filter(snapshot.isMeshed).map(\.id.name).sorted()
        #expect(meshed == ["a", "ccc"])
    }
}
