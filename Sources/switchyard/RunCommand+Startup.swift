import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import SwitchyardAdmin
import SwitchyardModel
import SwitchyardProxy
import SwitchyardTLS

/// The daemon's life: start everything in order, serve, drain on SIGTERM/SIGINT.
extension RunCommand {
    /// Readiness conditions, in the order `/ready` lists them.
    static let readinessConditions = ["manifests", "identities", "listeners"]

    /// Starts the daemon and serves until SIGTERM or SIGINT; returns after a clean shutdown.
    /// Anything that stops the start (invalid manifests, an unusable trust bundle, a listener
    /// that cannot be bound) is printed and ends in `ExitCode(1)`.
    static func serve(_ settings: RunSettings, notes: [String], privileges: PrivilegeReport) async throws {
        bootstrapLogging(level: settings.logLevel)
        let logger = Logger(label: "switchyard")
        for note in notes + privileges.warnings { logger.warning("\(note)") }
        logger.info("\(privileges)")
        if let file = settings.configFile { logger.info("settings read", metadata: ["file": "\(file)"]) }

        // Manifests: the fingerprint first, so that a change made during the load is seen by the watcher.
        let baseline = ManifestWatcher.Fingerprint(directory: settings.manifests)
        let snapshot = try loadManifests(settings)
        warnAboutWorkloads(snapshot, settings: settings, logger: logger)

        // Credentials: an unusable trust bundle stops the start; missing identities do not.
        let credentials: CredentialStore
        do {
            credentials = try CredentialStore(configuration: settings.credentialStoreConfiguration,
                                              logger: Logger(label: "switchyard.credentials"))
        } catch {
            printError("error: \(error) (the trust bundle, from \(settings.origin(of: .trustBundle)), is needed to start)")
            throw ExitCode(1)
        }
        let credentialWatch = credentials.watch()

        let registry = MetricsRegistry()
        let metrics = ProxyMetrics(registry: registry)
        let mesh = MeshState(snapshot: snapshot)
        let readiness = Readiness(conditions: readinessConditions)
        readiness.markReady("manifests")
        let identities = IdentityMonitor(credentials: credentials, mesh: mesh, settings: settings, registry: registry,
                                         readiness: readiness, logger: Logger(label: "switchyard.credentials"))
        let identityTask = identities.start()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads)
        let admin = AdminServer(registry: registry, readiness: readiness, configuration: settings.adminConfiguration)
        let adminAddress: SocketAddress
        do {
            adminAddress = try await admin.start(group: group)
        } catch {
            printError("error: \(RunSettings.Setting.adminListen.flag) \(settings.adminListen): cannot listen: \(error)")
            await stopAfterFailedStart(group: group, identityTask: identityTask, credentialWatch: credentialWatch)
            throw ExitCode(1)
        }

        let daemon = ProxyDaemon(configuration: settings.proxyConfiguration, mesh: mesh, credentials: credentials,
                                 metrics: metrics, group: group, logger: Logger(label: "switchyard.proxy"))
        let bound: ProxyDaemon.BoundAddresses
        do {
            bound = try await daemon.start()
        } catch {
            printError("error: \(error)")
            try? await admin.close()
            await stopAfterFailedStart(group: group, identityTask: identityTask, credentialWatch: credentialWatch)
            throw ExitCode(1)
        }
        readiness.markReady("listeners")

        // Redirect rules before the watcher, so the first reload finds them in place.
        let redirect = settings.manageRedirect ? RedirectManager(settings: settings, logger: Logger(label: "switchyard.redirect")) : nil
        if let redirect, !redirect.follow(snapshot) {
            printError("error: \(RunSettings.Setting.manageRedirect.flag): the redirect rules could not be installed (see the log)")
            try? await admin.close()
            await daemon.shutdown(gracePeriod: .zero)
            await stopAfterFailedStart(group: group, identityTask: identityTask, credentialWatch: credentialWatch)
            throw ExitCode(1)
        }
        var onApplied: (@Sendable (MeshSnapshot) -> Void)?
        if let redirect { onApplied = { snapshot in redirect.follow(snapshot) } }
        let watcher = ManifestWatcher(directory: settings.manifests, loader: settings.manifestLoader, mesh: mesh,
                                      metrics: metrics, logger: Logger(label: "switchyard.manifests"), baseline: baseline,
                                      onApplied: onApplied)
        watcher.start()

