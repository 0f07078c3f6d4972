import SwitchyardModel

/// Namespaces of the upstream suite.
enum Infra {
    static let namespace = "gateway-conformance-infra"
    static let appBackend = "gateway-conformance-app-backend"
    static let webBackend = "gateway-conformance-web-backend"
    static let mesh = "gateway-conformance-mesh"
    static let meshConsumer = "gateway-conformance-mesh-consumer"
    static let node = "conformance-node"
}

/// The cluster a test runs in, written as the Kubernetes manifests `kubectl get -o yaml`
/// would show (Namespaces, a Node, Services, running and ready Pods), so that it goes through
/// the same loader as the test's own manifests.
///
/// Backends follow conformance/base/manifests.yaml and conformance/mesh/manifests.yaml at the
/// snapshot commit: each Deployment's pods are named `<deployment>-<hash>-<hash>` and labelled
/// as its template says, which is how upstream tells which backend answered (pod-name prefix).
struct World {
    struct Port {
        var name: String?
        var port: Int
        var targetPort: Int
        var appProtocol: String?
    }

    struct ServiceSpec {
        var id: ResourceID
        var ports: [Port]
        /// Nil: no selector (a Gateway stand-in has no pods).
        var selector: [(String, String)]?
    }

    struct Deployment {
        var id: ResourceID
        var labels: [(String, String)]
        var replicas: Int
        var containerPorts: [Int]
    }

    /// One pod of a Deployment, as the world's manifests list it.
    struct PodInfo {
        var id: ResourceID
        var deployment: Deployment
        /// `status.podIPs` (IPv4 only in this world).
        var ips: [String]
        var nodeName: String
    }

    var namespaces: [String]
    var services: [ServiceSpec]
    var deployments: [Deployment]

    /// Every pod, in the order the manifests list them, each with its IPs.
    var pods: [PodInfo] {
        var result: [PodInfo] = []
        var ip = 10
        for dep in deployments {
            for r in 0..<dep.replicas {
                result.append(PodInfo(id: ResourceID(namespace: dep.id.namespace, name: Self.podName(dep.id, replica: r)),
                                      deployment: dep, ips: ["10.244.\(ip / 250).\(ip % 250 + 2)"], nodeName: Infra.node))
                ip += 1
            }
        }
        return result
    }

    /// The pods of the Deployment `id`, found as upstream's tests find them: by the
    /// Deployment's selector (its template labels) in its namespace.
    func pods(ofDeployment id: ResourceID) -> [PodInfo] {
        guard let dep = deployments.first(where: { $0.id == id }) else { return [] }
        return pods.filter { pod in
            pod.id.namespace == id.namespace && dep.labels.allSatisfy { label in pod.deployment.labels.contains { $0 == label } }
        }
    }

    /// The suite's backends and mesh Services, the given Gateways as stand-in Services, and every
    /// namespace in `extraNamespaces`.
    init(gateways: [GatewayInfo], extraNamespaces: Set<String>) {
        var namespaces = [Infra.namespace, Infra.appBackend, Infra.webBackend, Infra.mesh, Infra.meshConsumer]
        for ns in extraNamespaces.sorted() where !namespaces.contains(ns) { namespaces.append(ns) }
        self.namespaces = namespaces

        func backend(_ ns: String, _ name: String, ports: [Port] = [Port(port: 8080, targetPort: 3000)]) -> (ServiceSpec, Deployment) {
            (ServiceSpec(id: ResourceID(namespace: ns, name: name), ports: ports, selector: [("app", name)]),
             Deployment(id: ResourceID(namespace: ns, name: name), labels: [("app", name)], replicas: 2, containerPorts: [3000]))
        }
        let infraV1 = backend(Infra.namespace, "infra-backend-v1", ports: [
            Port(name: "first-port", port: 8080, targetPort: 3000),
            Port(name: "second-port", port: 8081, targetPort: 3001, appProtocol: "kubernetes.io/h2c"),
            Port(name: "third-port", port: 8082, targetPort: 3000, appProtocol: "kubernetes.io/ws"),
        ])
        let backends = [
            infraV1,
            backend(Infra.namespace, "infra-backend-v2"),
            backend(Infra.namespace, "infra-backend-v3"),
            backend(Infra.appBackend, "app-backend-v1"),
            backend(Infra.appBackend, "app-backend-v2"),
            backend(Infra.webBackend, "web-backend"),
        ]
        var services = backends.map(\.0)
        var deployments = backends.map(\.1)

        // Mesh: echo selects both versions; ports as in meta.harness_semantics.mesh.
        let meshPorts = [
            Port(name: "http", port: 80, targetPort: 8080, appProtocol: "http"),
            Port(name: "http-alt", port: 8080, targetPort: 8080, appProtocol: "http"),
            Port(name: "https", port: 443, targetPort: 8443),
            Port(name: "tcp", port: 9090, targetPort: 9090),
            Port(name: "grpc", port: 7070, targetPort: 7070, appProtocol: "grpc"),
        ]
        services.append(ServiceSpec(id: ResourceID(namespace: Infra.mesh, name: "echo"), ports: meshPorts, selector: [("app", "echo")]))
        for v in ["v1", "v2"] {
            services.append(ServiceSpec(id: ResourceID(namespace: Infra.mesh, name: "echo-\(v)"), ports: meshPorts,
                                        selector: [("app", "echo"), ("version", v)]))
            deployments.append(Deployment(id: ResourceID(namespace: Infra.mesh, name: "echo-\(v)"),
                                          labels: [("app", "echo"), ("version", v)], replicas: 1,
                                          containerPorts: [8080, 8443, 9090, 7070]))
        }
        // The consumer namespace's client (MeshConsumerRoute sends from it).
        deployments.append(Deployment(id: ResourceID(namespace: Infra.meshConsumer, name: "echo-v1"),
                                      labels: [("app", "echo"), ("version", "v1")], replicas: 1,
                                      containerPorts: [8080, 8443, 9090, 7070]))

        for gateway in gateways {
            services.removeAll { $0.id == gateway.id }
            services.append(ServiceSpec(id: gateway.id,
                                        ports: gateway.ports.map { Port(name: "listener-\($0)", port: $0, targetPort: $0) },
                                        selector: nil))
        }
        self.services = services
        self.deployments = deployments
    }

