import Foundation
import Logging
import NIOConcurrencyHelpers

/// Where the credential store finds its files, and how it watches them.
public struct CredentialStoreConfiguration: Sendable {
    /// `<identityDirectory>/<namespace>/<serviceAccount>/{tls.crt,tls.key}`.
    public var identityDirectory: String
    /// PEM file of one or more trust anchors.
    public var trustBundlePath: String
    public var trustDomain: String
    /// How often the files are checked for changes (a change is used within about twice this).
    public var pollInterval: Duration
    /// A warning is logged once per certificate when less than this share of its lifetime remains.
    public var expiryWarningFraction: Double
    /// How the published TLS contexts are configured.
    public var tls: TLSConfiguration

    public init(identityDirectory: String, trustBundlePath: String, trustDomain: String = "cluster.local",
                pollInterval: Duration = .milliseconds(500), expiryWarningFraction: Double = 0.2,
                tls: TLSConfiguration = .default) {
        self.identityDirectory = identityDirectory
        self.trustBundlePath = trustBundlePath
        self.trustDomain = trustDomain
        self.pollInterval = pollInterval
        self.expiryWarningFraction = expiryWarningFraction
        self.tls = tls
    }
}

/// A running watch of the credential files; cancel it (or let it go) to stop.
/// (`@unchecked`: a Dispatch timer source is thread-safe to cancel; Dispatch does not say so in types.)
public final class CredentialWatch: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(timer: any DispatchSourceTimer) { self.timer = timer }

    public func cancel() { timer.cancel() }

    deinit { timer.cancel() }
}

/// What one refresh of the store found and did.
public struct CredentialRefresh: Sendable {
    /// A new snapshot was published.
    public var published = false
    public var trustBundleReplaced = false
    public var added: [String] = []
    public var replaced: [String] = []
    public var removed: [String] = []
    /// What was refused or dropped, and why (each also logged).
    public var problems: [CredentialProblem] = []
}

/// Loads the workload credentials this daemon presents and the trust bundle, watches the files,
/// and publishes a new `CredentialSnapshot` whenever something valid changes.
///
/// A replacement is checked whole before it is used (`CredentialChecker`); a bad one (half
/// written, mismatched key, expired, wrong SAN, not chaining to the bundle) is refused with a
/// logged error and the previous credential keeps serving. A new trust bundle is refused if a
/// served credential would not verify under it (rotate anchors by bundling old and new first).
/// Certificates that expire while served are withdrawn, never presented.
public final class CredentialStore: Sendable {
    public let configuration: CredentialStoreConfiguration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct Watched {
        var certificate: FileFingerprint?
        var key: FileFingerprint?
    }

    private struct State {
        var snapshot: CredentialSnapshot
        var bundleFingerprint: FileFingerprint?
        /// Fingerprints of the last attempt per identity (valid or not), so a bad file is
        /// reported once and retried when it changes again.
        var attempted: [String: Watched] = [:]
        /// Serial numbers already warned about.
        var warned: Set<String> = []
    }

    /// Loads everything once. Throws when the trust bundle cannot be used; identities whose
    /// files are bad are left out and logged (see `refresh()`'s problems).
    public init(configuration: CredentialStoreConfiguration, logger: Logger = Logger(label: "switchyard.credentials"),
                now: Date = Date()) throws {
        self.configuration = configuration
        self.logger = logger
        let fingerprint = FileFingerprint(path: configuration.trustBundlePath)
        let bundle = try Self.readBundle(configuration.trustBundlePath)
        let empty = try CredentialSnapshot(generation: 0, trustBundle: bundle, credentials: [:], configuration: configuration.tls)
        state = NIOLockedValueBox(State(snapshot: empty, bundleFingerprint: fingerprint))
        refresh(now: now)
    }

    /// The credentials in force now. Every new handshake reads this.
    public var current: CredentialSnapshot { state.withLockedValue { $0.snapshot } }

