import Foundation

/// The Linkerd dynamic request routing tutorial as `kubectl get -o yaml` would show it:
/// namespace `test` (meshed), three podinfo Services and their Pods, two Nodes, and the
/// tutorial's HTTPRoute verbatim.
enum TutorialManifests {
    static let namespace = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: test
          annotations:
            linkerd.io/inject: enabled
        """

    static func service(_ name: String, clusterIP: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: test
          labels:
            app.kubernetes.io/name: \(name)
        spec:
          type: ClusterIP
          clusterIP: \(clusterIP)
          clusterIPs:
          - \(clusterIP)
          ports:
          - name: http
            port: 9898
            protocol: TCP
            targetPort: http
          - name: grpc
            port: 9999
            protocol: TCP
            targetPort: grpc
          selector:
            app.kubernetes.io/name: \(name)
        """
    }

    static func pod(_ app: String, suffix: String, ip: String, node: String, serviceAccount: String? = nil,
                    phase: String = "Running", ready: Bool = true) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(app)-\(suffix)
          namespace: test
          labels:
            app.kubernetes.io/name: \(app)
            pod-template-hash: 5d8f7c9b4
        spec:
          \(serviceAccount.map { "serviceAccountName: \($0)" } ?? "restartPolicy: Always")
          nodeName: \(node)
          containers:
          - name: podinfo
            image: ghcr.io/stefanprodan/podinfo:6.7.0
            ports:
            - name: http
              containerPort: 9898
              protocol: TCP
            - name: http-metrics
              containerPort: 9797
              protocol: TCP
            - name: grpc
              containerPort: 9999
              protocol: TCP
        status:
          phase: \(phase)
          podIP: \(ip)
          podIPs:
          - ip: \(ip)
          conditions:
          - type: Ready
            status: "\(ready ? "True" : "False")"
          - type: ContainersReady
            status: "\(ready ? "True" : "False")"
        """
    }

    static let nodes = """
        apiVersion: v1
        kind: Node
        metadata:
          name: node-1
          labels:
            kubernetes.io/hostname: node-1
        status:
          addresses:
          - type: InternalIP
            address: 10.0.0.1
          - type: Hostname
            address: node-1
        ---
        apiVersion: v1
        kind: Node
        metadata:
          name: node-2
        status:
          addresses:
          - type: InternalIP
            address: 10.0.0.2
          - type: Hostname
            address: node-2
        """

    /// The HTTPRoute of DESIGN.md, verbatim.
    static let route = """
        apiVersion: policy.linkerd.io/v1beta2
        kind: HTTPRoute
        metadata: {name: backend-router, namespace: test}
        spec:
          parentRefs:
            - {name: backend-a-podinfo, kind: Service, group: core, port: 9898}
          rules:
            - matches:
              - headers:
                - {name: "x-request-id", value: "alternative"}
              backendRefs:
                - {name: "backend-b-podinfo", port: 9898}
            - backendRefs:
              - {name: "backend-a-podinfo", port: 9898}
        """

    static var files: [(path: String, contents: String)] {
        [
            ("namespace.yaml", namespace),
            ("frontend.yaml", [service("frontend-podinfo", clusterIP: "10.96.0.10"),
                               pod("frontend-podinfo", suffix: "5d8f7c9b4-x7k2p", ip: "10.244.1.10", node: "node-1")]
                .joined(separator: "\n---\n")),
            ("backend-a.yaml", [service("backend-a-podinfo", clusterIP: "10.96.0.20"),
                                pod("backend-a-podinfo", suffix: "5d8f7c9b4-q9w4z", ip: "10.244.2.20", node: "node-2")]
                .joined(separator: "\n---\n")),
            ("backend-b.yaml", [service("backend-b-podinfo", clusterIP: "10.96.0.30"),
                                pod("backend-b-podinfo", suffix: "5d8f7c9b4-m3n8r", ip: "10.244.2.30", node: "node-2",
                                    serviceAccount: "backend-b")]
                .joined(separator: "\n---\n")),
            ("nodes.yaml", nodes),
            ("backend-router.yaml", route),
        ]
    }
}