    /// `<deployment>-<replicaset hash>-<pod hash>`, deterministic.
    static func podName(_ deployment: ResourceID, replica: Int) -> String {
        "\(deployment.name)-\(token(deployment.description, length: 10))-\(token("\(deployment)#\(replica)", length: 5))"
    }

    /// Like Kubernetes' generated name suffixes (consonants and digits), from an FNV-1a hash.
    static func token(_ seed: String, length: Int) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var s = ""
        for _ in 0..<length {
            s.append(alphabet[Int(h % UInt64(alphabet.count))])
            h = (h / UInt64(alphabet.count)) ^ (h &* 0x9E37_79B9_7F4A_7C15)
        }
        return s
    }

    /// The whole world as one multi-document YAML file.
    var yaml: String {
        var docs: [String] = []
        for ns in namespaces {
            var d = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(ns)\n"
            if ns == Infra.mesh || ns == Infra.meshConsumer {
                d += "  annotations:\n    linkerd.io/inject: enabled\n"
            }
            docs.append(d)
        }
        docs.append("""
            apiVersion: v1
            kind: Node
            metadata:
              name: \(Infra.node)
            status:
              addresses:
              - type: InternalIP
                address: 172.18.0.2

            """)
        for (i, s) in services.enumerated() {
            var d = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: \(s.id.name)
                  namespace: \(s.id.namespace)
                spec:
                  type: ClusterIP
                  clusterIP: 10.96.\(i / 250).\(i % 250 + 2)
                  clusterIPs:
                  - 10.96.\(i / 250).\(i % 250 + 2)

                """
            if let selector = s.selector {
                d += "  selector:\n" + selector.map { "    \($0.0): \($0.1)\n" }.joined()
            }
            d += "  ports:\n"
            for p in s.ports {
                d += "  - "
                if let name = p.name { d += "name: \(name)\n    " }
                d += "protocol: TCP\n    port: \(p.port)\n    targetPort: \(p.targetPort)\n"
                if let ap = p.appProtocol { d += "    appProtocol: \(ap)\n" }
            }
            docs.append(d)
        }
        for pod in pods {
            let dep = pod.deployment
            let podIP = pod.ips[0]
            var d = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: \(pod.id.name)
                  namespace: \(pod.id.namespace)
                  labels:

                """
            d += dep.labels.map { "    \($0.0): \($0.1)\n" }.joined()
            d += "    pod-template-hash: \(Self.token(dep.id.description, length: 10))\n"
            d += """
                spec:
                  nodeName: \(pod.nodeName)
                  containers:
                  - name: \(dep.id.name)
                    image: gcr.io/k8s-staging-gateway-api/echo-basic
                    ports:

                """
            d += dep.containerPorts.map { "    - containerPort: \($0)\n      protocol: TCP\n" }.joined()
            d += """
                status:
                  phase: Running
                  podIP: \(podIP)
                  podIPs:
                  - ip: \(podIP)
                  conditions:
                  - type: Ready
                    status: "True"

                """
            docs.append(d)
        }
        return docs.joined(separator: "---\n")
    }
}
