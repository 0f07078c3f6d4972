import Testing
@testable import SwitchyardModel

/// `discovery.k8s.io/v1 EndpointSlice`: decoding, validation, and the endpoints it gives a
/// Service without a selector.
@Suite struct EndpointSliceTests {
    /// Namespace `shop` (meshed), pod `web-1` (10.244.0.5, node n1, service account web) and
    /// the selector-less Service `web` with ports http 80 -> ?, metrics 9090 and 53/UDP.
    static let world = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, annotations: {linkerd.io/inject: enabled}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: shop, labels: {app: web}}
        spec: {serviceAccountName: web, nodeName: n1}
        status: {phase: Running, podIP: 10.244.0.5, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-2, namespace: shop, labels: {app: web}}
        spec: {nodeName: n2}
        status: {phase: Running, podIP: 10.244.0.6, podIPs: [{ip: 10.244.0.6}, {ip: "fd00::6"}], conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.0.50
          ports:
          - {name: http, port: 80, targetPort: 8080}
          - {name: metrics, port: 9090}
          - {name: dns, port: 53, protocol: UDP}
        """

    static let web = ResourceID(namespace: "shop", name: "web")

    @Test func decodesEveryField() throws {
        let snapshot = try loadManifest("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-manual
              namespace: shop
              labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: staff}
            addressType: IPv4
            ports:
            - {name: http, port: 8080, appProtocol: kubernetes.io/h2c}
            - {name: dns, port: 5353, protocol: UDP}
            - {name: "", port: 7000}
            - {name: later}
            endpoints:
            - addresses: [10.244.0.5]
              conditions: {ready: true, serving: true, terminating: false}
              targetRef: {kind: Pod, namespace: shop, name: web-1, uid: 0a1b}
              nodeName: n1
              zone: z1
            - addresses: [192.0.2.7, 192.0.2.8]
            """)
        let slice = try #require(snapshot.endpointSlices.first)
        #expect(slice.id == ResourceID(namespace: "shop", name: "web-manual"))
        #expect(slice.addressType == .ipv4)
        #expect(slice.service == Self.web)
        #expect(slice.ports == [
            EndpointSlice.Port(name: "http", port: 8080, protocol: "TCP", appProtocol: "kubernetes.io/h2c"),
            EndpointSlice.Port(name: "dns", port: 5353, protocol: "UDP"),
            EndpointSlice.Port(name: nil, port: 7000),
            EndpointSlice.Port(name: "later", port: nil),
        ])
        #expect(slice.endpoints == [
            EndpointSlice.Endpoint(addresses: ["10.244.0.5"],
                                   conditions: .init(ready: true, serving: true, terminating: false),
                                   targetRef: .init(kind: "Pod", namespace: "shop", name: "web-1"), nodeName: "n1"),
            EndpointSlice.Endpoint(addresses: ["192.0.2.7", "192.0.2.8"]),
        ])
        // Absent conditions are unknown; an absent `ready` counts as ready.
        #expect(slice.endpoints[1].conditions.ready == nil && slice.endpoints[1].conditions.isReady)
        #expect(snapshot.skipped.isEmpty)
    }

    @Test func fqdnSlicesAreSkippedWithANote() throws {
        let snapshot = try loadManifest("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: ext, namespace: shop, labels: {kubernetes.io/service-name: ext}}
            addressType: FQDN
            ports: [{port: 443}]
            endpoints: [{addresses: [api.example.com]}]
            ---
            apiVersion: discovery.k8s.io/v1beta1
            kind: EndpointSlice
            metadata: {name: old, namespace: shop}
            addressType: IPv4
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: legacy, namespace: shop}
            """)
        #expect(snapshot.endpointSlices.isEmpty)
        #expect(snapshot.skipped.map(\.name) == ["ext", "old", "legacy"])
        #expect(snapshot.skipped[0].reason.contains("FQDN EndpointSlices are not used"))
        #expect(snapshot.skipped[1].reason.contains("discovery.k8s.io/v1beta1 is not read"))
        #expect(snapshot.skipped[2].reason.contains("v1 Endpoints is not read"))
        // An FQDN slice is still validated.
        let errors = manifestErrors("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: ext, namespace: shop}
            addressType: FQDN
            endpoints: [{addresses: [API_.example.com]}]
            """)
        #expect(errors.map(\.field) == ["endpoints[0].addresses[0]"])
    }

    static func slice(_ body: String) -> String {
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: shop}\n" + body
    }

    static let badSlices: [BadManifest] = [
        BadManifest(label: "IPv6 address in an IPv4 slice", yaml: slice("""
            addressType: IPv4
            endpoints: [{addresses: [10.0.0.1]}, {addresses: ["fd00::1"]}]
            """), field: "endpoints[1].addresses[0]",
            message: "\"fd00::1\" is not an IPv4 address (the slice's addressType is IPv4)"),
        BadManifest(label: "IPv4 address in an IPv6 slice", yaml: slice("""
            addressType: IPv6
            endpoints: [{addresses: ["fd00::1", 10.0.0.1]}]
            """), field: "endpoints[0].addresses[1]",
            message: "\"10.0.0.1\" is not an IPv6 address (the slice's addressType is IPv6)"),
        BadManifest(label: "malformed address", yaml: slice("addressType: IPv4\nendpoints: [{addresses: [10.0.0.300]}]"),
                    field: "endpoints[0].addresses[0]", message: "is not an IPv4 address"),
        BadManifest(label: "endpoint without addresses", yaml: slice("addressType: IPv4\nendpoints: [{conditions: {ready: true}}]"),
                    field: "endpoints[0].addresses", message: "required field is missing"),
        BadManifest(label: "endpoint with empty addresses", yaml: slice("addressType: IPv4\nendpoints: [{addresses: []}]"),
                    field: "endpoints[0].addresses", message: "must have at least 1 item"),
        BadManifest(label: "port out of range", yaml: slice("addressType: IPv4\nports: [{name: a, port: 8080}, {name: b, port: 70000}]"),
                    field: "ports[1].port", message: "must be between 1 and 65535, got 70000"),
        BadManifest(label: "port as a string", yaml: slice("addressType: IPv4\nports: [{name: http, port: http}]"),
                    field: "ports[0].port", message: "expected an integer, got a string \"http\""),
        BadManifest(label: "unknown protocol", yaml: slice("addressType: IPv4\nports: [{port: 80, protocol: tcp}]"),
                    field: "ports[0].protocol", message: "unknown protocol \"tcp\"; allowed: TCP, UDP, SCTP"),
        BadManifest(label: "duplicate port name", yaml: slice("addressType: IPv4\nports: [{port: 80}, {port: 81}]"),
                    field: "ports[1].name", message: "duplicate port name \"\" (also ports[0])"),
        BadManifest(label: "bad port name", yaml: slice("addressType: IPv4\nports: [{name: HTTP, port: 80}]"),
                    field: "ports[0].name", message: "RFC 1123 label"),
        BadManifest(label: "missing addressType", yaml: slice("endpoints: []"),
                    field: "addressType", message: "required field is missing"),
        BadManifest(label: "unknown addressType", yaml: slice("addressType: IP"),
                    field: "addressType", message: "unknown addressType \"IP\"; allowed: IPv4, IPv6, FQDN"),
        BadManifest(label: "ready that is a string", yaml: slice("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: \"true\"}}]"),
                    field: "endpoints[0].conditions.ready", message: "expected a boolean"),
        BadManifest(label: "bad nodeName", yaml: slice("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], nodeName: Node_1}]"),
                    field: "endpoints[0].nodeName", message: "RFC 1123 subdomain"),
    ]

    @Test(arguments: badSlices)
    func sliceIsRefused(_ bad: BadManifest) throws {
        let errors = manifestErrors(bad.yaml, file: "dir/slice.yaml")
        let error = try #require(errors.first)
        #expect(error.file == "dir/slice.yaml")
        #expect(error.object == "EndpointSlice shop/s")
        #expect(error.field == bad.field, "\(errors)")
        #expect(error.message.contains(bad.message), "\(error.message)")
    }

    @Test func selectorlessServiceTakesItsSlices() throws {
        let snapshot = try loadManifest(Self.world + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-b, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 8080}, {name: metrics, port: 9100}, {name: dns, port: 53, protocol: UDP}]
            endpoints:
            # the pod by targetRef: its identity, node and mesh opt-in
            - addresses: [10.244.0.5]
              targetRef: {kind: Pod, namespace: shop, name: web-1}
              nodeName: n9
            # a known pod IP without a targetRef: that pod
            - addresses: [10.244.0.6]
            # an address outside the cluster: no pod, unmeshed, no identity
            - addresses: [192.0.2.10]
              nodeName: edge-1
            # the same address and port again: listed once
            - addresses: [10.244.0.5]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-a, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            ports: [{name: http, port: 8080}]
            endpoints:
            - addresses: ["fd00::6"]
              targetRef: {kind: Pod, name: web-2}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: other-namespace, namespace: elsewhere, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints: [{addresses: [10.9.9.9]}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: unlabelled, namespace: shop}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints: [{addresses: [10.9.9.8]}]
            """)
        let http = snapshot.endpoints(of: Self.web, port: 80)
        // Slices in name order (web-a, then web-b), endpoints in slice order.
        #expect(http.map(\.description) == ["[fd00::6]:8080", "10.244.0.5:8080", "10.244.0.6:8080", "192.0.2.10:8080"])
        let web1 = ResourceID(namespace: "shop", name: "web-1")
        let web2 = ResourceID(namespace: "shop", name: "web-2")
        #expect(http.map(\.pod) == [web2, web1, web2, nil])
        #expect(http[1] == Endpoint(ip: "10.244.0.5", port: 8080, pod: web1, nodeName: "n1", meshed: true,
                                    identity: WorkloadIdentity(serviceAccount: "web", namespace: "shop")))
        #expect(http[2].identity?.name == "default.shop.serviceaccount.identity.linkerd.cluster.local")
        #expect(http[3] == Endpoint(ip: "192.0.2.10", port: 8080, nodeName: "edge-1"))
        #expect(!http[3].meshed && http[3].identity == nil)
        // Each Service port takes the slice port of its name.
        #expect(snapshot.endpoints(of: Self.web, port: 9090).map(\.description) == ["10.244.0.5:9100", "10.244.0.6:9100", "192.0.2.10:9100"])
        // UDP ports get no endpoints (the mesh proxies TCP only).
        #expect(snapshot.endpoints(of: Self.web, port: 53).isEmpty)
        #expect(snapshot.endpoints[Self.web]?.keys.sorted() == [80, 9090])
        #expect(snapshot.endpointSlices.map(\.id.name) == ["other-namespace", "unlabelled", "web-a", "web-b"])
    }

    @Test func portsMatchByNameAndProtocol() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: single, namespace: shop}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: named, namespace: shop}
            spec: {ports: [{name: http, port: 80}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: single-1, namespace: shop, labels: {kubernetes.io/service-name: single}}
            addressType: IPv4
            ports: [{name: http, port: 8081}, {name: "", port: 8080}]
            endpoints: [{addresses: [10.0.0.1]}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: named-1, namespace: shop, labels: {kubernetes.io/service-name: named}}
            addressType: IPv4
            ports: [{port: 8080}, {name: http, port: 8443, protocol: SCTP}]
            endpoints: [{addresses: [10.0.0.2]}]
            """)
        // The unnamed Service port takes the unnamed slice port (`name: ""` or absent), not a named one.
        #expect(snapshot.endpoints(of: ResourceID(namespace: "shop", name: "single"), port: 80).map(\.description) == ["10.0.0.1:8080"])
        // The slice port named http is SCTP: no TCP match, so no endpoints (the unnamed port does not stand in).
        #expect(snapshot.endpoints(of: ResourceID(namespace: "shop", name: "named"), port: 80).isEmpty)
    }

    @Test func onlyReadyEndpointsCount() throws {
        let snapshot = try loadManifest(Self.world + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints:
            - addresses: [10.0.0.1]
              conditions: {ready: true}
            - addresses: [10.0.0.2]
              conditions: {ready: false}
            - addresses: [10.0.0.3]
              conditions: {ready: false, serving: true, terminating: true}
            - addresses: [10.0.0.4]
              conditions: {serving: false}
            - addresses: [10.0.0.5]
            """)
        #expect(snapshot.endpoints(of: Self.web, port: 80).map(\.ip) == ["10.0.0.1", "10.0.0.4", "10.0.0.5"])
    }

    @Test func aServiceWithASelectorIgnoresSlices() throws {
        let snapshot = try loadManifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              ports: [{name: http, port: 80, targetPort: 8080}]
              selector: {app: web}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, namespace: shop, labels: {app: web}}
            status: {phase: Running, podIP: 10.244.0.5, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-extra, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 9999}]
            endpoints: [{addresses: [192.0.2.1]}]
            """)
        #expect(snapshot.endpoints(of: Self.web, port: 80).map(\.description) == ["10.244.0.5:8080"])
        #expect(snapshot.endpointSlices.count == 1)
    }

    @Test func aSelectorlessServiceWithoutSlicesHasNoEndpoints() throws {
        let snapshot = try loadManifest(Self.world)
        #expect(snapshot.endpoints(of: Self.web, port: 80).isEmpty)
    }

    @Test func snapshotInitTakesSlices() {
        let service = Service(id: Self.web, clusterIP: "10.96.0.50", ports: [ServicePort(name: "http", port: 80)])
        let slice = EndpointSlice(id: ResourceID(namespace: "shop", name: "web-x"), ports: [.init(name: "http", port: 8080)],
                                  endpoints: [.init(addresses: ["10.0.0.9"], conditions: .init(ready: true))],
                                  labels: [EndpointSlice.serviceNameLabel: "web"])
        let fqdn = EndpointSlice(id: ResourceID(namespace: "shop", name: "web-fqdn"), addressType: .fqdn,
                                 ports: [.init(name: "http", port: 8080)], endpoints: [.init(addresses: ["a.example.com"])],
                                 labels: [EndpointSlice.serviceNameLabel: "web"])
        let snapshot = MeshSnapshot(services: [service], endpointSlices: [slice, fqdn])
        #expect(snapshot.endpoints(of: Self.web, port: 80) == [Endpoint(ip: "10.0.0.9", port: 8080)])
        #expect(snapshot.endpointSlices == [slice])
        #expect(MeshSnapshot(services: [service]).endpoints(of: Self.web, port: 80).isEmpty)
    }
}
