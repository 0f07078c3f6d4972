import ArgumentParser
import Foundation
import SwitchyardInterception

#if canImport(Glibc)
import Glibc
#endif

/// Least privilege for `switchyard run`: after the settings are read and before anything else
/// starts, the daemon becomes the `user` setting's account (when started as root), keeps only
/// the capabilities its settings need (`requiredCapabilities`) and sets no_new_privs.
///
/// Capabilities and no_new_privs are per thread, and by now the Swift runtime has threads of
/// its own (later ones, such as the event loops, copy whichever thread creates them). So the
/// drop is applied to the current thread and the process then re-executes itself
/// (`/proc/self/exe`, same arguments, same PID): every thread of the new image starts from
/// those credentials. `SWITCHYARD_PRIVILEGES_DROPPED=<uid>` tells the new image it is done;
/// it checks the result rather than trusting the variable. docs/operations.md has the story.
extension RunCommand {
    /// Set in the re-executed image's environment: the uid it must be running as.
    static let privilegesDroppedVariable = "SWITCHYARD_PRIVILEGES_DROPPED"

    /// What the daemon runs with, for the start-up log.
    struct PrivilegeReport: CustomStringConvertible {
        var uid: uid_t
        var userName: String?
        var capabilities: CapabilitySet
        /// Capabilities the settings need but the process does not hold, or holds beyond them.
        var warnings: [String]

        /// `running as uid 998 (switchyard), capabilities: cap_net_admin`.
        var description: String {
            "running as uid \(uid) (\(userName ?? "no name")), capabilities: \(capabilities)"
        }
    }

    /// The capabilities the daemon still needs once started: `CAP_NET_ADMIN` to set `SO_MARK`
    /// on upstream sockets (node mode without `--ingress-mode`; the same mark lets the redirect
    /// rules be re-applied), `CAP_NET_BIND_SERVICE` when a listener's port is below 1024.
    static func requiredCapabilities(_ settings: RunSettings) -> CapabilitySet {
        var needed: CapabilitySet = []
        let configuration = settings.proxyConfiguration
        if configuration.mode == .node, !configuration.ingressMode, configuration.upstreamSocketMark != nil {
            needed.insert(.netAdmin)
        }
        if settings.manageRedirect {
            // iptables-restore (run with the daemon's ambient capabilities): the nft backend
            // needs CAP_NET_ADMIN, the legacy one also CAP_NET_RAW.
            needed.insert(.netAdmin)
            needed.insert(.netRaw)
        }
        let ports = [settings.outboundListen.port, settings.inboundListen.port, settings.adminListen.port]
        if ports.contains(where: { (1..<1024).contains($0) }) { needed.insert(.netBindService) }
        return needed
    }

    /// Removes the marker from `environment` (so it is not taken for a setting) and from the
    /// process's (so commands the daemon runs do not inherit it); the uid it names, if any.
    static func takePrivilegeMarker(from environment: inout [String: String]) -> uid_t? {
        guard let text = environment.removeValue(forKey: privilegesDroppedVariable) else { return nil }
        unsetenv(privilegesDroppedVariable)
        return uid_t(text) ?? uid_t.max
    }

    /// Drops privileges as described above and re-executes (does not return) when there is
    /// anything to drop; otherwise (nothing to drop, or this is the re-executed image) checks the
    /// result and returns what the daemon runs with. Every failure is printed and ends in `ExitCode(1)`.
    static func enterLeastPrivilege(_ settings: RunSettings, droppedTo marker: uid_t?) throws -> PrivilegeReport {
        let needed = requiredCapabilities(settings)
        do {
            if let marker {
                return try verifyDropped(settings, needed: needed, uid: marker)
            }
            let account = geteuid() == 0 && settings.user != "root" ? try account(settings) : nil
            let current = try ThreadCapabilities.current()
            let boundingReducible = current.effective.contains(.setPCap)
                && !current.bounding.isSubset(of: needed)
            if account == nil, current.held.isSubset(of: needed), current.noNewPrivileges, !boundingReducible {
                try checkReadable(settings)
                return report(needed: needed, current: current)
            }

            try PrivilegeDrop(account: account, keep: needed).apply()
            // Now this thread is what the daemon will be: the files must be readable as it.
            try checkReadable(settings)
            try reexecute(uid: getuid())
        } catch let failure as Failure {
            printError("error: \(failure.message)")
        } catch let error as PrivilegeError {
            printError("error: dropping privileges (\(describeUser(settings))): \(error)")
        }
        throw ExitCode(1)
    }

    /// The account named by the `user` setting; a missing one is a `Failure` saying what to do.
    private static func account(_ settings: RunSettings) throws -> PrivilegeDrop.Account {
        let result = Result { () throws(PrivilegeError) in try PrivilegeDrop.Account.named(settings.user) }
        if case .failure(.noSuchUser(let name)) = result {
            throw Failure("\(describeUser(settings)): no such user. Create it "
                + "(useradd --system --no-create-home --shell /usr/sbin/nologin \(name); make install does), "
                + "or run with --user root to stay root")
        }
        return try result.get()
    }

    /// `--user "switchyard"`, `SWITCHYARD_USER "x"`, `--user "switchyard" (the default)`: the setting
    /// as errors name it.
    private static func describeUser(_ settings: RunSettings) -> String {
        settings.sources[.user] ?? .default == .default
            ? "\(RunSettings.Setting.user.flag) \"\(settings.user)\" (the default)"
            : "\(settings.origin(of: .user)) \"\(settings.user)\""
    }

