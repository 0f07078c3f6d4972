import Foundation
import Logging
import SwitchyardAdmin
import SwitchyardModel
import SwitchyardProxy
import SwitchyardRouting
import Testing

/// The watcher over a copy of the tutorial's manifests (examples/podinfo): edits are published,
/// broken states refused while the last good snapshot serves, and only changes trigger loads.
@Suite("ManifestWatcher")
struct ManifestWatcherTests {
    /// A temporary copy of examples/podinfo, a mesh loaded from it, and a watcher over both.
    final class World {
        let directory: URL
        let mesh: MeshState
        let metrics = ProxyMetrics(registry: MetricsRegistry())
        let watcher: ManifestWatcher
        /// The tutorial's HTTPRoute (examples/podinfo/backend-router.yaml).
        let route: String

        init(pollInterval: Duration = .milliseconds(500)) throws {
            let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("examples/podinfo")
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-watch-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: examples.path) where name.hasSuffix(".yaml") {
                try FileManager.default.copyItem(at: examples.appendingPathComponent(name), to: directory.appendingPathComponent(name))
            }
            route = try String(contentsOf: examples.appendingPathComponent("backend-router.yaml"), encoding: .utf8)
            let baseline = ManifestWatcher.Fingerprint(directory: directory.path)
            mesh = MeshState(snapshot: try ManifestLoader().load(directory: directory.path))
            watcher = ManifestWatcher(directory: directory.path, mesh: mesh, metrics: metrics,
                                      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                      pollInterval: pollInterval, baseline: baseline)
        }

        deinit {
            watcher.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func write(_ name: String, _ contents: String) throws {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: false, encoding: .utf8)
        }

        func remove(_ name: String) throws {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }

        /// Where a request to backend-a-podinfo:9898 goes, with or without `x-request-id: alternative`.
        func backend(alternative: Bool) -> String? {
            let parent = ParentKey(service: ResourceID(namespace: "test", name: "backend-a-podinfo"), port: 9898)
            let headers = alternative ? [HTTPHeader(name: "x-request-id", value: "alternative")] : []
            return mesh.router.decide(RouteRequest(method: "GET", path: "/", headers: headers), parent: parent).backend?.service.name
        }

