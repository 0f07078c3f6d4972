/// Turns Kubernetes manifests (what `kubectl get -o yaml` prints) into a `MeshSnapshot`.
///
/// Reads `v1` Namespace, Service, Pod and Node, `discovery.k8s.io/v1` EndpointSlice (IPv4 and
/// IPv6; FQDN slices are skipped with a note), `HTTPRoute` (policy.linkerd.io/v1beta2 and
/// v1beta3, gateway.networking.k8s.io/v1 and v1beta1), `GRPCRoute` (gateway.networking.k8s.io/v1
/// and v1alpha2) and `ReferenceGrant`, validating each
/// as the Kubernetes API server and the Gateway API CRD schema (with its CEL rules) would.
/// `v1 List` documents are unpacked; unknown kinds are skipped with a note in
/// `MeshSnapshot.skipped`; unknown fields are ignored.
///
/// A load is all or nothing: it returns a whole snapshot, or throws `ManifestErrors` holding
/// every problem found in every file, each naming the file, the document and the field.
/// References between objects (a route's parent or backend that does not exist) are not
/// errors here; they are a routing-time matter.
public struct ManifestLoader: Sendable {
    /// The trust domain of the snapshot's workload identities.
    public var trustDomain: String
    /// Bounds on file size, document count and nesting.
    public var limits: ManifestLimits

    /// - Parameters:
    ///   - trustDomain: the trust domain workload identities are named in.
    ///   - limits: bounds on what is read.
    public init(trustDomain: String = "cluster.local", limits: ManifestLimits = .default) {
        self.trustDomain = trustDomain
        self.limits = limits
    }

    /// Reads `*.yaml` and `*.yml` under `directory` recursively (sorted by path, skipping
    /// names starting with `.`), decodes and validates every document.
    ///
    /// Files are named in errors as `directory` joined with their relative path. A missing or
    /// unreadable directory is an error naming the directory.
    /// - Throws: `ManifestErrors` holding every error found.
    public func load(directory: String) throws -> MeshSnapshot {
        let reader = ManifestDirectoryReader(limits: limits)
        let (files, walkErrors) = reader.files(in: directory)
        var errors = walkErrors
        var builder = SnapshotBuilder()
        for file in files {
            switch reader.read(file) {
            case .failure(let error):
                errors.append(error)
            case .success(let bytes):
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    errors.append(ManifestError(file: file.displayPath, message: "not valid UTF-8 text"))
                    continue
                }
                ManifestFileDecoder(path: file.displayPath, limits: limits).decode(text, into: &builder, errors: &errors)
            }
        }
        guard errors.isEmpty else { throw ManifestErrors(errors) }
        return builder.build(trustDomain: trustDomain)
    }

    /// Decodes and validates in-memory files, in the order given.
    /// - Parameter files: each file's name (used in messages) and contents.
    /// - Throws: `ManifestErrors` holding every error found.
    public func load(files: [(path: String, contents: String)]) throws -> MeshSnapshot {
        var errors: [ManifestError] = []
        var builder = SnapshotBuilder()
        for file in files {
            ManifestFileDecoder(path: file.path, limits: limits).decode(file.contents, into: &builder, errors: &errors)
        }
        guard errors.isEmpty else { throw ManifestErrors(errors) }
        return builder.build(trustDomain: trustDomain)
    }
}
