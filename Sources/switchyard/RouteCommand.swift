import ArgumentParser
import SwitchyardModel
import SwitchyardRouting

/// `switchyard route`: what the proxy would do with one request, without sending it.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show how one request would be routed.",
        discussion: """
            DEST is name.ns:port, name.ns.svc.cluster.local:port or IP:port (a ClusterIP or a pod IP).
            The request's Host header defaults to DEST. Exits 0 with a decision (whatever its status),
            1 when the manifests or the arguments are invalid.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Directory of Kubernetes manifests.")
    var manifests: String

    @Option(help: "Destination: name.ns:port, name.ns.svc.cluster.local:port or IP:port.")
    var to: String

    @Option(help: "Request method.")
    var method: String = "GET"

    @Option(help: "Request path, with an optional ?query.")
    var path: String = "/"

    @Option(name: .customShort("H"), help: ArgumentHelp("A request header, 'Name: value' (repeatable).", valueName: "header"))
    var headers: [String] = []

    @Option(help: ArgumentHelp("The client pod, NAMESPACE/POD (default: a client in the Service's namespace).", valueName: "ns/pod"))
    var from: String?

    @Option(help: "Trust domain of workload identities.")
    var trustDomain: String = "cluster.local"

    @Option(help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        guard path.hasPrefix("/") else { throw ValidationError("--path must begin with \"/\", got \"\(path)\"") }
        for header in headers {
            _ = try Self.parseHeader(header)
        }
        if let from, from.split(separator: "/", omittingEmptySubsequences: false).count != 2 || from.hasPrefix("/") || from.hasSuffix("/") {
            throw ValidationError("--from must be NAMESPACE/POD, got \"\(from)\"")
        }
    }

    static func parseHeader(_ raw: String) throws -> HTTPHeader {
        guard let colon = raw.firstIndex(of: ":"), colon != raw.startIndex else {
            throw ValidationError("-H expects 'Name: value', got \"\(raw)\"")
        }
        let name = String(raw[..<colon])
        guard HTTPToken.isToken(name) else {
            throw ValidationError("-H \"\(raw)\": \"\(name)\" is not a valid header name")
        }
        return HTTPHeader(name: name, value: raw[raw.index(after: colon)...].trimmingWhitespace())
    }

    func run() throws {
        let snapshot: MeshSnapshot
        do {
            snapshot = try ManifestLoader(trustDomain: trustDomain).load(directory: manifests)
        } catch let errors as ManifestErrors {
            for e in errors.errors { printError("error: \(e)") }
            throw ExitCode(1)
        }
        let router = Router(snapshot: snapshot)
        let destination: Destination
        do {
            destination = try router.resolve(destination: to)
        } catch let error as DestinationError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        var clientNamespace: String?
        if let from {
            let parts = from.split(separator: "/").map(String.init)
            let id = ResourceID(namespace: parts[0], name: parts[1])
            guard snapshot.pods[id] != nil else {
                printError("error: --from \(from): pod \(id) not found in \(manifests)")
                throw ExitCode(1)
            }
            clientNamespace = id.namespace
        }
        var requestHeaders = try headers.map(Self.parseHeader)
        if !requestHeaders.contains(where: { $0.name.lowercased() == "host" }) {
            requestHeaders.insert(HTTPHeader(name: "host", value: to), at: 0)
        }
        let request = RouteRequest(method: method.uppercased(), path: path, headers: requestHeaders)
        var rng = SystemRandomNumberGenerator()
        let decision = router.decide(request, destination: destination, clientNamespace: clientNamespace, using: &rng)
        switch output {
        case .json: print(DecisionRendering.json(decision).serialized())
        case .text: print(DecisionRendering.text(decision, destination: destination), terminator: "")
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
