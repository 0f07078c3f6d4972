import Logging
import SwitchyardAdmin
import SwitchyardModel
import SwitchyardProxy
import SwitchyardTLS

extension RunCommand {
    /// Follows the credential store once a second: keeps one
    /// `identity_cert_expiration_timestamp_seconds{identity}` series per served certificate (read
    /// at scrape time from the credentials in force), and the `identities` readiness condition.
    ///
    /// `identities` is ready when every identity the local meshed workloads need is served:
    /// in sidecar mode the served pod's, in node mode those of the meshed pods whose `nodeName`
    /// is this node (from the snapshot in force). Missing identities are logged when the set
    /// changes; the daemon serves regardless, but meshed hops of those workloads fail.
    final class IdentityMonitor: Sendable {
        private let credentials: CredentialStore
        private let mesh: MeshState
        private let mode: ProxyConfiguration.Mode
        private let node: String
        private let pod: ResourceID?
        private let identityDirectory: String
        private let expiry: GaugeFamily
        private let readiness: Readiness
        private let logger: Logger

        init(credentials: CredentialStore, mesh: MeshState, settings: RunSettings, registry: MetricsRegistry,
             readiness: Readiness, logger: Logger) {
            self.credentials = credentials
            self.mesh = mesh
            mode = settings.mode
            node = settings.node
            pod = settings.pod
            identityDirectory = settings.identityDir
            expiry = registry.gaugeFamily(
                "identity_cert_expiration_timestamp_seconds",
                help: "When each served workload certificate expires, in seconds since the Unix epoch.",
                labelNames: ["identity"])
            self.readiness = readiness
            self.logger = logger
        }

        /// Checks now, then every `interval` until the task returned is cancelled.
        func start(interval: Duration = .seconds(1)) -> Task<Void, Never> {
            Task {
                var state = State()
                while !Task.isCancelled {
                    update(&state)
                    try? await Task.sleep(for: interval)
                }
            }
        }

        /// What one check remembers for the next.
        struct State {
            var series: Set<String> = []
            /// Nil before the first check.
            var missing: [String]?
        }

        func update(_ state: inout State) {
            let current = credentials.current
            let served = Set(current.credentials.keys)
            for identity in served.subtracting(state.series) {
                let credentials = self.credentials
                expiry.observe([identity]) {
                    credentials.current.expiries[identity]?.timeIntervalSince1970 ?? .nan
                }
            }
            for identity in state.series.subtracting(served) { expiry.remove([identity]) }
            state.series = served

            let missing = requiredIdentities(mesh.snapshot).subtracting(served).sorted()
            if missing.isEmpty {
                readiness.markReady("identities")
                if state.missing?.isEmpty == false { logger.info("every local workload identity is served") }
            } else {
                readiness.markNotReady("identities")
                if missing != state.missing {
                    logger.warning("""
                        workload identities missing: meshed hops of these workloads fail until their tls.crt and tls.key \
                        are under \(identityDirectory)/<namespace>/<serviceAccount>
                        """, metadata: ["missing": "\(missing)", "served": "\(served.count)"])
                }
            }
            state.missing = missing
        }

        /// The identities of the meshed workloads this proxy serves, by name.
        func requiredIdentities(_ snapshot: MeshSnapshot) -> Set<String> {
            let local = snapshot.pods.values.filter { candidate in
                switch mode {
                case .sidecar: candidate.id == pod
                case .node: candidate.nodeName == node
                }
            }
            return Set(local.filter { snapshot.isMeshed($0) }.map { snapshot.identity(of: $0).name })
        }
    }
}
