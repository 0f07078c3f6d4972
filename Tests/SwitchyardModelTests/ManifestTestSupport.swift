import Foundation
import Testing
@testable import SwitchyardModel

/// Loads one in-memory file named `file`.
func loadManifest(_ yaml: String, file: String = "test.yaml", trustDomain: String = "cluster.local",
                  limits: ManifestLimits = .default) throws -> MeshSnapshot {
    try ManifestLoader(trustDomain: trustDomain, limits: limits).load(files: [(path: file, contents: yaml)])
}

/// The errors of loading one in-memory file; records a test failure when it loads.
func manifestErrors(_ yaml: String, file: String = "test.yaml", limits: ManifestLimits = .default,
                    sourceLocation: SourceLocation = #_sourceLocation) -> [ManifestError] {
    do {
        _ = try loadManifest(yaml, file: file, limits: limits)
        Issue.record("expected the manifest to be refused", sourceLocation: sourceLocation)
        return []
    } catch let errors as ManifestErrors {
        return errors.errors
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return []
    }
}
