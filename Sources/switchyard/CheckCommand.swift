import ArgumentParser
import SwitchyardModel
import SwitchyardRouting

/// `switchyard check --manifests DIR`: load and validate; print what was found; exit 1 with every error.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a manifests directory and print what it holds.",
        discussion: "Exits 1, naming file, document and field of every error, when the manifests are invalid.")

    @Option(help: "Directory of Kubernetes manifests (*.yaml, *.yml, searched recursively).")
    var manifests: String

    @Option(help: "Trust domain of workload identities.")
    var trustDomain: String = "cluster.local"

    func run() throws {
        let snapshot: MeshSnapshot
        do {
            snapshot = try ManifestLoader(trustDomain: trustDomain).load(directory: manifests)
        } catch let errors as ManifestErrors {
            for e in errors.errors { printError("error: \(e)") }
            printError("\(manifests): \(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s"); nothing loaded")
            throw ExitCode(1)
        }
        let router = Router(snapshot: snapshot)
        print(CheckReport(snapshot: snapshot, router: router, directory: manifests).text, terminator: "")
    }
}
