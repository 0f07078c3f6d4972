import Foundation
import Logging
import NIOConcurrencyHelpers
import SwitchyardAdmin
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps `MeshState` in step with a manifests directory.
///
/// Every `pollInterval` it takes a cheap fingerprint of the directory (the manifest files
/// `ManifestLoader` would read, with each one's device, inode, size, mode and modification
/// time); only when that changed does it load the whole directory. A valid load is published
/// to the mesh (new requests route by it at once), counted as
/// `switchyard_config_reload_total{result="success"}` and logged at info. An invalid one is
/// refused: every error is logged (file, document, field, message), it is counted as
/// `result="failure"`, and the snapshot in force stays. A refused state is not retried until
/// the directory changes again, so an editor's half-written file is followed by a reload as
/// soon as the write completes.
///
/// Polling runs on a Dispatch timer of its own, never on an event loop. Reloads (polled or
/// `reloadNow()`) run one at a time.
///
/// (`@unchecked Sendable`: the mutable state is guarded by `lock`; the Dispatch timer is
/// thread-safe to cancel, which Dispatch does not say in types.)
public final class ManifestWatcher: @unchecked Sendable {
    /// What one reload did.
    public enum ReloadOutcome: Sendable, Equatable {
        /// A new snapshot was published as this generation of the mesh.
        case applied(generation: Int)
        /// The directory is as it was at the last attempt; nothing was loaded.
        case unchanged
        /// The directory is invalid; these are its errors, and the snapshot in force stays.
        case refused([ManifestError])
    }

    /// The directory watched.
    public let directory: String
    /// How it is loaded (trust domain, limits).
    public let loader: ManifestLoader
    /// Where valid snapshots are published.
    public let mesh: MeshState
    /// How often the directory is checked.
    public let pollInterval: Duration

    private let logger: Logger
    private let onApplied: (@Sendable (MeshSnapshot) -> Void)?
    private let counters: (success: Counter, failure: Counter)?
    private let lock = NIOLock()
    /// The fingerprint of the last attempt, valid or not. Guarded by `lock`.
    private var lastAttempt: Fingerprint
    /// Guarded by `lock`.
    private var timer: (any DispatchSourceTimer)?

    /// - Parameters:
    ///   - directory: the manifests directory (as given to `ManifestLoader.load(directory:)`).
    ///   - loader: loads it (its trust domain and limits).
    ///   - mesh: where valid snapshots are published.
    ///   - metrics: counts reloads in `configReloadTotal`, when given.
    ///   - logger: reloads are logged at info, refusals at error.
    ///   - pollInterval: how often the directory is checked.
    ///   - baseline: the directory's fingerprint when the snapshot in force was loaded; take it
    ///     with `Fingerprint(directory:)` *before* that load, so that a change made during it is
    ///     picked up. Nil: the directory as it is now.
    ///   - onApplied: called (on the watcher's queue, after publishing) with each snapshot put in
    ///     force, for what follows the manifests outside the data plane (the redirect rules).
    public init(directory: String, loader: ManifestLoader = ManifestLoader(), mesh: MeshState, metrics: ProxyMetrics?,
                logger: Logger, pollInterval: Duration = .milliseconds(500), baseline: Fingerprint? = nil,
                onApplied: (@Sendable (MeshSnapshot) -> Void)? = nil) {
        self.onApplied = onApplied
        self.directory = directory
        self.loader = loader
        self.mesh = mesh
        self.logger = logger
        self.pollInterval = pollInterval
        counters = metrics.map { ($0.configReloadTotal.labels("success"), $0.configReloadTotal.labels("failure")) }
        lastAttempt = baseline ?? Fingerprint(directory: directory, maxFiles: loader.limits.maxFiles)
    }

    deinit { timer?.cancel() }