        var successes: UInt64 { metrics.configReloadTotal.labels("success").value }
        var failures: UInt64 { metrics.configReloadTotal.labels("failure").value }
    }

    @Test("nothing changed: nothing is loaded")
    func unchanged() throws {
        let world = try World()
        #expect(world.watcher.reloadNow() == .unchanged)
        #expect(world.mesh.generation == 1)
        #expect(world.successes == 0 && world.failures == 0)
    }

    @Test("removing the HTTPRoute is published: x-request-id: alternative now reaches A")
    func removeRoute() throws {
        let world = try World()
        #expect(world.backend(alternative: true) == "backend-b-podinfo")
        try world.remove("backend-router.yaml")
        #expect(world.watcher.reloadNow() == .applied(generation: 2))
        #expect(world.mesh.generation == 2)
        #expect(world.backend(alternative: true) == "backend-a-podinfo")
        #expect(world.mesh.snapshot.httpRoutes.isEmpty)
        #expect(world.successes == 1)
        #expect(world.watcher.reloadNow() == .unchanged)
    }

    @Test("broken YAML is refused and the last good snapshot keeps routing; a fix is applied")
    func refuseThenFix() throws {
        let world = try World()
        try world.write("backend-router.yaml", "apiVersion: policy.linkerd.io/v1beta2\nkind: HTTPRoute\nmetadata: {name: [\n")
        guard case .refused(let errors) = world.watcher.reloadNow() else {
            Issue.record("a broken file must be refused")
            return
        }
        #expect(errors.contains { $0.file.hasSuffix("backend-router.yaml") })
        #expect(world.failures == 1)
        #expect(world.mesh.generation == 1)
        #expect(world.backend(alternative: true) == "backend-b-podinfo")

        // Not retried until the directory changes again.
        #expect(world.watcher.reloadNow() == .unchanged)
        #expect(world.failures == 1)

        try world.write("backend-router.yaml", """
            apiVersion: policy.linkerd.io/v1beta2
            kind: HTTPRoute
            metadata: {name: backend-router, namespace: test}
            spec:
              parentRefs: [{name: backend-a-podinfo, kind: Service, group: core, port: 9898}]
              rules:
              - backendRefs: [{name: backend-b-podinfo, port: 9898}]
            """)
        #expect(world.watcher.reloadNow() == .applied(generation: 2))
        #expect(world.backend(alternative: false) == "backend-b-podinfo")
        #expect(world.successes == 1 && world.failures == 1)
    }

    @Test("a validation error names file, document and field")
    func invalidField() throws {
        let world = try World()
        try world.write("backend-router.yaml", world.route.replacingOccurrences(of: "port: 9898", with: "port: 98980"))
        guard case .refused(let errors) = world.watcher.reloadNow() else {
            Issue.record("an invalid port must be refused")
            return
        }
        #expect(errors.contains { $0.document == 0 && $0.field?.contains("port") == true })
        #expect(world.backend(alternative: true) == "backend-b-podinfo")
    }

    @Test("files in subdirectories count; hidden files and other extensions do not")
    func whatCounts() throws {
        let world = try World()
        try world.write(".editor-swap.yaml", "kind: [broken")
        try world.write("README.md", "notes")
        try world.write(".hidden/route.yaml", "kind: [broken")
        #expect(world.watcher.reloadNow() == .unchanged)

        try world.remove("backend-router.yaml")
        try world.write("routes/tutorial/router.yml", world.route)
        #expect(world.watcher.reloadNow() == .applied(generation: 2))
        #expect(world.backend(alternative: true) == "backend-b-podinfo")
    }

    @Test("a ConfigMap-style swap of the ..data link is seen")
    func configMapSwap() throws {
        let world = try World()
        let fm = FileManager.default
        let first = world.directory.appendingPathComponent("..2024_01")
        try fm.createDirectory(at: first, withIntermediateDirectories: true)
        try fm.moveItem(at: world.directory.appendingPathComponent("backend-router.yaml"),
                        to: first.appendingPathComponent("backend-router.yaml"))
        try fm.createSymbolicLink(atPath: world.directory.appendingPathComponent("..data").path, withDestinationPath: "..2024_01")
        try fm.createSymbolicLink(atPath: world.directory.appendingPathComponent("backend-router.yaml").path,
                                  withDestinationPath: "..data/backend-router.yaml")
        #expect(world.watcher.reloadNow() == .unchanged, "the same content behind a link")

        // The kubelet writes a new timestamped directory and renames a new link over ..data.
        let second = world.directory.appendingPathComponent("..2024_02")
        try fm.createDirectory(at: second, withIntermediateDirectories: true)
        try world.route.replacingOccurrences(of: "backend-b-podinfo", with: "frontend-podinfo")
            .write(to: second.appendingPathComponent("backend-router.yaml"), atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: world.directory.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2024_02")
        #expect(rename(world.directory.appendingPathComponent("..data_tmp").path, world.directory.appendingPathComponent("..data").path) == 0)
        #expect(world.watcher.reloadNow() == .applied(generation: 2))
        #expect(world.backend(alternative: true) == "frontend-podinfo")
    }

    @Test("a directory that disappears is refused; when it is back it is loaded")
    func directoryGone() throws {
        let world = try World()
        let aside = world.directory.appendingPathExtension("aside")
        try FileManager.default.moveItem(at: world.directory, to: aside)
        defer { try? FileManager.default.removeItem(at: aside) }
        guard case .refused(let errors) = world.watcher.reloadNow() else {
            Issue.record("a missing directory must be refused")
            return
        }
        #expect(errors.first?.file == world.directory.path)
        #expect(world.backend(alternative: true) == "backend-b-podinfo")
        try FileManager.default.moveItem(at: aside, to: world.directory)
        #expect(world.watcher.reloadNow() == .applied(generation: 2))
    }

    @Test("polling: an edit is live without reloadNow(), a half-written file is retried when it changes", .timeLimit(.minutes(1)))
    func polling() async throws {
        let world = try World(pollInterval: .milliseconds(100))
        world.watcher.start()
        try world.remove("backend-router.yaml")
        try await waitUntil { world.mesh.generation == 2 }
        #expect(world.backend(alternative: true) == "backend-a-podinfo")

        // An editor's first step: half a file (cut inside a quoted string). Refused, the snapshot stays.
        let half = String(world.route[..<world.route.range(of: "\"x-req")!.upperBound])
        try world.write("backend-router.yaml", half)
        try await waitUntil { world.failures >= 1 }
        #expect(world.backend(alternative: true) == "backend-a-podinfo", "the half file was refused; the snapshot stays")
        // The rest of the write: picked up by a later poll (one poll may land between the
        // truncation and the write and apply the empty file: generation 3, then 4).
        try world.write("backend-router.yaml", world.route)
        try await waitUntil { world.backend(alternative: true) == "backend-b-podinfo" }
        #expect(world.mesh.generation >= 3)

        world.watcher.stop()
        let stopped = world.mesh.generation
        try world.remove("backend-router.yaml")
        try await Task.sleep(for: .milliseconds(400))
        #expect(world.mesh.generation == stopped, "no polling after stop()")
    }

    /// Polls `condition` every 20 ms; fails after a generous 10 s.
    private func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
