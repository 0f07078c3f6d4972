import SwitchyardModel
import Yams

/// The run-time step some upstream tests take before sending requests: filling manually
/// managed EndpointSlices with the addresses of a backend's pods.
///
/// `HTTPRouteServiceTypes` (conformance/tests/httproute-service-types.go, `setupEndpointSlices`)
/// lists the pods of Deployment `infra-backend-v1` by its selector and patches the slices
/// `<prefix>-ip4` and `<prefix>-ip6` so that each lists, for every pod IP of its family, one
/// endpoint `{addresses: [ip], conditions: {ready: true, serving: true, terminating: false},
/// nodeName, targetRef: {kind: Pod, namespace, name}}`. A slice with nothing to list (an IPv6
/// slice when the pods are IPv4 only) is left as it is, as upstream leaves it.
///
/// Here the slice documents are found on the YAML tree and the `endpoints` field is added at
/// the end of each; every other byte stays as written.
enum EndpointSliceFiller {
    /// One test's step: the slice name prefixes and the Deployment whose pods fill them.
    struct Step {
        var namespace: String
        var slicePrefixes: [String]
        var deployment: ResourceID
    }

    /// The tests that take such a step, by name.
    static let steps: [String: Step] = [
        "HTTPRouteServiceTypes": Step(namespace: Infra.namespace,
                                      slicePrefixes: ["manual-endpointslices", "headless-manual-endpointslices"],
                                      deployment: ResourceID(namespace: Infra.namespace, name: "infra-backend-v1")),
    ]

    struct FillError: Error, CustomStringConvertible {
        var description: String
    }

    /// Fills the slices of `test`'s step (if it has one) in `files` with the pods of `world`.
    /// Returns one note per slice filled.
    static func fill(_ files: inout [ManifestFile], test: String, world: World) throws -> [String] {
        guard let step = steps[test] else { return [] }
        let pods = world.pods(ofDeployment: step.deployment)
        guard !pods.isEmpty else { throw FillError(description: "no pods of Deployment \(step.deployment) to fill the EndpointSlices with") }
        let families: [(suffix: String, isMember: (String) -> Bool)] = [
            ("ip4", { !$0.contains(":") }),
            ("ip6", { $0.contains(":") }),
        ]
        var filled: [String] = []
        for family in families {
            for prefix in step.slicePrefixes {
                let id = ResourceID(namespace: step.namespace, name: "\(prefix)-\(family.suffix)")
                let members = pods.flatMap { pod in pod.ips.filter(family.isMember).map { (pod, $0) } }
                guard let (f, d) = locate(id, in: files) else {
                    throw FillError(description: "EndpointSlice \(id) is not in the test's manifests")
                }
                guard !members.isEmpty else { continue }
                try setEndpoints(members.map { entry($0.0, ip: $0.1) }, of: &files[f].documents[d])
                filled.append("filled EndpointSlice \(id) with \(members.count) endpoints, the pods of Deployment "
                              + "\(step.deployment), as upstream does at run time")
            }
        }
        return filled
    }

    private static func locate(_ id: ResourceID, in files: [ManifestFile]) -> (Int, Int)? {
        for (f, file) in files.enumerated() {
            for (d, doc) in file.documents.enumerated() where doc.kind == "EndpointSlice" {
                let meta = doc.node?[key: "metadata"]
                if meta?[key: "name"]?.text == id.name, (meta?[key: "namespace"]?.text ?? "default") == id.namespace {
                    return (f, d)
                }
            }
        }
        return nil
    }

    /// One endpoint, in flow style, as upstream's patch writes it.
    private static func entry(_ pod: World.PodInfo, ip: String) -> String {
        "{addresses: [\"\(ip)\"], conditions: {ready: true, serving: true, terminating: false}, "
            + "nodeName: \(pod.nodeName), targetRef: {kind: Pod, namespace: \(pod.id.namespace), name: \(pod.id.name)}}"
    }

    /// Adds `endpoints:` with `entries` at the end of a block-mapping document that has no
    /// `endpoints` field (upstream's manifests leave it out; a slice that has one is refused
    /// rather than guessed at).
    private static func setEndpoints(_ entries: [String], of document: inout ManifestFile.Document) throws {
        guard let root = document.node, let mapping = root.mapping, mapping.style != .flow else {
            throw FillError(description: "an EndpointSlice document that is not a block mapping")
        }
        guard root[key: "endpoints"] == nil else {
            throw FillError(description: "the EndpointSlice already has an endpoints field")
        }
        let indent = String(repeating: " ", count: max((mapping.mark?.column ?? 1) - 1, 0))
        if !document.text.isEmpty, !document.text.hasSuffix("\n") { document.text += "\n" }
        document.text += indent + "endpoints:\n" + entries.map { "\(indent)- \($0)\n" }.joined()
        document.node = try? Yams.compose(yaml: document.text)
        guard document.node?[key: "endpoints"]?.items.count == entries.count else {
            throw FillError(description: "the edited EndpointSlice does not read back with \(entries.count) endpoints")
        }
    }
}
