extension RunSettings {
    /// One setting of `switchyard run`. Its YAML key is the raw value (camelCase); its flag is
    /// the key in kebab case (`--outbound-listen`) and its environment variable the key in upper
    /// snake case behind `SWITCHYARD_` (`SWITCHYARD_OUTBOUND_LISTEN`). Acronyms stay one word:
    /// `requireMTLS` is `--require-mtls` and `SWITCHYARD_REQUIRE_MTLS`.
    enum Setting: String, CaseIterable, Hashable, Comparable {
        case manifests, node, mode, pod
        case identityDir, trustBundle, trustDomain
        case outboundListen, inboundListen, adminListen
        case ingressMode, threads, opaquePorts, requireMTLS, accessLog, logLevel, shutdownGrace, peerInboundPort
        case upstreamIdleConnections, meshHTTP1
        case user, manageRedirect

        /// The key in `switchyard.yaml`.
        var key: String { rawValue }

        /// The command-line flag: `--outbound-listen`.
        var flag: String { "--" + words.joined(separator: "-") }

        /// The environment variable: `SWITCHYARD_OUTBOUND_LISTEN`.
        var environmentVariable: String { Self.environmentPrefix + words.joined(separator: "_").uppercased() }

        /// Whether the setting is on/off: a flag without a value (`--ingress-mode`,
        /// `--no-ingress-mode`), `true`/`false` elsewhere.
        var isSwitch: Bool { self == .ingressMode || self == .requireMTLS || self == .accessLog || self == .manageRedirect }

        /// Whether the value is a file or directory path; in the YAML file a relative one is
        /// taken relative to the file's own directory.
        var isPath: Bool { self == .manifests || self == .identityDir || self == .trustBundle }

        /// The camelCase key split into lower-case words; a run of capitals is one word.
        var words: [String] {
            var words: [String] = []
            var current = ""
            let characters = Array(rawValue)
            for (index, character) in characters.enumerated() {
                let startsWord = character.isUppercase
                    && (index > 0 && characters[index - 1].isLowercase
                        || index + 1 < characters.count && characters[index + 1].isLowercase && !current.isEmpty)
                if startsWord {
                    words.append(current)
                    current = ""
                }
                current.append(character)
            }
            words.append(current)
            return words.map { $0.lowercased() }
        }

        static func < (lhs: Setting, rhs: Setting) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        /// The prefix of every setting's environment variable.
        static let environmentPrefix = "SWITCHYARD_"
        /// Where the settings file is named (it cannot name itself).
        static let configFlag = "--config"
        static let configVariable = "SWITCHYARD_CONFIG"
        /// Read when neither `--config` nor `SWITCHYARD_CONFIG` names a file, if it exists.
        static let defaultConfigFile = "/etc/switchyard/switchyard.yaml"
    }

    /// Where a setting's value came from.
    enum Source: String, Hashable {
        case flag
        case env
        case file
        case `default`
    }
}
