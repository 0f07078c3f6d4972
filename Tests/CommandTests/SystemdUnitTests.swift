import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import SwitchyardSubprocess
import SwitchyardTestSupport
#endif

/// What runs the daemon on a node: `make install` into a temporary root, `systemd-analyze verify`
/// on the units it installed; sd_notify from a running daemon to a datagram socket the test
/// binds (READY, WATCHDOG, RELOADING, STOPPING, each from the main PID); and the certificate
/// renewal script the timer runs.
@Suite("systemd: units, install, sd_notify, renewal", .dedicatedThread)
struct SystemdUnitTests {
    static let units = ["switchyard.service", "switchyard-certs.service", "switchyard-certs.timer"]

    // MARK: - make install, systemd-analyze verify

    /// `make install DESTDIR=root SKIP_BUILD=1 BINARY=<the binary under test>`, or uninstall.
    static func make(_ target: String, root: URL) throws -> CommandResult {
        try CommandResult.run("/usr/bin/make", [
            "--no-print-directory", "-C", Switchyard.root.path, target, "DESTDIR=\(root.path)", "SKIP_BUILD=1",
            "BINARY=\(Switchyard.binary.path)", "NODE_NAME=test-node",
        ])
    }

    /// A temporary root holding what `make install` put there and the pieces of the system the
    /// units refer to that are not ours: `/bin/kill` (ExecReload) and systemd's targets.
    static func installedRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sy-install-\(UUID().uuidString)")
        let installed = try make("install", root: root)
        #expect(installed.status == 0, "make install: \(installed.stdout)\(installed.stderr)")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("bin").path, withDestinationPath: "usr/bin")
        try fm.copyItem(atPath: "/usr/bin/kill", toPath: root.appendingPathComponent("usr/bin/kill").path)
        let targets = root.appendingPathComponent("usr/lib/systemd/system")
        try fm.createDirectory(at: targets, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: "/lib/systemd/system") where name.hasSuffix(".target") {
            let source = "/lib/systemd/system/" + name
            guard (try? fm.destinationOfSymbolicLink(atPath: source)) == nil else { continue }
            try fm.copyItem(atPath: source, toPath: targets.appendingPathComponent(name).path)
        }
        return root
    }

    /// `systemd-analyze verify --root=root /etc/systemd/system/<unit>`. Unknown keys and values
    /// that do not parse are only warnings (exit 0), so a clean unit is one with no output at all.
    static func verify(_ unit: String, root: URL) throws -> CommandResult {
        try CommandResult.run("/usr/bin/systemd-analyze",
                                   ["verify", "--root=\(root.path)", "/etc/systemd/system/\(unit)"])
    }

    @Test("make install puts the binary, units, script, docs and a default config in DESTDIR; every unit verifies")
    func installAndVerify() throws {
        let root = try Self.installedRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        for path in ["usr/local/bin/switchyard", "usr/local/libexec/switchyard/switchyard-renew-certs"] {
            #expect(fm.isExecutableFile(atPath: root.appendingPathComponent(path).path), "\(path)")
        }
        for path in ["usr/local/share/doc/switchyard/operations.md", "var/lib/switchyard/identities", "etc/switchyard/manifests"]
            + Self.units.map({ "etc/systemd/system/" + $0 }) {
            #expect(fm.fileExists(atPath: root.appendingPathComponent(path).path), "\(path)")
        }
        let config = try String(contentsOf: root.appendingPathComponent("etc/switchyard/switchyard.yaml"), encoding: .utf8)
        #expect(config.contains("\nnode: test-node\n"))
        #expect(!config.contains("@NODE@"))

        for unit in Self.units {
            let result = try Self.verify(unit, root: root)
            #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty,
                    "systemd-analyze verify \(unit): \(result.stdout)\(result.stderr)")
        }

        // The default config is settings `switchyard run` accepts as they are.
        let settings = try Switchyard.run(["run", "--print-settings", "--config",
                                           root.appendingPathComponent("etc/switchyard/switchyard.yaml").path], environment: [:])
        #expect(settings.status == 0, "\(settings.stderr)")
        #expect(settings.stdout.contains(#""user":{"value":"switchyard","source":"file"}"#), "\(settings.stdout)")
    }

    @Test("a unit with a typo fails the check")
    func verifyCatchesTypos() throws {
        let root = try Self.installedRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let unit = root.appendingPathComponent("etc/systemd/system/switchyard.service")
        let good = try String(contentsOf: unit, encoding: .utf8)
        let typos = [
            ("NoNewPrivileges=yes", "NoNewPrivilege=yes"),
            ("ProtectSystem=strict", "ProtectSystem=strikt"),
            ("Type=notify", "Type=notifyy"),
            ("ExecStart=/usr/local/bin/switchyard run", "ExecStart=/usr/local/bin/switchyardd run"),
        ]
        for (right, wrong) in typos {
            #expect(good.contains(right))
            try good.replacingOccurrences(of: right, with: wrong).write(to: unit, atomically: true, encoding: .utf8)
            let result = try Self.verify("switchyard.service", root: root)
            #expect(result.status != 0 || !result.stderr.isEmpty, "\(wrong) went unnoticed")
        }
    }

    @Test("make install keeps an edited config; make uninstall removes what install put, not the config")
    func reinstallAndUninstall() throws {
        let root = try Self.installedRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("etc/switchyard/switchyard.yaml")
        try "node: edited\nmanifests: /etc/switchyard/manifests\n".write(to: config, atomically: true, encoding: .utf8)
        let again = try Self.make("install", root: root)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOf: config, encoding: .utf8).hasPrefix("node: edited"))

        let removed = try Self.make("uninstall", root: root)
        #expect(removed.status == 0, "\(removed.stderr)")
        let fm = FileManager.default
        for path in ["usr/local/bin/switchyard", "usr/local/libexec/switchyard/switchyard-renew-certs"]
            + Self.units.map({ "etc/systemd/system/" + $0 }) {
            #expect(!fm.fileExists(atPath: root.appendingPathComponent(path).path), "\(path)")
        }
        #expect(fm.fileExists(atPath: config.path))
    }

    // MARK: - sd_notify from a running daemon

    /// An `AF_UNIX` `SOCK_DGRAM` socket standing in for systemd's notification socket, with
    /// `SO_PASSCRED` so that each datagram comes with its sender's PID.
    final class NotifySocket {
        let path: String
        private let fd: Int32

        init() throws {
            path = "/tmp/sy-notify-\(UUID().uuidString.prefix(8)).sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw NotifyError(description: "socket: errno \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw NotifyError(description: "bind \(path): errno \(errno)") }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size))
        }

        deinit {
            close(fd)
            unlink(path)
        }

        /// The next datagram and its sender's PID, or nil when none comes within `seconds`.
        func receive(within seconds: Double) -> (message: String, pid: Int32)? {
            var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            var control = [UInt8](repeating: 0, count: 64)
            return buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var header = msghdr()
                        header.msg_iov = vectorPointer
                        header.msg_iovlen = 1
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = controlBytes.count
                        let count = recvmsg(fd, &header, 0)
                        guard count >= 0 else { return nil }
                        var pid: Int32 = -1
                        // One SCM_CREDENTIALS (2) message: cmsghdr, then struct ucred {pid, uid, gid}
                        // (both hidden behind _GNU_SOURCE in Glibc's module).
                        let cmsg = controlBytes.load(as: cmsghdr.self)
                        if header.msg_controllen >= MemoryLayout<cmsghdr>.size, cmsg.cmsg_level == SOL_SOCKET, cmsg.cmsg_type == 2 {
                            pid = controlBytes.load(fromByteOffset: MemoryLayout<cmsghdr>.size, as: Int32.self)
                        }
                        return (String(decoding: data.prefix(count), as: UTF8.self), pid)
                    }
                }
            }
        }

        /// Datagrams until one satisfies `match` (within `seconds` in all); nil if none did.
        func receive(until match: (String) -> Bool, within seconds: Double,
                     seen: inout [(message: String, pid: Int32)]) -> (message: String, pid: Int32)? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let datagram = receive(within: max(0.01, deadline.timeIntervalSinceNow)) else { return nil }
                seen.append(datagram)
                if match(datagram.message) { return datagram }
            }
            return nil
        }

        struct NotifyError: Error, CustomStringConvertible { var description: String }
    }

    /// `switchyard run` over a RunCommandTests world through `/bin/sh -c` (so that `prelude` can
    /// set variables to the PID the daemon will have), with `NOTIFY_SOCKET` and `environment`.
    final class NotifiedDaemon {
        let process: SpawnedProcess

        init(world: URL, socket: NotifySocket, environment: [String: String], prelude: String = "") throws {
            let merged = ProcessInfo.processInfo.environment
                .filter { !$0.key.hasPrefix("SWITCHYARD_") && !$0.key.hasPrefix("WATCHDOG_") && $0.key != "NOTIFY_SOCKET" }
                .merging(RunCommandTests.environment) { $1 }
                .merging(["NOTIFY_SOCKET": socket.path]) { $1 }
                .merging(environment) { $1 }
            process = try SpawnedProcess(["/bin/sh", "-c", prelude + #"exec "$0" "$@""#, Switchyard.binary.path] + RunCommandTests.arguments(world),
                                         label: "switchyard", environment: merged, outputDirectory: world)
        }

        var pid: Int32 { process.pid }
        var stderr: String { process.stderr }

        /// Waits (60 s at most) for it to exit; its exit status (-1: still running).
        func waitForExit() -> Int32 {
            _ = process.waitForExitBlocking(timeout: 60)
            return process.exitStatus ?? -1
        }

        func stop() { process.kill() }
    }

    @Test("READY=1 once serving, WATCHDOG=1 every WATCHDOG_USEC/2, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1; all from the main PID",
          .timeLimit(.minutes(3)))
    func notifications() throws {
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let socket = try NotifySocket()
        let daemon = try NotifiedDaemon(world: world, socket: socket, environment: ["WATCHDOG_USEC": "200000"])
        defer { daemon.stop() }
        var seen: [(message: String, pid: Int32)] = []

        let ready = socket.receive(until: { _ in true }, within: 20, seen: &seen)
        #expect(ready?.message.hasPrefix("READY=1\nSTATUS=serving outbound 127.0.0.1:") == true, "\(seen) \(daemon.stderr)")

        // 200 ms watchdog: a ping every 100 ms, so at least five in a second.
        let start = Date()
        var pings = 0
        while Date().timeIntervalSince(start) < 1, let datagram = socket.receive(within: 1) {
            seen.append(datagram)
            if datagram.message == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings >= 5, "WATCHDOG=1 \(pings) times in a second: \(seen.map(\.message))\n\(daemon.stderr)")
        #expect(pings <= 15)

        kill(daemon.pid, SIGHUP)
        let reloading = socket.receive(until: { $0 != "WATCHDOG=1" }, within: 10, seen: &seen)
        #expect(reloading?.message.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(seen.map(\.message))")
        let reloaded = socket.receive(until: { $0 != "WATCHDOG=1" }, within: 10, seen: &seen)
        #expect(reloaded?.message == "READY=1", "\(seen.map(\.message))")

        kill(daemon.pid, SIGTERM)
        let stopping = socket.receive(until: { $0 != "WATCHDOG=1" }, within: 10, seen: &seen)
        #expect(stopping?.message == "STOPPING=1", "\(seen.map(\.message))")
        #expect(daemon.waitForExit() == 0, "\(daemon.stderr)")

        // NotifyAccess=main: systemd accepts only the main PID's messages; after the re-exec
        // that drops privileges it is still the PID systemd started.
        for datagram in seen { #expect(datagram.pid == daemon.pid, "\(datagram.message) from pid \(datagram.pid)") }
    }

    @Test("WATCHDOG_PID per sd_watchdog_enabled(3): pings when unset or this PID, none for another PID or without WATCHDOG_USEC",
          .timeLimit(.minutes(3)),
          arguments: [
            ("WATCHDOG_PID unset", ["WATCHDOG_USEC": "200000"], "", true),
            ("WATCHDOG_PID this pid", ["WATCHDOG_USEC": "200000"], "WATCHDOG_PID=$$; export WATCHDOG_PID; ", true),
            ("WATCHDOG_PID another pid", ["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"], "", false),
            ("no WATCHDOG_USEC", [:], "", false),
          ])
    func watchdogPIDRules(rule: String, environment: [String: String], prelude: String, pings: Bool) throws {
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let socket = try NotifySocket()
        let daemon = try NotifiedDaemon(world: world, socket: socket, environment: environment, prelude: prelude)
        defer { daemon.stop() }
        var seen: [(message: String, pid: Int32)] = []
        let ready = socket.receive(until: { $0.hasPrefix("READY=1") }, within: 20, seen: &seen)
        #expect(ready != nil, "\(rule): \(daemon.stderr)")
        let ping = socket.receive(until: { $0 == "WATCHDOG=1" }, within: 0.8, seen: &seen)
        #expect((ping != nil) == pings, "\(rule): \(seen.map(\.message))")
        kill(daemon.pid, SIGTERM)
        _ = daemon.waitForExit()
    }

    // MARK: - switchyard-renew-certs

    static let identity = "default.test.serviceaccount.identity.linkerd.cluster.local"

    /// `openssl x509 -noout -<what>` of a certificate file.
    static func x509(_ path: String, _ what: String) throws -> String {
        try CommandResult.run("/usr/bin/openssl", ["x509", "-in", path, "-noout", "-" + what]).stdout
    }

    static func renew(_ world: URL, _ extra: [String]) throws -> CommandResult {
        try CommandResult.run(Switchyard.root.appendingPathComponent("systemd/switchyard-renew-certs").path, [
            "--ca", world.appendingPathComponent("ca").path, "--identity-dir", world.appendingPathComponent("ids").path,
            "--switchyard", Switchyard.binary.path,
        ] + extra)
    }

    @Test("the renewal script re-issues a certificate that expires within --renew-before, keeping owner and mode, and leaves the others",
          .timeLimit(.minutes(3)))
    func renewal() throws {
        let world = try RunCommandTests.world(identity: false)
        defer { try? FileManager.default.removeItem(at: world) }
        let dir = world.appendingPathComponent("ids/test/default")
        let issued = try Switchyard.run(["certs", "issue", "--ca", world.appendingPathComponent("ca").path,
                                         "--identity", Self.identity, "--ttl", "2m", "--out", dir.path])
        #expect(issued.status == 0, "\(issued.stderr)")
        let crt = dir.appendingPathComponent("tls.crt").path, key = dir.appendingPathComponent("tls.key").path
        // As an operator would leave it for the daemon's user: key readable by the group.
        #expect(chown(key, 65534, 65534) == 0 && chmod(key, 0o640) == 0)
        let serial = try Self.x509(crt, "serial")

        // Valid for two more minutes: not due with a one-minute window.
        let early = try Self.renew(world, ["--renew-before", "1m"])
        #expect(early.status == 0, "\(early.stdout)\(early.stderr)")
        #expect(early.stdout.contains("1 certificate(s) checked"), "\(early.stdout)")
        #expect(try Self.x509(crt, "serial") == serial)

        // Due within an hour: re-issued for --ttl.
        let due = try Self.renew(world, ["--renew-before", "1h", "--ttl", "3h"])
        #expect(due.status == 0, "\(due.stdout)\(due.stderr)")
        #expect(due.stdout.contains("\(Self.identity): expires"), "\(due.stdout)")
        let renewed = try Self.x509(crt, "serial")
        #expect(!renewed.isEmpty && renewed != serial)
        let san = try CommandResult.run("/usr/bin/openssl", ["x509", "-in", crt, "-noout", "-ext", "subjectAltName"]).stdout
        #expect(san.contains("DNS:\(Self.identity)"), "\(san)")
        let checkend = try CommandResult.run("/usr/bin/openssl", ["x509", "-in", crt, "-noout", "-checkend", "7000"])
        #expect(checkend.status == 0, "valid for about three hours")
        let certificateKey = try CommandResult.run("/usr/bin/openssl", ["x509", "-in", crt, "-noout", "-pubkey"]).stdout
        let keyFile = try CommandResult.run("/usr/bin/openssl", ["pkey", "-in", key, "-pubout"]).stdout
        #expect(!certificateKey.isEmpty && certificateKey == keyFile, "tls.key matches tls.crt")
        var st = stat()
        #expect(stat(key, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534 && st.st_mode & 0o777 == 0o640)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: world.appendingPathComponent("ids").path)
        #expect(leftovers == ["test"], "no staging directory left: \(leftovers)")
    }

    @Test("the renewal script reports a failed re-issue with status 1 and leaves the certificate in place; bad usage is status 2")
    func renewalFailures() throws {
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        let crt = world.appendingPathComponent("ids/test/default/tls.crt").path
        let serial = try Self.x509(crt, "serial")
        let failed = try CommandResult.run(Switchyard.root.appendingPathComponent("systemd/switchyard-renew-certs").path, [
            "--ca", "/nonexistent/sy-ca", "--identity-dir", world.appendingPathComponent("ids").path,
            "--switchyard", Switchyard.binary.path, "--renew-before", "48h",
        ])
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("\(Self.identity): re-issuing failed"), "\(failed.stderr)")
        #expect(try Self.x509(crt, "serial") == serial)
        #expect(try FileManager.default.contentsOfDirectory(atPath: world.appendingPathComponent("ids").path) == ["test"])

        let dry = try Self.renew(world, ["--renew-before", "48h", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("re-issuing"), "\(dry.stdout)\(dry.stderr)")
        #expect(try Self.x509(crt, "serial") == serial)

        for bad in [["--renew-before", "1.5h"], ["--renew-before"], ["--bogus"]] {
            #expect(try Self.renew(world, bad).status == 2, "\(bad)")
        }
    }
}
