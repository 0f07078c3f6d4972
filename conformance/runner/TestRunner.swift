import Foundation
import SwitchyardModel
import SwitchyardRouting

/// The result of one case (or of a whole test that has none).
struct CaseResult {
    enum Outcome {
        case pass
        case fail(String)
        case skip(String)
    }

    var test: String
    /// Empty for a result that stands for the whole test.
    var label: String
    var outcome: Outcome
    /// Extra lines for a failure (the request, what the router returned).
    var details: [String] = []
    /// Observations that are not failures (what upstream does not compare).
    var notes: [String] = []
}

/// Runs one upstream test: builds its world, loads it with the real loader, routes every case
/// with the real router and compares the answers the way the upstream harness does.
struct TestRunner {
    let test: ConformanceTest
    /// When set, every file given to the loader is also written to `<dump>/<test>/`.
    var dump: String?
    let trustDomain = "cluster.local"
    /// Requests per distribution check (weights, mirror percentages).
    static let samples = 10_000

    /// What loading said about the test's own manifests (documents skipped, parentRefs that did
    /// not attach); printed with --verbose.
    private(set) var notes: [String] = []

    mutating func run() -> [CaseResult] {
        var files = test.manifests.map { ManifestFile(path: $0.path, yaml: $0.yaml) }
        var gateways: [ResourceID: GatewayInfo] = [:]
        for g in GatewayInfo.base { gateways[g.id] = g }
        for f in files { for g in f.gateways { gateways[g.id] = g } }

        let routes = files.flatMap(\.routes)
        let original = files
        var rewriteError: Error?
        do {
            for i in files.indices {
                try ParentRefRewriter.rewrite(&files[i]) { ref in gateways[ref.parent]?.port(sectionName: ref.sectionName, port: ref.port) }
            }
            // Upstream's run-time step: manually managed EndpointSlices get the backend pods' addresses.
            notes += try EndpointSliceFiller.fill(&files, test: test.name, world: world(for: files, gateways: gateways))
        } catch {
            rewriteError = error
        }

        if let reason = SkipPolicy.skip(test: test, routes: routes, files: files, gateways: gateways) {
            var reason = reason
            // Still load the manifests as upstream wrote them, to say whether the loader accepts them.
            if !test.manifests.isEmpty, case .failure(let errors) = load(original, gateways: gateways) {
                reason += " [the loader also refuses the manifests: \(errors.errors.first.map(\.description) ?? "")]"
            }
            return skipAll(reason)
        }
        if let rewriteError { return failAll("cannot rewrite the manifests: \(rewriteError)") }

        let snapshot: MeshSnapshot
        switch load(files, gateways: gateways) {
        case .success(let s): snapshot = s
        case .failure(let errors):
            if let reason = SkipPolicy.unsupportedFilter(errors) { return skipAll(reason) }
            return failAll("the loader refuses the manifests:\n" + errors.description)
        }
        let router = Router(snapshot: snapshot)
        let loader = self
        let worlds = WorldCache { excluded in
            var pruned = files
            for i in pruned.indices {
                pruned[i].documents.removeAll { doc in
                    guard doc.kind == "HTTPRoute", let meta = doc.node?[key: "metadata"], let name = meta[key: "name"]?.text else { return false }
                    return excluded.contains(ResourceID(namespace: meta[key: "namespace"]?.text ?? "default", name: name))
                }
            }
            if case .success(let s) = loader.load(pruned, gateways: gateways) { return Router(snapshot: s) }
            return nil
        }
        notes += snapshot.skipped.filter { !$0.source.file.hasPrefix("conformance-world/") }.map { "loader skipped \($0)" }
        notes += router.table.notes.map { "route table: \($0)" }
        var withoutGrants: Router?

        var results: [CaseResult] = []
        for c in test.cases {
            var r = router
            if let s = c.subtest?.lowercased(), s.contains("deleting"), s.contains("reference grant") {
                // "... after deleting the relevant reference grant": the same world without them.
                if withoutGrants == nil {
                    var pruned = files
                    for i in pruned.indices { pruned[i].documents.removeAll { $0.kind == "ReferenceGrant" } }
                    if case .success(let s) = load(pruned, gateways: gateways) { withoutGrants = Router(snapshot: s) }
                }
                guard let w = withoutGrants else {
                    results.append(CaseResult(test: test.name, label: c.label, outcome: .fail("cannot load the world without ReferenceGrants")))
                    continue
                }
                r = w
            }
            results.append(CaseRunner(test: test, case: c, router: r, routes: routes, gateways: gateways, worlds: worlds).run())
        }
        return results
    }

    /// The world the test's manifests `files` run in.
    private func world(for files: [ManifestFile], gateways: [ResourceID: GatewayInfo]) -> World {
        let namespaces = files.reduce(into: Set<String>()) { $0.formUnion($1.namespaces) }
        return World(gateways: Array(gateways.values).sorted { $0.id < $1.id }, extraNamespaces: namespaces)
    }

    private func load(_ files: [ManifestFile], gateways: [ResourceID: GatewayInfo]) -> Result<MeshSnapshot, ManifestErrors> {
        let world = world(for: files, gateways: gateways)
        let inputs = [(path: "conformance-world/cluster.yaml", contents: world.yaml)]
            + files.map { (path: $0.path, contents: $0.text) }
        if let dump {
            let dir = URL(fileURLWithPath: dump).appendingPathComponent(test.name)
            for input in inputs {
                let url = dir.appendingPathComponent(input.path)
                try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? input.contents.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        do {
            return .success(try ManifestLoader(trustDomain: trustDomain).load(files: inputs))
        } catch let errors as ManifestErrors {
            return .failure(errors)
        } catch {
            return .failure(ManifestErrors([ManifestError(file: "?", message: String(describing: error))]))
        }
    }

    private func skipAll(_ reason: String) -> [CaseResult] {
        if test.cases.isEmpty { return [CaseResult(test: test.name, label: "", outcome: .skip(reason))] }
        return test.cases.map { CaseResult(test: test.name, label: $0.label, outcome: .skip(reason)) }
    }

    private func failAll(_ message: String) -> [CaseResult] {
        test.cases.map { CaseResult(test: test.name, label: $0.label, outcome: .fail(message)) }
    }
}

/// Worlds derived from a test's world by leaving HTTPRoutes out, built once each.
final class WorldCache {
    private let build: (Set<ResourceID>) -> Router?
    private var built: [Set<ResourceID>: Router?] = [:]

    init(_ build: @escaping (Set<ResourceID>) -> Router?) { self.build = build }

    func router(without routes: Set<ResourceID>) -> Router? {
        if let r = built[routes] { return r }
        let r = build(routes)
        built[routes] = r
        return r
    }
}
