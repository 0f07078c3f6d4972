import Foundation

/// One pod of the world: who it is, where it runs, and what answers at its IP.
struct WorldPod: Sendable {
    enum Node: String, Sendable { case node1 = "node-1", node2 = "node-2", node3 = "node-3" }

    var name: String
    var node: Node
    /// Last octet of its IP in the world's /24.
    var host: Int
    /// `linkerd.io/inject: disabled` on the pod (the namespace meshes everything else).
    var meshed = true
    /// The `Ready` condition.
    var ready = true
    /// `PODINFO_UI_MESSAGE` of its app on :9898; nil: no app runs (connections are refused).
    var message: String?
    /// Whether an opaque TCP echo server also runs on :3306.
    var echo = false

    /// The service account is named after the pod.
    var serviceAccount: String { name }
    var identity: String { "\(serviceAccount).test.serviceaccount.identity.linkerd.cluster.local" }
}

/// A `v1 Service` of the world, selecting one pod.
struct WorldService: Sendable {
    var name: String
    var pod: String
    var clusterIP: String
    var port = WorldAddresses.appPort
    /// `http` (the container port's name) or a number.
    var targetPort = "http"
}

/// The manifests of the world (namespace `test`), as `kubectl get -o yaml` would print them.
enum WorldManifests {
    static let pods: [WorldPod] = [
        WorldPod(name: "frontend", node: .node1, host: 10, message: "frontend"),
        WorldPod(name: "backend-a", node: .node2, host: 20, message: "A backend", echo: true),
        WorldPod(name: "backend-b", node: .node2, host: 30, message: "B backend"),
        WorldPod(name: "plain", node: .node2, host: 40, meshed: false, message: "plain backend"),
        WorldPod(name: "down", node: .node2, host: 50),
        WorldPod(name: "down-plain", node: .node2, host: 60, meshed: false),
        WorldPod(name: "notready", node: .node2, host: 70, ready: false, message: "not ready backend"),
        // node-2 holds backend-b's certificate files under this pod's service account.
        WorldPod(name: "swapped", node: .node2, host: 80, message: "swapped backend"),
        // On node-3, whose inbound port is an `openssl s_server` presenting backend-b's certificate.
        WorldPod(name: "rogue", node: .node3, host: 90),
    ]

    static let services: [WorldService] = [
        WorldService(name: "frontend-podinfo", pod: "frontend", clusterIP: "10.96.0.10"),
        WorldService(name: "backend-a-podinfo", pod: "backend-a", clusterIP: "10.96.0.20"),
        WorldService(name: "backend-b-podinfo", pod: "backend-b", clusterIP: "10.96.0.30"),
        WorldService(name: "plain", pod: "plain", clusterIP: "10.96.0.40"),
        WorldService(name: "down", pod: "down", clusterIP: "10.96.0.50"),
        WorldService(name: "down-plain", pod: "down-plain", clusterIP: "10.96.0.60"),
        WorldService(name: "notready", pod: "notready", clusterIP: "10.96.0.70"),
        WorldService(name: "swapped", pod: "swapped", clusterIP: "10.96.0.80"),
        WorldService(name: "rogue", pod: "rogue", clusterIP: "10.96.0.90"),
        WorldService(name: "picky", pod: "backend-a", clusterIP: "10.96.0.100"),
        WorldService(name: "echo", pod: "backend-a", clusterIP: "10.96.0.110",
                     port: WorldAddresses.echoPort, targetPort: String(WorldAddresses.echoPort)),
    ]

    static func pod(_ name: String) -> WorldPod {
        guard let pod = pods.first(where: { $0.name == name }) else { fatalError("no pod \(name)") }
        return pod
    }

    /// A file of examples/podinfo, verbatim.
    static func example(_ name: String) throws -> String {
        try String(contentsOf: SwitchyardBinary.root.appendingPathComponent("examples/podinfo/\(name)"), encoding: .utf8)
    }

    /// The tutorial's HTTPRoute (examples/podinfo/backend-router.yaml).
    static func tutorialRoute() throws -> String { try example("backend-router.yaml") }

    /// Writes namespace.yaml, nodes.yaml, workloads.yaml, backend-router.yaml and picky-router.yaml into `dir`.
    static func write(to dir: URL, addresses: WorldAddresses) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let files: [String: String] = [
            "namespace.yaml": try example("namespace.yaml"),  // `test`, meshed
            "nodes.yaml": nodes(addresses),
            "workloads.yaml": (services.map(service) + pods.map { pod($0, addresses) }).joined(separator: "---\n"),
            "backend-router.yaml": try tutorialRoute(),
            "picky-router.yaml": pickyRoute,
        ]
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    static func nodes(_ addresses: WorldAddresses) -> String {
        [("node-1", addresses.node1), ("node-2", addresses.node2), ("node-3", addresses.node3)].map { name, ip in
            """
            apiVersion: v1
            kind: Node
            metadata:
              name: \(name)
              labels:
                kubernetes.io/hostname: \(name)
            status:
              addresses:
              - type: InternalIP
                address: \(ip)
              - type: Hostname
                address: \(name)

            """
        }.joined(separator: "---\n")
    }

    static func service(_ s: WorldService) -> String {
        let target = Int(s.targetPort).map(String.init) ?? s.targetPort
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: \(s.name)
              namespace: test
            spec:
              type: ClusterIP
              clusterIP: \(s.clusterIP)
              clusterIPs:
              - \(s.clusterIP)
              ports:
              - name: \(s.port == WorldAddresses.appPort ? "http" : "tcp")
                port: \(s.port)
                protocol: TCP
                targetPort: \(target)
              selector:
                app: \(s.pod)

            """
    }

    static func pod(_ p: WorldPod, _ addresses: WorldAddresses) -> String {
        let ip = addresses.host(p.host)
        let annotations = p.meshed ? "" : "\n  annotations:\n    linkerd.io/inject: disabled"
        let echoPort = p.echo ? "\n    - name: mysql\n      containerPort: \(WorldAddresses.echoPort)\n      protocol: TCP" : ""
        return """
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(p.name)
              namespace: test
              labels:
                app: \(p.name)\(annotations)
            spec:
              serviceAccountName: \(p.serviceAccount)
              nodeName: \(p.node.rawValue)
              containers:
              - name: app
                image: ghcr.io/stefanprodan/podinfo:6.7.0
                ports:
                - name: http
                  containerPort: \(WorldAddresses.appPort)
                  protocol: TCP\(echoPort)
            status:
              phase: Running
              podIP: \(ip)
              podIPs:
              - ip: \(ip)
              conditions:
              - type: Ready
                status: "\(p.ready ? "True" : "False")"

            """
    }

    /// A second route whose rules all have matches: a request matching none of them is a 404.
    static let pickyRoute = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: picky-router
          namespace: test
        spec:
          parentRefs:
          - name: picky
            kind: Service
            group: ""
            port: 9898
          rules:
          - matches:
            - headers:
              - name: x-picky
                value: "yes"
            backendRefs:
            - name: backend-a-podinfo
              port: 9898
          - matches:
            - path:
                type: Exact
                value: /env
            backendRefs:
            - name: backend-a-podinfo
              port: 9898

        """
}
