#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process of the integration tests, started with `posix_spawn` and waited for with
/// `waitpid` (`ChildProcess` and `DemoWorld` use it).
///
/// Not Foundation's `Process`: that one learns a child ended from EOF
/// on a socket the child inherits, so it also waits for whatever inherited that socket, such as
/// the daemons `demo/world.sh` leaves running, or a process another test started at the same
/// moment. Here the child gets standard input from /dev/null, standard output and error in
/// files, no other descriptor of ours, and default handling of the signals the world's scripts
/// rely on (SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE), unblocked.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    let label: String
    let stdoutURL: URL
    let stderrURL: URL
    private let lock = NSLock()
    private var status: Int32?  // guarded by lock: the raw wait status once reaped

    /// Starts `arguments` (`arguments[0]` an absolute path); output goes to
    /// `<outputDir>/<label>-<n>.{out,err}`. `environment`: the child's whole environment (nil:
    /// this process's); `directory`: its working directory (nil: ours).
    init(_ arguments: [String], outputDir: URL, label: String, environment: [String: String]? = nil,
         directory: String? = nil) throws {
        self.label = label
        let stem = "\(label)-\(UUID().uuidString.prefix(8))"
        stdoutURL = outputDir.appendingPathComponent("\(stem).out")
        stderrURL = outputDir.appendingPathComponent("\(stem).err")
        let out = open(stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let err = open(stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer {
            if out >= 0 { close(out) }
            if err >= 0 { close(err) }
        }
        guard out >= 0, err >= 0 else { throw ChildProcessError(description: "\(label): cannot create its output files in \(outputDir.path)") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, err, 2)
        _ = Self.closeFrom3?(&actions, 3)
        if let directory { _ = Self.changeDirectory?(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        let result = envp.map { posix_spawn(&child, arguments[0], &actions, &attributes, argv, $0) }
            ?? posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw ChildProcessError(description: "\(label): posix_spawn \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which Swift does not import
    /// (it is declared for _GNU_SOURCE only); nil where the C library lacks it.
    private static let closeFrom3: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        // nil: RTLD_DEFAULT.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29), looked up the same way.
    private static let changeDirectory: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// Whether it ended by calling exit (not by a signal); false while it runs.
    var exitedNormally: Bool {
        guard reap() else { return false }
        return lock.withLock { status.map { $0 & 0x7f == 0 } ?? false }
    }

    /// Reaps the child if it ended; true when it has.
    private func reap() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return true }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            status = raw
            return true
        }
        return result < 0  // ECHILD: nothing left to wait for
    }

    var isRunning: Bool { !reap() }

    /// The exit status, or 128 + the signal that ended it; nil while it runs.
    var exitStatus: Int32? {
        guard reap() else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let raw = status else { return -1 }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    var stdout: String { Self.text(stdoutURL) }
    var stderr: String { Self.text(stderrURL) }

    private static func text(_ url: URL) -> String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }

    func signal(_ signal: Int32) {
        if isRunning { Glibc.kill(pid, signal) }
    }

    /// Waits until it has ended; false when `timeout` seconds passed first.
    func waitForExit(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// The same, blocking the thread (for teardown in a `defer`).
    func waitForExitBlocking(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// SIGKILL, then reaps it.
    func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitForExitBlocking(timeout: 10)
    }

    /// The finished command's status and output; removes the output files.
    func result() -> CommandResult {
        let result = CommandResult(status: exitStatus ?? -1, stdout: stdout, stderr: stderr)
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
        return result
    }

    /// Runs `arguments` to completion; kills it and throws after `timeout` seconds.
    static func run(_ arguments: [String], outputDir: URL, label: String, timeout: Double = 20) async throws -> CommandResult {
        let child = try SpawnedProcess(arguments, outputDir: outputDir, label: label)
        guard await child.waitForExit(timeout: timeout) else {
            child.kill()
            throw ChildProcessError(description: "\(label) did not finish in \(timeout) s: \(arguments.joined(separator: " "))\n\(child.stderr)")
        }
        return child.result()
    }
}
