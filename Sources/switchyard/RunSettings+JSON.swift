/// The effective settings as JSON (`switchyard run --print-settings`): one object,
/// `{"configFile": path|null, "settings": {"<key>": {"value": …, "source": "flag|env|file|default"}, …}}`,
/// keys in the order of docs/configuration.md. Switches are booleans, `threads`,
/// `shutdownGrace` (seconds) and `peerInboundPort` numbers, `pod` null when unset,
/// everything else the canonical text one would write on the command line.
extension RunSettings {
    var json: JSONValue {
        var fields: [(String, JSONValue)] = []
        for setting in Setting.allCases {
            let entry: JSONValue = .object([
                ("value", value(of: setting)),
                ("source", .string((sources[setting] ?? .default).rawValue)),
            ])
            fields.append((setting.key, entry))
        }
        return .object([
            ("configFile", configFile.map(JSONValue.string) ?? .null),
            ("settings", .object(fields)),
        ])
    }

    private func value(of setting: Setting) -> JSONValue {
        switch setting {
        case .manifests: .string(manifests)
        case .node: .string(node)
        case .mode: .string(mode.rawValue)
        case .pod: pod.map { .string($0.description) } ?? .null
        case .identityDir: .string(identityDir)
        case .trustBundle: .string(trustBundle)
        case .trustDomain: .string(trustDomain)
        case .outboundListen: .string(outboundListen.description)
        case .inboundListen: .string(inboundListen.description)
        case .adminListen: .string(adminListen.description)
        case .ingressMode: .bool(ingressMode)
        case .manageRedirect: .bool(manageRedirect)
        case .threads: .int(threads)
        case .opaquePorts: .string(opaquePorts.description)
        case .requireMTLS: .bool(requireMTLS)
        case .accessLog: .bool(accessLog)
        case .logLevel: .string(logLevel.rawValue)
        case .shutdownGrace: .int(shutdownGrace)
        case .peerInboundPort: .int(Int(peerInboundPort))
        case .upstreamIdleConnections: .int(upstreamIdleConnections)
        case .meshHTTP1: .string(meshHTTP1.rawValue)
        case .user: .string(user)
        }
    }
}