    /// Starts polling (again, after `stop()`); nothing happens if it is polling already.
    public func start() {
        lock.withLock {
            guard timer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "switchyard.manifests.watch", qos: .utility))
            let (seconds, attoseconds) = pollInterval.components
            let nanoseconds = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
            timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
                           leeway: .nanoseconds(nanoseconds / 10))
            timer.setEventHandler { [weak self] in _ = self?.reloadNow() }
            timer.resume()
            self.timer = timer
        }
    }

    /// Stops polling. A reload already running finishes; `reloadNow()` still works.
    public func stop() {
        let timer = lock.withLock {
            defer { self.timer = nil }
            return self.timer
        }
        timer?.cancel()
    }

    /// Checks the directory now and, if it changed since the last attempt, loads it and
    /// publishes or refuses the result (as a poll does). Blocks for the load.
    @discardableResult
    public func reloadNow() -> ReloadOutcome {
        lock.withLock {
            let fingerprint = Fingerprint(directory: directory, maxFiles: loader.limits.maxFiles)
            guard fingerprint != lastAttempt else { return .unchanged }
            lastAttempt = fingerprint
            let snapshot: MeshSnapshot
            do {
                snapshot = try loader.load(directory: directory)
            } catch let errors as ManifestErrors {
                return refuse(errors.errors)
            } catch {
                return refuse([ManifestError(file: directory, message: "\(error)")])
            }
            let generation = mesh.publish(snapshot)
            counters?.success.increment()
            onApplied?(snapshot)
            logger.info("manifests reloaded", metadata: [
                "directory": "\(directory)", "generation": "\(generation)",
                "namespaces": "\(snapshot.namespaces.count)", "services": "\(snapshot.services.count)",
                "pods": "\(snapshot.pods.count)", "nodes": "\(snapshot.nodes.count)",
                "httpRoutes": "\(snapshot.httpRoutes.count)", "endpointSlices": "\(snapshot.endpointSlices.count)",
                "skipped": "\(snapshot.skipped.count)",
            ])
            return .applied(generation: generation)
        }
    }

    private func refuse(_ errors: [ManifestError]) -> ReloadOutcome {
        counters?.failure.increment()
        for error in errors { logger.error("manifest error: \(error)") }
        logger.error("manifest reload refused; the snapshot in force stays", metadata: [
            "directory": "\(directory)", "errors": "\(errors.count)", "generation": "\(mesh.generation)",
        ])
        return .refused(errors)
    }
}

extension ManifestWatcher {
    /// What a manifests directory looks like on disk, cheaply: for every file `ManifestLoader`
    /// would read (`*.yaml`, `*.yml`, recursively, names starting with `.` skipped, links
    /// followed within the directory, each directory once), its path and its device, inode,
    /// size, mode and modification time; and every path that could not be read, with why.
    /// When a file is written, replaced (a ConfigMap's `..data` swap), added or removed, the
    /// fingerprint changes.
    ///
    /// A rewrite that keeps the size within one tick of the file system's clock after the
    /// fingerprint was taken is not seen until the next change.
    public struct Fingerprint: Sendable, Hashable {
        private struct Entry: Sendable, Hashable {
            var path: String
            var device: UInt64 = 0
            var inode: UInt64 = 0
            var size: Int64 = 0
            var mode: UInt32 = 0
            var modifiedSeconds: Int = 0
            var modifiedNanoseconds: Int = 0
            /// The errno when the path could not be read.
            var failure: Int32 = 0
        }

        private var entries: [Entry] = []

        /// Takes the fingerprint of `directory` now; `maxFiles` bounds the walk (the load
        /// refuses more files than that anyway).
        public init(directory: String, maxFiles: Int = ManifestLimits.default.maxFiles) {
            var info = stat()
            guard stat(directory, &info) == 0 else {
                entries = [Entry(path: "", failure: errno)]
                return
            }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                entries = [Entry(path: "", failure: ENOTDIR)]
                return
            }
            ManifestDirectoryWalk.walk(directory, maxFiles: maxFiles) { entry in
                switch entry {
                case .manifest(let relative, _, let info):
                    entries.append(Entry(path: relative, device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                                         size: Int64(info.st_size), mode: UInt32(info.st_mode),
                                         modifiedSeconds: Int(info.st_mtim.tv_sec),
                                         modifiedNanoseconds: Int(info.st_mtim.tv_nsec)))
                case .unreadableManifest(let relative, let code):
                    entries.append(Entry(path: relative, failure: code))
                case .unreadableDirectory(let relative, let code):
                    entries.append(Entry(path: relative + "/", failure: code))
                case .tooDeep(let relative):
                    entries.append(Entry(path: relative + "/", failure: ELOOP))
                }
            }
        }
    }
}
