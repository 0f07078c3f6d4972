import ArgumentParser
import Foundation
import NIOCore

/// `switchyard run`: the node daemon (or sidecar). Reads its settings from flags, `SWITCHYARD_*`
/// variables and a `switchyard.yaml` (`RunSettings`), starts everything (`RunCommand+Startup.swift`)
/// and serves until SIGTERM or SIGINT. docs/configuration.md is the reference.
///
/// Every option is read as text and parsed by `RunSettings`, so that a bad value is reported
/// the same way wherever it was written (naming the flag, variable or file) with exit status 1.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the proxy: outbound and inbound listeners, the admin endpoint, watching manifests and identities.",
        discussion: """
            Every setting can also be given as an environment variable SWITCHYARD_<NAME> \
            (SWITCHYARD_OUTBOUND_LISTEN, SWITCHYARD_INGRESS_MODE=true) or as a camelCase key in the \
            settings file (outboundListen: 0.0.0.0:4140). A flag wins over a variable, a variable over the \
            file, the file over the default. The settings file is --config, else SWITCHYARD_CONFIG, else \
            /etc/switchyard/switchyard.yaml if it exists; unknown keys in it are errors.

            Exit status: 0 after a clean shutdown (SIGTERM, SIGINT); 1 when a setting, the manifests or \
            the trust bundle are invalid, or a listener cannot be bound; 64 when the command line itself \
            cannot be parsed (unknown flag, missing value). SIGHUP reloads the manifests now.
            """)

    @Option(help: ArgumentHelp("Directory of Kubernetes manifests (*.yaml, *.yml, recursively). Required.", valueName: "dir"))
    var manifests: String?

    @Option(help: ArgumentHelp("This node's name (a v1 Node in the manifests). Required.", valueName: "name"))
    var node: String?

    @Option(help: ArgumentHelp("node (one daemon per node) or sidecar (one proxy per pod; needs --pod). Default: node.",
                               valueName: "mode"))
    var mode: String?

    @Option(help: ArgumentHelp("""
        Sidecar mode (required): the pod served. Node mode: the workload used when a source IP is not a local pod.
        """, valueName: "ns/name"))
    var pod: String?

    @Option(help: ArgumentHelp("Workload certificates: DIR/<ns>/<sa>/{tls.crt,tls.key}. Default: /var/lib/switchyard/identities.",
                               valueName: "dir"))
    var identityDir: String?

    @Option(help: ArgumentHelp("PEM file of the trust anchors. Default: /etc/switchyard/trust-bundle.pem.", valueName: "file"))
    var trustBundle: String?

    @Option(help: ArgumentHelp("Trust domain of workload identities. Default: cluster.local.", valueName: "domain"))
    var trustDomain: String?

    @Option(help: ArgumentHelp("Outbound listener (redirected pod egress). Default: 0.0.0.0:4140.", valueName: "addr:port"))
    var outboundListen: String?

    @Option(help: ArgumentHelp("Inbound listener (mTLS from peers, redirected ingress). Default: 0.0.0.0:4143.",
                               valueName: "addr:port"))
    var inboundListen: String?

    @Option(help: ArgumentHelp("Admin endpoint: /live, /ready, /metrics. Default: 0.0.0.0:4191.", valueName: "addr:port"))
    var adminListen: String?

    @Flag(inversion: .prefixedNo,
          help: "Take each request's destination from l5d-dst-override or Host instead of the original destination.")
    var ingressMode: Bool?

    @Flag(inversion: .prefixedNo,
          help: "Node mode: install the redirect rules and re-apply them whenever the manifests change the meshed pods of this node.")
    var manageRedirect: Bool?

    @Option(help: ArgumentHelp("Event loop threads. Default: the CPUs available.", valueName: "n"))
    var threads: String?

    @Option(help: ArgumentHelp("Ports spliced as opaque TCP without protocol detection: 25,587,3306-3307. "
                               + "Default: 25,587,3306,4444,5432,6379,9300,11211.", valueName: "list"))
    var opaquePorts: String?

    @Flag(name: .customLong("require-mtls"), inversion: .prefixedNo,
          help: "Refuse inbound plaintext: only meshed peers over mTLS may connect.")
    var requireMTLS: Bool?

    @Flag(inversion: .prefixedNo, help: "Log one line per request at info level.")
    var accessLog: Bool?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default: info.", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Seconds SIGTERM lets in-flight requests finish. Default: 10.", valueName: "seconds"))
    var shutdownGrace: String?

    @Option(help: ArgumentHelp("The port meshed hops dial on peers (the mesh's inbound port). Default: 4143.",
                               valueName: "port"))
    var peerInboundPort: String?

    @Option(help: ArgumentHelp("Idle kept-alive connections kept per upstream endpoint, identity and thread (0: no reuse). Default: 1024.",
                               valueName: "n"))
    var upstreamIdleConnections: String?

    @Option(name: .customLong("mesh-http1"),
            help: ArgumentHelp("How apps' HTTP/1 requests to meshed pods travel between proxies: http2 (streams on shared "
                               + "HTTP/2 mTLS connections, l5d-orig-proto) or http1 (an HTTP/1 mTLS connection each, "
                               + "pooled per pod). Default: http2.", valueName: "http2|http1"))
    var meshHTTP1: String?

    @Option(help: ArgumentHelp("The user to run as when started as root (root: stay root). Default: switchyard.",
                               valueName: "name"))
    var user: String?

    @Option(name: .customLong("config"),
            help: ArgumentHelp("Settings file (YAML). Default: /etc/switchyard/switchyard.yaml if it exists.", valueName: "file"))
    var config: String?

    @Flag(help: .hidden)
    var printSettings = false

    /// What was given on the command line, as text.
    var commandLine: RunSettings.CommandLine {
        var line = RunSettings.CommandLine(config: config)
        let options: [(RunSettings.Setting, String?)] = [
            (.manifests, manifests), (.node, node), (.mode, mode), (.pod, pod), (.identityDir, identityDir),
            (.trustBundle, trustBundle), (.trustDomain, trustDomain), (.outboundListen, outboundListen),
            (.inboundListen, inboundListen), (.adminListen, adminListen), (.ingressMode, ingressMode.map(String.init)),
            (.threads, threads), (.opaquePorts, opaquePorts), (.requireMTLS, requireMTLS.map(String.init)),
            (.accessLog, accessLog.map(String.init)), (.logLevel, logLevel), (.shutdownGrace, shutdownGrace),
            (.peerInboundPort, peerInboundPort), (.upstreamIdleConnections, upstreamIdleConnections),
            (.meshHTTP1, meshHTTP1), (.user, user),
            (.manageRedirect, manageRedirect.map(String.init)),
        ]
        for case let (setting, text?) in options { line.values[setting] = text }
        return line
    }

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        let privilegesDropped = Self.takePrivilegeMarker(from: &environment)
        let settings: RunSettings
        let notes: [String]
        do {
            (settings, notes) = try RunSettings.resolve(commandLine: commandLine, environment: environment,
                                                        coreCount: System.coreCount)
        } catch {
            for problem in error.problems { printError("error: \(problem)") }
            throw ExitCode(1)
        }
        if printSettings {
            for note in notes { printError("note: \(note)") }
            print(settings.json.serialized())
            return
        }
        let privileges = try Self.enterLeastPrivilege(settings, droppedTo: privilegesDropped)
        try await Self.serve(settings, notes: notes, privileges: privileges)
    }
}
