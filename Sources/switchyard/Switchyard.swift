// switchyard: the command line. `check` validates manifests, `route` answers one request.
// Only this target touches process-wide state (exit codes, stdout, signals later).
import ArgumentParser

@main
struct Switchyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "A node daemon that meshes the pods of a Kubernetes node.",
        discussion: "Manifests on disk (kubectl get -o yaml output) are the configuration. See docs/architecture.md.",
        subcommands: [RunCommand.self, CheckCommand.self, RouteCommand.self, RedirectCommand.self, CertsCommand.self])
}