    /// A refusal worded for the user.
    private struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The re-executed image: the uid must be the one dropped to and no_new_privs set; held
    /// capabilities beyond those needed are reported (they can remain when root stays root
    /// without `CAP_SETPCAP` to shrink the bounding set).
    private static func verifyDropped(_ settings: RunSettings, needed: CapabilitySet, uid: uid_t) throws -> PrivilegeReport {
        guard getuid() == uid, geteuid() == uid else {
            throw Failure("privileges were to be dropped to uid \(uid) (\(privilegesDroppedVariable)), "
                + "but this process runs as uid \(getuid()) (effective \(geteuid()))")
        }
        let current = try ThreadCapabilities.current()
        guard current.noNewPrivileges else {
            throw Failure("privileges were dropped, but no_new_privs is not set after the re-execution")
        }
        return report(needed: needed, current: current)
    }

    private static func report(needed: CapabilitySet, current: ThreadCapabilities) -> PrivilegeReport {
        var warnings: [String] = []
        let missing = needed.subtracting(current.effective)
        if missing.contains(.netRaw) {
            warnings.append("capability cap_net_raw is not held: --manage-redirect cannot re-apply the rules with "
                + "iptables-legacy (grant it: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)")
        }
        if missing.contains(.netAdmin) {
            warnings.append("capability cap_net_admin is not held: setting SO_MARK on upstream sockets fails, so "
                + "upstream connections fail (run as root, or grant it: AmbientCapabilities=CAP_NET_ADMIN)")
        }
        if missing.contains(.netBindService) {
            warnings.append("capability cap_net_bind_service is not held: a listener below port 1024 cannot be bound")
        }
        let extra = current.held.subtracting(needed)
        if !extra.isEmpty { warnings.append("capabilities held beyond those needed: \(extra)") }
        let uid = geteuid()
        return PrivilegeReport(uid: uid, userName: PrivilegeDrop.Account.name(of: uid),
                               capabilities: current.effective, warnings: warnings)
    }

    /// Every file and directory the daemon reads must be readable with its current credentials
    /// (checked with `faccessat(AT_EACCESS)`): the settings file, the manifests directory, the
    /// trust bundle, the identity directory and each `<ns>/<sa>/{tls.crt,tls.key}` under it.
    /// Paths that do not exist are left to the parts that read them (their errors say so).
    private static func checkReadable(_ settings: RunSettings) throws {
        var paths: [(path: String, setting: String, directory: Bool)] = []
        if let file = settings.configFile, file != "/dev/null" {
            paths.append((file, RunSettings.Setting.configFlag, false))
        }
        paths.append((settings.manifests, settings.origin(of: .manifests), true))
        paths.append((settings.trustBundle, settings.origin(of: .trustBundle), false))
        let identities = settings.origin(of: .identityDir)
        paths.append((settings.identityDir, identities, true))
        let fm = FileManager.default
        for namespace in (try? fm.contentsOfDirectory(atPath: settings.identityDir)) ?? [] where !namespace.hasPrefix(".") {
            let nsPath = settings.identityDir + "/" + namespace
            paths.append((nsPath, identities, true))
            for account in (try? fm.contentsOfDirectory(atPath: nsPath)) ?? [] where !account.hasPrefix(".") {
                let dir = nsPath + "/" + account
                paths.append((dir, identities, true))
                paths += ["tls.crt", "tls.key"].map { (dir + "/" + $0, identities, false) }
            }
        }
        let who = "user \(PrivilegeDrop.Account.name(of: geteuid()) ?? "?") (uid \(geteuid()))"
        for (path, setting, directory) in paths {
            var st = stat()
            if stat(path, &st) != 0 {
                guard errno == EACCES else { continue }
                throw Failure("\(path) (\(setting)): a directory above it cannot be searched by \(who), the daemon's "
                    + "user after dropping privileges: give that user or its group search permission (chmod o+x or g+x)")
            }
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            if directory, !isDirectory { continue }
            let mode = isDirectory ? R_OK | X_OK : R_OK
            guard faccessat(AT_FDCWD, path, mode, AT_EACCESS) != 0 else { continue }
            let what = isDirectory ? "directory" : "file"
            throw Failure("\(path) (\(setting)): \(what) not readable by \(who), the daemon's user after dropping "
                + "privileges: give it to that user or its group (chown, chgrp and chmod g+r\(isDirectory ? "x" : ""))")
        }
    }

    /// Executes `/proc/self/exe` again with the same arguments and this environment plus the
    /// marker; returns only by throwing.
    private static func reexecute(uid: uid_t) throws -> Never {
        var environment = ProcessInfo.processInfo.environment.filter { $0.key != privilegesDroppedVariable }
        environment[privilegesDroppedVariable] = String(uid)
        let entries = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        fflush(nil)  // every stdio stream
        entries.withUnsafeBufferPointer { envp in
            _ = execve("/proc/self/exe", CommandLine.unsafeArgv, envp.baseAddress)
        }
        let error = errno
        for entry in entries { free(entry) }
        throw PrivilegeError.systemCall("execve(/proc/self/exe)", errno: error)
    }
}