    /// Starts watching the files: a refresh every `pollInterval` on a Dispatch timer of its
    /// own, so that neither busy event loops nor a saturated Swift concurrency pool can delay a
    /// rotation. Watching stops when the returned handle is cancelled or released.
    public func watch() -> CredentialWatch {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "switchyard.credentials.watch", qos: .utility))
        let interval = configuration.pollInterval
        let nanoseconds = Int(interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
                       leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { [weak self] in self?.refresh() }
        timer.resume()
        return CredentialWatch(timer: timer)
    }

    /// Checks the files now and publishes a new snapshot if anything valid changed.
    @discardableResult
    public func refresh(now: Date = Date()) -> CredentialRefresh {
        let report = state.withLockedValue { state in refresh(&state, now: now) }
        for problem in report.problems { logger.error("credential refused: \(problem)") }
        if report.published {
            let snapshot = current
            logger.info("credentials published", metadata: [
                "generation": "\(snapshot.generation)", "identities": "\(snapshot.credentials.count)",
                "added": "\(report.added)", "replaced": "\(report.replaced)", "removed": "\(report.removed)",
                "trustBundleReplaced": "\(report.trustBundleReplaced)",
            ])
        }
        return report
    }

    // MARK: - The refresh itself, under the lock

    private func refresh(_ state: inout State, now: Date) -> CredentialRefresh {
        var report = CredentialRefresh()
        let old = state.snapshot

        // 1. The trust bundle, if its file changed.
        var bundle = old.trustBundle
        var newBundle: TrustBundle?
        let bundleFingerprint = FileFingerprint(path: configuration.trustBundlePath)
        if bundleFingerprint != state.bundleFingerprint {
            state.bundleFingerprint = bundleFingerprint
            do {
                newBundle = try Self.readBundle(configuration.trustBundlePath)
            } catch {
                report.problems.append(CredentialProblem(path: configuration.trustBundlePath,
                                                         message: "new trust bundle refused, the previous one stays: \(error)"))
            }
        }

        // 2. Which identity directories exist now, and which changed since the last attempt.
        let found = scanIdentities()
        var changed: [String: Watched] = [:]
        for (identity, watched) in found {
            let previous = state.attempted[identity]
            if previous?.certificate != watched.certificate || previous?.key != watched.key { changed[identity] = watched }
        }

        // 3. With a new bundle, everything served must still verify under it; otherwise refuse it.
        if let candidate = newBundle {
            let failing = old.credentials.values.filter { credential in
                changed[credential.identity] == nil && (try? candidate.verify(chain: credential.chain, at: now)) == nil
            }
            if failing.isEmpty {
                bundle = candidate
                report.trustBundleReplaced = true
            } else {
                report.problems.append(CredentialProblem(
                    path: configuration.trustBundlePath,
                    message: "new trust bundle refused: it does not verify \(failing.map(\.identity).sorted().joined(separator: ", ")); "
                        + "bundle the old and the new anchors first, re-issue, then remove the old"))
            }
        }

        // 4. Check changed pairs; keep what serves unless a valid replacement arrived.
        let checker = CredentialChecker(trustBundle: bundle)
        var credentials: [String: IdentityCredential] = [:]
        for (identity, watched) in found {
            guard let attempt = changed[identity] else {
                if let kept = old.credentials[identity] { credentials[identity] = kept }
                continue
            }
            state.attempted[identity] = attempt
            let result = readPair(identity: identity, checker: checker, now: now)
            switch result {
            case .success(let credential):
                credentials[identity] = credential
                if old.credentials[identity] == nil { report.added.append(identity) } else { report.replaced.append(identity) }
            case .failure(let problem):
                var p = problem
                if let kept = old.credentials[identity] {
                    credentials[identity] = kept
                    p.message += "; still serving serial \(kept.leaf.serialNumber)"
                }
                report.problems.append(p)
            }
        }
        for identity in old.credentials.keys where found[identity] == nil {
            report.removed.append(identity)
            state.attempted[identity] = nil
        }

        // 5. Time: withdraw what expired (or is not valid yet); warn before expiry, once per serial.
        for (identity, credential) in credentials {
            let leaf = credential.leaf
            if leaf.notAfter <= now || leaf.notBefore > now {
                credentials[identity] = nil
                report.removed.append(identity)
                report.problems.append(CredentialProblem(
                    path: identity, message: "certificate serial \(leaf.serialNumber) is \(leaf.notAfter <= now ? "expired" : "not valid yet") "
                        + "(valid \(leaf.notBefore) to \(leaf.notAfter)); withdrawn"))
                continue
            }
            let lifetime = leaf.notAfter.timeIntervalSince(leaf.notBefore)
            let remaining = leaf.notAfter.timeIntervalSince(now)
            if remaining < lifetime * configuration.expiryWarningFraction, state.warned.insert(leaf.serialNumber).inserted {
                logger.warning("certificate expires soon; re-issue it", metadata: [
                    "identity": "\(identity)", "serial": "\(leaf.serialNumber)", "notAfter": "\(leaf.notAfter)",
                    "remainingSeconds": "\(Int(remaining))",
                ])
            }
        }

        // 6. Publish when something changed.
        let sameCredentials = credentials.count == old.credentials.count && credentials.allSatisfy { identity, credential in
            old.credentials[identity].map { $0.leaf === credential.leaf } ?? false
        }
        if !sameCredentials || bundle !== old.trustBundle {
            do {
                state.snapshot = try CredentialSnapshot(generation: old.generation + 1, trustBundle: bundle,
                                                        credentials: credentials, configuration: configuration.tls)
                report.published = true
            } catch {
                // OpenSSL refused what the checker accepted: keep serving the previous snapshot.
                state.attempted = [:]
                report.problems.append(CredentialProblem(path: configuration.identityDirectory,
                                                         message: "TLS contexts could not be built, previous credentials stay: \(error)"))
            }
        }
        return report
    }

    /// `<identityDirectory>/<ns>/<sa>` directories holding a tls.crt or tls.key, by identity name.
    private func scanIdentities() -> [String: Watched] {
        var found: [String: Watched] = [:]
        let fm = FileManager.default
        let root = configuration.identityDirectory
        for namespace in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where !namespace.hasPrefix(".") {
            let nsPath = root + "/" + namespace
            for account in (try? fm.contentsOfDirectory(atPath: nsPath)) ?? [] where !account.hasPrefix(".") {
                let dir = nsPath + "/" + account
                let watched = Watched(certificate: FileFingerprint(path: dir + "/tls.crt"), key: FileFingerprint(path: dir + "/tls.key"))
                guard watched.certificate != nil || watched.key != nil else { continue }
                found[identityName(namespace: namespace, serviceAccount: account)] = watched
            }
        }
        return found
    }

    private func identityName(namespace: String, serviceAccount: String) -> String {
        "\(serviceAccount).\(namespace).serviceaccount.identity.linkerd.\(configuration.trustDomain)"
    }

    private func directory(of identity: String) -> String {
        let parts = identity.split(separator: ".", maxSplits: 2)
        return "\(configuration.identityDirectory)/\(parts[1])/\(parts[0])"
    }

    private func readPair(identity: String, checker: CredentialChecker, now: Date) -> Result<IdentityCredential, CredentialProblem> {
        let dir = directory(of: identity)
        guard let certificate = try? String(contentsOfFile: dir + "/tls.crt", encoding: .utf8) else {
            return .failure(CredentialProblem(path: dir + "/tls.crt", message: "missing or unreadable"))
        }
        guard let key = try? String(contentsOfFile: dir + "/tls.key", encoding: .utf8) else {
            return .failure(CredentialProblem(path: dir + "/tls.key", message: "missing or unreadable"))
        }
        return checker.check(identity: identity, certificatePEM: certificate, keyPEM: key, at: now)
            .mapError { CredentialProblem(path: dir, message: $0.message) }
    }

    private static func readBundle(_ path: String) throws -> TrustBundle {
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CredentialProblem(path: path, message: "trust bundle missing or unreadable")
        }
        do {
            return try TrustBundle(pem: pem)
        } catch {
            throw CredentialProblem(path: path, message: "trust bundle does not parse: \(error)")
        }
    }
}