        let notifier = SystemdNotifier.fromProcessEnvironment()
        let signals = SignalHandler(logger: logger) {
            notify(logger) { try notifier.reloading() }
            let outcome = watcher.reloadNow()
            credentials.refresh()
            logger.notice("SIGHUP: manifests \(describe(outcome))", metadata: ["generation": "\(mesh.generation)"])
            notify(logger) { try notifier.ready() }
        }
        let (outbound, inbound) = (text(bound.outbound), text(bound.inbound))
        notify(logger) { try notifier.ready(status: "serving outbound \(outbound), inbound \(inbound)") }
        let watchdog = startWatchdog(notifier, group: group, logger: logger)
        logger.info("switchyard running", metadata: [
            "outbound": "\(outbound)", "inbound": "\(inbound)", "admin": "\(text(adminAddress))",
            "mode": "\(settings.mode.rawValue)", "node": "\(settings.node)", "threads": "\(settings.threads)",
            "generation": "\(mesh.generation)",
        ])

        let signal = await signals.termination()
        logger.notice("\(signal): draining for up to \(settings.shutdownGrace) s")
        notify(logger) { try notifier.stopping() }
        readiness.markNotReady("listeners")
        watcher.stop()
        identityTask.cancel()
        credentialWatch.cancel()
        await daemon.shutdown(gracePeriod: settings.gracePeriod)
        try? await admin.close()
        watchdog?.cancel()
        try? await group.shutdownGracefully()
        signals.cancel()
        logger.info("switchyard stopped")
    }

    /// swift-log to standard error at `level`, for every logger of the process. Called once.
    private static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The snapshot, or every error printed as `switchyard check` prints them and `ExitCode(1)`.
    private static func loadManifests(_ settings: RunSettings) throws -> MeshSnapshot {
        do {
            return try settings.manifestLoader.load(directory: settings.manifests)
        } catch let errors as ManifestErrors {
            for error in errors.errors { printError("error: \(error)") }
            let count = errors.errors.count
            printError("\(settings.manifests): \(count) error\(count == 1 ? "" : "s"); not starting")
            throw ExitCode(1)
        }
    }

    /// Warnings for settings that name what the manifests do not hold (they may appear later).
    private static func warnAboutWorkloads(_ snapshot: MeshSnapshot, settings: RunSettings, logger: Logger) {
        if snapshot.nodes[settings.node] == nil {
            logger.warning("node \(settings.node) is not in the manifests: no pod is local until it appears")
        }
        if let pod = settings.pod, snapshot.pods[pod] == nil {
            logger.warning("pod \(pod) (\(RunSettings.Setting.pod.flag)) is not in the manifests yet")
        }
    }

    private static func stopAfterFailedStart(group: MultiThreadedEventLoopGroup, identityTask: Task<Void, Never>,
                                              credentialWatch: CredentialWatch) async {
        identityTask.cancel()
        credentialWatch.cancel()
        try? await group.shutdownGracefully()
    }

    /// Sends one sd_notify message; a failure is logged, never fatal.
    static func notify(_ logger: Logger, _ send: () throws -> Bool) {
        do {
            _ = try send()
        } catch {
            logger.warning("sd_notify failed: \(error)")
        }
    }

    /// `10.0.0.1:4140`, `[::]:4140`: a bound address as the flags write it.
    static func text(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    static func describe(_ outcome: ManifestWatcher.ReloadOutcome) -> String {
        switch outcome {
        case .applied(let generation): "reloaded as generation \(generation)"
        case .unchanged: "unchanged"
        case .refused(let errors): "refused (\(errors.count) error\(errors.count == 1 ? "" : "s")); the snapshot in force stays"
        }
    }
}
