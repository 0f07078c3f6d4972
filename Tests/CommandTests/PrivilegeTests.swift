import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import SwitchyardTestSupport
#endif

/// `switchyard run` started as root becomes the `--user` account, keeps only the capabilities
/// its settings need and sets no_new_privs, in every thread: read from `/proc/PID/status` (and
/// each `/proc/PID/task/TID/status`) of the running daemon. Needs root (CI runs as root).
@Suite("switchyard run: least privilege", .serialized, .dedicatedThread)
struct PrivilegeTests {
    /// `cap_net_admin` is capability 12.
    static let netAdmin = "0000000000001000"
    static let none = "0000000000000000"

    /// A system user to run the daemon as: `switchyard` when the machine has it, else a
    /// throwaway one made with useradd and removed again with userdel.
    final class TestUser {
        let name: String
        let uid: UInt32
        let gid: UInt32
        private let created: Bool

        init() throws {
            if let existing = Self.lookUp("switchyard") {
                (name, uid, gid, created) = ("switchyard", existing.uid, existing.gid, false)
                return
            }
            let name = "sy-priv-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let made = try CommandResult.run("/usr/sbin/useradd", ["--system", "--user-group", "--no-create-home",
                                                                        "--shell", "/usr/sbin/nologin", name])
            guard made.status == 0, let account = Self.lookUp(name) else {
                throw TestUserError(description: "useradd \(name) failed: \(made.stderr)")
            }
            (self.name, uid, gid, created) = (name, account.uid, account.gid, true)
        }

        deinit {
            if created { _ = try? CommandResult.run("/usr/sbin/userdel", [name]) }
        }

        private static func lookUp(_ name: String) -> (uid: UInt32, gid: UInt32)? {
            guard let entry = getpwnam(name) else { return nil }
            return (entry.pointee.pw_uid, entry.pointee.pw_gid)
        }

        struct TestUserError: Error, CustomStringConvertible { var description: String }
    }

    /// RunCommandTests' world (manifests, CA, the identity of test/default), owned by `user`
    /// so that it can read the key and the trust bundle.
    static func world(for user: TestUser) throws -> URL {
        let world = try RunCommandTests.world()
        let owned = try CommandResult.run("/bin/chown", ["-R", "\(user.uid):\(user.gid)", world.path])
        #expect(owned.status == 0, "\(owned.stderr)")
        return world
    }

    /// The `Key:\tvalue` lines of a status file, by key (values with their tabs).
    static func status(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The status of every thread of `pid`.
    static func threadStatuses(_ pid: Int32) throws -> [[String: String]] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return try tasks.map { try status("/proc/\(pid)/task/\($0)/status") }
    }

    /// Runs the daemon over `world` with `extra` arguments until /ready; checks that the process
    /// and every one of its threads run as `uid` with `capabilities` effective and permitted, and
    /// no_new_privs; then stops it with SIGTERM (exit 0). Returns its standard error.
    @discardableResult
    static func expectRunning(_ world: URL, _ extra: [String], uid: UInt32, capabilities: String,
                              bounding: String? = nil) throws -> String {
        let daemon = try RunCommandTests.Daemon(RunCommandTests.arguments(world) + extra)
        defer { daemon.stop() }
        let admin = try daemon.waitForAdmin()
        #expect(try RunCommandTests.eventually { try RunCommandTests.get(admin, "/ready") == "ready\n" },
                "the identity files are readable by the user: \(daemon.stderr)")

        let process = try status("/proc/\(daemon.pid)/status")
        let ids = Array(repeating: String(uid), count: 4).joined(separator: "\t")
        #expect(process["Uid"] == ids)
        #expect(process["CapEff"] == capabilities)
        #expect(process["CapPrm"] == capabilities)
        #expect(process["CapAmb"] == capabilities)
        #expect(process["NoNewPrivs"] == "1")
        if let bounding { #expect(process["CapBnd"] == bounding) }
        let threads = try threadStatuses(daemon.pid)
        #expect(threads.count > 1, "the event loops are threads of their own")
        for thread in threads {
            #expect(thread["Uid"] == ids, "thread \(thread["Pid"] ?? "?")")
            #expect(thread["CapEff"] == capabilities, "thread \(thread["Pid"] ?? "?")")
            #expect(thread["CapPrm"] == capabilities, "thread \(thread["Pid"] ?? "?")")
            #expect(thread["NoNewPrivs"] == "1", "thread \(thread["Pid"] ?? "?")")
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        return daemon.stderr
    }

    @Test("node mode without --ingress-mode: the user's uid, cap_net_admin only, no_new_privs, same PID",
          .timeLimit(.minutes(3)))
    func nodeModeKeepsNetAdmin() throws {
        try #require(geteuid() == 0, "the privilege tests start the daemon as root")
        let user = try TestUser()
        let world = try Self.world(for: user)
        defer { try? FileManager.default.removeItem(at: world) }
        let log = try Self.expectRunning(world, ["--user", user.name], uid: user.uid, capabilities: Self.netAdmin,
                                         bounding: Self.netAdmin)
        #expect(log.contains("running as uid \(user.uid) (\(user.name)), capabilities: cap_net_admin"), "\(log)")
        #expect(!log.contains("warning"), "\(log)")
    }

    @Test("--ingress-mode needs no capability at all", .timeLimit(.minutes(3)))
    func ingressModeKeepsNothing() throws {
        try #require(geteuid() == 0, "the privilege tests start the daemon as root")
        let user = try TestUser()
        let world = try Self.world(for: user)
        defer { try? FileManager.default.removeItem(at: world) }
        let log = try Self.expectRunning(world, ["--user", user.name, "--ingress-mode"], uid: user.uid,
                                         capabilities: Self.none, bounding: Self.none)
        #expect(log.contains("running as uid \(user.uid) (\(user.name)), capabilities: none"), "\(log)")
    }

    @Test("--user root stays root, still with cap_net_admin only", .timeLimit(.minutes(3)))
    func rootStaysRoot() throws {
        try #require(geteuid() == 0, "the privilege tests start the daemon as root")
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let log = try Self.expectRunning(world, ["--user", "root"], uid: 0, capabilities: Self.netAdmin, bounding: Self.netAdmin)
        #expect(log.contains("running as uid 0 (root), capabilities: cap_net_admin"), "\(log)")
    }

    @Test("a key the user cannot read stops the start, naming the file and the user")
    func unreadableKey() throws {
        try #require(geteuid() == 0, "the privilege tests start the daemon as root")
        let user = try TestUser()
        let world = try Self.world(for: user)
        defer { try? FileManager.default.removeItem(at: world) }
        let key = world.appendingPathComponent("ids/test/default/tls.key").path
        #expect(chown(key, 0, 0) == 0)  // as `certs issue` run by root leaves it: root's, mode 0600
        let result = try Switchyard.run(RunCommandTests.arguments(world) + ["--user", user.name],
                                        environment: RunCommandTests.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: \(key) (--identity-dir): file not readable by user \(user.name) (uid \(user.uid))"),
                "\(result.stderr)")

        // A directory the user cannot search is named too.
        #expect(chown(key, user.uid, user.gid) == 0)
        let ca = world.appendingPathComponent("ca")
        #expect(chown(ca.path, 0, 0) == 0 && chmod(ca.path, 0o700) == 0)
        let hidden = try Switchyard.run(RunCommandTests.arguments(world) + ["--user", user.name],
                                        environment: RunCommandTests.environment)
        #expect(hidden.status == 1)
        #expect(hidden.stderr.contains("error: \(ca.path)/trust-bundle.pem (--trust-bundle): a directory above it cannot be searched by user \(user.name)"),
                "\(hidden.stderr)")
    }

    @Test("a user that does not exist stops the start, naming it")
    func missingUser() throws {
        try #require(geteuid() == 0, "the privilege tests start the daemon as root")
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let result = try Switchyard.run(RunCommandTests.arguments(world),
                                        environment: RunCommandTests.environment.merging(["SWITCHYARD_USER": "sy-no-such-user"]) { $1 })
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"error: SWITCHYARD_USER "sy-no-such-user": no such user"#), "\(result.stderr)")
    }
}
