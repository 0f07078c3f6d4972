import Foundation
import Testing
@testable import SwitchyardModel

/// The acceptance story's manifests decode into the snapshot the router needs.
@Suite struct TutorialManifestTests {
    let snapshot: MeshSnapshot

    init() throws {
        snapshot = try ManifestLoader().load(files: TutorialManifests.files)
    }

    @Test func decodesEveryObject() {
        #expect(snapshot.namespaces.keys.sorted() == ["test"])
        #expect(snapshot.namespaces["test"]?.annotations["linkerd.io/inject"] == "enabled")
        #expect(snapshot.services.count == 3)
        #expect(snapshot.pods.count == 3)
        #expect(snapshot.nodes.keys.sorted() == ["node-1", "node-2"])
        #expect(snapshot.nodes["node-2"]?.internalIP == "10.0.0.2")
        #expect(snapshot.nodes["node-1"]?.labels["kubernetes.io/hostname"] == "node-1")
        #expect(snapshot.httpRoutes.count == 1)
        #expect(snapshot.skipped.isEmpty)
    }

    @Test func service() throws {
        let service = try #require(snapshot.services[ResourceID(namespace: "test", name: "backend-a-podinfo")])
        #expect(service.clusterIP == "10.96.0.20")
        #expect(service.clusterIPs == ["10.96.0.20"])
        #expect(service.type == "ClusterIP")
        #expect(service.selector == ["app.kubernetes.io/name": "backend-a-podinfo"])
        #expect(service.ports == [
            ServicePort(name: "http", port: 9898, targetPort: .name("http"), protocol: "TCP"),
            ServicePort(name: "grpc", port: 9999, targetPort: .name("grpc"), protocol: "TCP"),
        ])
        #expect(service.source == ManifestSource(file: "backend-a.yaml", document: 0))
    }

    @Test func clusterIPIndex() {
        #expect(snapshot.service(clusterIP: "10.96.0.10")?.id.name == "frontend-podinfo")
        #expect(snapshot.service(clusterIP: "10.96.0.20")?.id.name == "backend-a-podinfo")
        #expect(snapshot.service(clusterIP: "10.96.0.30")?.id.name == "backend-b-podinfo")
        #expect(snapshot.service(clusterIP: "10.96.0.99") == nil)
        #expect(snapshot.pod(ip: "10.244.1.10")?.id.name == "frontend-podinfo-5d8f7c9b4-x7k2p")
    }

    @Test func endpointsResolveNamedTargetPorts() {
        let a = snapshot.endpoints(of: ResourceID(namespace: "test", name: "backend-a-podinfo"), port: 9898)
        #expect(a.map(\.description) == ["10.244.2.20:9898"])
        #expect(a.first?.nodeName == "node-2")
        let grpc = snapshot.endpoints(of: ResourceID(namespace: "test", name: "backend-b-podinfo"), port: 9999)
        #expect(grpc.map(\.description) == ["10.244.2.30:9999"])
    }

    @Test func identitiesAndMeshing() throws {
        let a = try #require(snapshot.endpoints(of: ResourceID(namespace: "test", name: "backend-a-podinfo"), port: 9898).first)
        #expect(a.meshed)
        #expect(a.identity?.name == "default.test.serviceaccount.identity.linkerd.cluster.local")
        let b = try #require(snapshot.endpoints(of: ResourceID(namespace: "test", name: "backend-b-podinfo"), port: 9898).first)
        #expect(b.identity?.name == "backend-b.test.serviceaccount.identity.linkerd.cluster.local")
        let frontend = try #require(snapshot.pod(ip: "10.244.1.10"))
        #expect(snapshot.isMeshed(frontend))
        #expect(snapshot.identity(of: frontend).name == "default.test.serviceaccount.identity.linkerd.cluster.local")
    }

    @Test func trustDomain() throws {
        let other = try ManifestLoader(trustDomain: "example.org").load(files: TutorialManifests.files)
        let a = try #require(other.endpoints(of: ResourceID(namespace: "test", name: "backend-a-podinfo"), port: 9898).first)
        #expect(a.identity?.name == "default.test.serviceaccount.identity.linkerd.example.org")
    }

    @Test func route() throws {
        let route = try #require(snapshot.httpRoutes.first)
        #expect(route.id == ResourceID(namespace: "test", name: "backend-router"))
        #expect(route.api == .linkerdV1beta2)
        #expect(route.source == ManifestSource(file: "backend-router.yaml", document: 0))
        #expect(route.parentRefs == [ParentReference(group: "core", kind: "Service", name: "backend-a-podinfo", port: 9898)])
        #expect(route.parentRefs[0].isService)
        #expect(route.hostnames.isEmpty)
        #expect(route.rules == [
            HTTPRouteRule(matches: [HTTPRouteMatch(headers: [HTTPHeaderMatch(name: "x-request-id", value: "alternative")])],
                          backendRefs: [HTTPBackendRef(name: "backend-b-podinfo", port: 9898)]),
            HTTPRouteRule(matches: [HTTPRouteMatch()],
                          backendRefs: [HTTPBackendRef(name: "backend-a-podinfo", port: 9898)]),
        ])
    }

    /// The repository's example directory (when present) is the same story on disk.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: TutorialManifestTests.examplesDirectory)))
    func examplesDirectoryLoads() throws {
        let snapshot = try ManifestLoader().load(directory: Self.examplesDirectory)
        #expect(snapshot.httpRoutes.map(\.id.name) == ["backend-router"])
        #expect(snapshot.endpoints(of: ResourceID(namespace: "test", name: "backend-b-podinfo"), port: 9898).count == 1)
    }

    static let examplesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/podinfo").path
}
