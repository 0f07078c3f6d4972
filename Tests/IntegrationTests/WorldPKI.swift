import Foundation

/// The world's dev PKI, made with `switchyard certs`: one CA, one certificate per meshed
/// service account, and one identity directory per node holding its local pods' identities.
struct WorldPKI: Sendable {
    let caDir: URL
    let issuedDir: URL
    /// Per node name: `<dir>/<namespace>/<serviceAccount>/{tls.crt,tls.key}`.
    let identityDirs: [String: URL]

    var trustBundle: URL { caDir.appendingPathComponent("trust-bundle.pem") }
    var issuerCertificate: URL { caDir.appendingPathComponent("issuer.crt") }

    /// The issued certificate and key of `pod`'s identity.
    func credential(of pod: String) -> (certificate: URL, key: URL) {
        let dir = issuedDir.appendingPathComponent(WorldManifests.pod(pod).serviceAccount)
        return (dir.appendingPathComponent("tls.crt"), dir.appendingPathComponent("tls.key"))
    }

    func identityDir(_ node: WorldPod.Node) -> URL { identityDirs[node.rawValue]! }

    /// `certs init`, then `certs issue` for every meshed pod; copies each into its node's identity
    /// directory. With `swapIdentity`, node-2's `test/swapped` directory gets backend-b's files
    /// (a certificate for another identity than the directory's).
    static func make(in dir: URL, swapIdentity: Bool) async throws -> WorldPKI {
        let caDir = dir.appendingPathComponent("ca")
        let issuedDir = dir.appendingPathComponent("issued")
        let initResult = try await SwitchyardBinary.run(["certs", "init", "--out", caDir.path], in: dir)
        guard initResult.status == 0 else { throw ChildProcessError(description: "certs init failed: \(initResult)") }

        let meshed = WorldManifests.pods.filter(\.meshed)
        for pod in meshed {
            let out = issuedDir.appendingPathComponent(pod.serviceAccount)
            let issue = try await SwitchyardBinary.run(
                ["certs", "issue", "--ca", caDir.path, "--identity", pod.identity, "--out", out.path], in: dir)
            guard issue.status == 0 else { throw ChildProcessError(description: "certs issue \(pod.identity) failed: \(issue)") }
        }

        var identityDirs: [String: URL] = [:]
        let fm = FileManager.default
        for node in [WorldPod.Node.node1, .node2, .node3] {
            let nodeDir = dir.appendingPathComponent("identity-\(node.rawValue)")
            identityDirs[node.rawValue] = nodeDir
            try fm.createDirectory(at: nodeDir, withIntermediateDirectories: true)
            for pod in meshed where pod.node == node {
                let source = issuedDir.appendingPathComponent(swapIdentity && pod.name == "swapped" ? "backend-b" : pod.serviceAccount)
                let target = nodeDir.appendingPathComponent("test/\(pod.serviceAccount)")
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                for file in ["tls.crt", "tls.key"] {
                    try fm.copyItem(at: source.appendingPathComponent(file), to: target.appendingPathComponent(file))
                }
            }
        }
        return WorldPKI(caDir: caDir, issuedDir: issuedDir, identityDirs: identityDirs)
    }
}
