import Foundation
import SwitchyardInterception
import SwitchyardProxy

/// Merging the layers: flag > environment variable > settings file > default.
extension RunSettings {
    /// What `switchyard run` was given on its command line: each setting's text as written
    /// (switches as `true`/`false`), and `--config`.
    struct CommandLine {
        var values: [Setting: String] = [:]
        var config: String?
    }

    /// The settings from the command line, the environment and the settings file, validated.
    ///
    /// The settings file is `--config`, else `SWITCHYARD_CONFIG`, else `defaultConfigFile`
    /// when it exists. Variables that start with `SWITCHYARD_` but name no setting are
    /// returned as `notes` (they are not errors: other tools share the prefix).
    /// - Throws: `Invalid` with every problem found, each naming where the value came from.
    static func resolve(commandLine: CommandLine, environment: [String: String],
                        defaultConfigFile: String = Setting.defaultConfigFile,
                        coreCount: Int) throws(Invalid) -> (settings: RunSettings, notes: [String]) {
        var problems: [String] = []

        // Layer 1: the command line.
        var flags: [Setting: RawValue] = [:]
        for (setting, text) in commandLine.values {
            flags[setting] = RawValue(text: text, source: .flag, origin: setting.flag)
        }

        // Layer 2: the environment.
        var variables: [Setting: RawValue] = [:]
        for setting in Setting.allCases {
            if let text = environment[setting.environmentVariable] {
                variables[setting] = RawValue(text: text, source: .env, origin: setting.environmentVariable)
            }
        }
        let known = Set(Setting.allCases.map(\.environmentVariable) + [Setting.configVariable])
        let notes = environment.keys.filter { $0.hasPrefix(Setting.environmentPrefix) && !known.contains($0) }.sorted()
            .map { "environment variable \($0) is not a setting; ignored" }

        // Layer 3: the settings file.
        var configFile: String?
        if let path = commandLine.config {
            configFile = path
            if path.isEmpty { problems.append("\(Setting.configFlag) \"\": must name a file") }
        } else if let path = environment[Setting.configVariable] {
            configFile = path
            if path.isEmpty { problems.append("\(Setting.configVariable) \"\": must name a file") }
        } else if FileManager.default.fileExists(atPath: defaultConfigFile) {
            configFile = defaultConfigFile
        }
        var file = FileContents(unreadable: configFile?.isEmpty == true)
        if let configFile, !configFile.isEmpty {
            file = readFile(configFile)
            problems += file.problems
        }

        var sources: [Setting: Source] = [:]
        func value<T>(_ setting: Setting, default fallback: T, _ parse: (String) throws(Refusal) -> T) -> T {
            guard let raw = flags[setting] ?? variables[setting] ?? file.values[setting] else {
                sources[setting] = .default
                return fallback
            }
            do {
                let parsed = try parse(raw.text)
                sources[setting] = raw.source
                return parsed
            } catch {
                problems.append(raw.problem(error.reason))
                sources[setting] = raw.source
                return fallback
            }
        }
        func required(_ setting: Setting, _ parse: (String) throws(Refusal) -> String) -> String {
            let text = value(setting, default: nil) { text throws(Refusal) in try parse(text) }
            if text == nil, !file.unreadable, !file.refused.contains(setting) {
                problems.append("\(setting.flag) is required (or \(setting.environmentVariable), or \"\(setting.key)\" in the settings file)")
            }
            return text ?? ""
        }

        let settings = RunSettings(
            manifests: required(.manifests, parsePath),
            node: required(.node, parseName),
            mode: value(.mode, default: .node, parseMode),
            pod: value(.pod, default: nil) { text throws(Refusal) in try parsePod(text) },
            identityDir: value(.identityDir, default: "/var/lib/switchyard/identities", parsePath),
            trustBundle: value(.trustBundle, default: "/etc/switchyard/trust-bundle.pem", parsePath),
            trustDomain: value(.trustDomain, default: "cluster.local", parseTrustDomain),
            outboundListen: value(.outboundListen, default: IPEndpoint(IPv4Address(0, 0, 0, 0), port: 4140), parseEndpoint),
            inboundListen: value(.inboundListen, default: IPEndpoint(IPv4Address(0, 0, 0, 0), port: 4143), parseEndpoint),
            adminListen: value(.adminListen, default: IPEndpoint(IPv4Address(0, 0, 0, 0), port: 4191), parseEndpoint),
            ingressMode: value(.ingressMode, default: false, parseSwitch),
            threads: value(.threads, default: max(1, coreCount), parseThreads),
            opaquePorts: value(.opaquePorts, default: .linkerdDefault, parseOpaquePorts),
            requireMTLS: value(.requireMTLS, default: false, parseSwitch),
            accessLog: value(.accessLog, default: false, parseSwitch),
            logLevel: value(.logLevel, default: .info, parseLogLevel),
            shutdownGrace: value(.shutdownGrace, default: 10, parseShutdownGrace),
            peerInboundPort: value(.peerInboundPort, default: 4143, parsePort),
            upstreamIdleConnections: value(.upstreamIdleConnections, default: 1024, parseIdleConnections),
            meshHTTP1: value(.meshHTTP1, default: .http2, parseMeshHTTP1),
            user: value(.user, default: "switchyard", parseUser),
            manageRedirect: value(.manageRedirect, default: false, parseSwitch),
            configFile: configFile,
            sources: [:])

        if settings.mode == .sidecar, settings.pod == nil, sources[.pod] == .default {
            problems.append("sidecar mode (\(describeOrigin(of: .mode, sources: sources))) needs the pod it serves: "
                + "\(Setting.pod.flag) NAMESPACE/NAME (or \(Setting.pod.environmentVariable), or \"pod\" in the settings file)")
        }
        if settings.manageRedirect, settings.mode != .node || settings.ingressMode {
            problems.append("\(Setting.manageRedirect.flag) (\(describeOrigin(of: .manageRedirect, sources: sources))) keeps node-mode "
                + "redirect rules in step with the manifests: it needs --mode node without --ingress-mode")
        }
        let listens: [(Setting, IPEndpoint)] = [(.outboundListen, settings.outboundListen), (.inboundListen, settings.inboundListen),
                                                (.adminListen, settings.adminListen)]
        for (index, (setting, endpoint)) in listens.enumerated() where endpoint.port != 0 {
            for (other, otherEndpoint) in listens[..<index] where otherEndpoint == endpoint {
                problems.append("\(setting.flag) \(endpoint) is also \(other.flag): the listeners need different addresses")
            }
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        var result = settings
        result.sources = sources
        return (result, notes)
    }

    /// Where a setting's value was written: `--mode`, `SWITCHYARD_MODE`, `"mode" in the
    /// settings file` or `the default`.
    func origin(of setting: Setting) -> String {
        Self.describeOrigin(of: setting, sources: sources)
    }

    private static func describeOrigin(of setting: Setting, sources: [Setting: Source]) -> String {
        switch sources[setting] {
        case .flag: setting.flag
        case .env: setting.environmentVariable
        case .file: "\"\(setting.key)\" in the settings file"
        case .default, nil: "the default"
        }
    }
}
