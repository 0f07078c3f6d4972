#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process started with `posix_spawn` and reaped with `waitpid`, its standard output
/// and standard error going to files.
///
/// Why not Foundation's `Process` (swift-corelibs-foundation on Linux): it creates its pipes
/// and the socket that tells it a child ended without close-on-exec, and closes the other
/// descriptors in the child from a list it made a moment before spawning. A process another
/// thread starts in between inherits them, and then reading a pipe to its end, or
/// `waitUntilExit()`, waits for that other process as well (a daemon started by a parallel
/// test waits for ever). It also needs a working 127.0.0.1 to learn that a child ended.
/// Here the child gets none of our descriptors (glibc's `closefrom` file action, and every
/// descriptor made here is close-on-exec), its output goes to files (no pipe to fill up),
/// and it is waited for by its PID alone.
public final class SpawnedProcess: @unchecked Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        /// /dev/null: it reads end of file at once.
        case none
        /// These bytes, from a file, then end of file.
        case text(String)
        /// A pipe this object holds open until `closeInput()` or the end (for programs that stop
        /// at end of input, like `openssl s_server`).
        case heldOpen
    }

    /// Where standard error goes.
    public enum ErrorOutput: Sendable {
        /// Its own file (`stderr`).
        case separate
        /// The same file as standard output (`stdout` holds both, interleaved as written).
        case merged
    }

    public let pid: pid_t
    public let label: String
    public let stdoutURL: URL
    public let stderrURL: URL
    private let inputFile: URL?
    private let lock = NSLock()
    private var status: Int32?  // guarded by lock: the raw wait status once reaped
    private var inputWriter: Int32  // guarded by lock: the held-open pipe's write end, or -1

    /// Starts `arguments` (`arguments[0]` a path; without a slash it is looked up in `PATH`).
    /// Output goes to `<outputDirectory>/<label>-<random>.{out,err}` (default: the temporary
    /// directory). `environment`: the child's whole environment (nil: this process's);
    /// `directory`: its working directory (nil: ours). Signals are unblocked and SIGINT,
    /// SIGTERM, SIGQUIT, SIGHUP and SIGPIPE have their default action in the child.
    public init(_ arguments: [String], label: String? = nil, environment: [String: String]? = nil,
                directory: String? = nil, input: Input = .none, errorOutput: ErrorOutput = .separate,
                outputDirectory: URL? = nil) throws {
        precondition(!arguments.isEmpty, "SpawnedProcess needs a program")
        let program = try Self.locate(arguments[0])
        let label = label ?? URL(fileURLWithPath: program).lastPathComponent
        self.label = label
        let directoryURL = outputDirectory ?? FileManager.default.temporaryDirectory
        let stem = "\(label)-\(UUID().uuidString.prefix(8))"
        stdoutURL = directoryURL.appendingPathComponent("\(stem).out")
        stderrURL = errorOutput == .merged ? stdoutURL : directoryURL.appendingPathComponent("\(stem).err")

        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        func openOrThrow(_ path: String, _ flags: Int32) throws -> Int32 {
            let fd = open(path, flags | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SubprocessError("\(label): cannot open \(path): \(String(cString: strerror(errno)))") }
            descriptors.append(fd)
            return fd
        }
        let out = try openOrThrow(stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC)
        let err = errorOutput == .merged ? out : try openOrThrow(stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC)

        var inputFile: URL?
        var writer: Int32 = -1
        let stdin: Int32
        switch input {
        case .none:
            stdin = try openOrThrow("/dev/null", O_RDONLY)
        case .text(let text):
            let url = directoryURL.appendingPathComponent("\(stem).in")
            try Data(text.utf8).write(to: url)
            inputFile = url
            stdin = try openOrThrow(url.path, O_RDONLY)
        case .heldOpen:
            var ends: [Int32] = [-1, -1]
            // pipe2 is not imported (_GNU_SOURCE); close-on-exec right after. Children started
            // here get none of our descriptors either way (closefrom).
            guard pipe(&ends) == 0 else { throw SubprocessError("\(label): pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            descriptors.append(ends[0])
            stdin = ends[0]
            writer = ends[1]
        }
        self.inputFile = inputFile

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, err, 2)
        _ = Self.closeFrom?(&actions, 3)
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

        let argv = [program] + arguments.dropFirst()
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let cEnvironment: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        var child: pid_t = 0
        let result = cEnvironment.map { posix_spawn(&child, program, &actions, &attributes, cArguments, $0) }
            ?? posix_spawn(&child, program, &actions, &attributes, cArguments, environ)
        guard result == 0 else {
            if writer >= 0 { close(writer) }
            if let inputFile { try? FileManager.default.removeItem(at: inputFile) }
            throw SubprocessError("\(label): cannot start \(program): \(String(cString: strerror(result)))")
        }
        pid = child
        inputWriter = writer
    }

    deinit {
        if inputWriter >= 0 { close(inputWriter) }
        if let inputFile { try? FileManager.default.removeItem(at: inputFile) }
    }

    /// The absolute path of `program`: as given when it has a slash, else the first executable
    /// of that name in `PATH` or the system directories.
    public static func locate(_ program: String) throws -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        let directories = path + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        for directory in directories {
            let candidate = directory + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SubprocessError("\(program): not found in \(directories.joined(separator: ":"))")
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which Swift does not import
    /// (it is declared for _GNU_SOURCE only); nil where the C library lacks it.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }  // nil: RTLD_DEFAULT
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29), looked up the same way.
    private static let changeDirectory: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// Reaps the child if it ended; true when it has.
    private func reap() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return true }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            status = raw
            if inputWriter >= 0 {
                close(inputWriter)
                inputWriter = -1
            }
            return true
        }
        return result < 0 && errno != EINTR  // ECHILD: nothing left to wait for
    }

    public var isRunning: Bool { !reap() }

    /// Whether it ended by calling exit (not by a signal); false while it runs.
    public var exitedNormally: Bool {
        guard reap() else { return false }
        return lock.withLock { status.map { $0 & 0x7f == 0 } ?? false }
    }

    /// The exit status, or 128 + the signal that ended it; nil while it runs.
    public var exitStatus: Int32? {
        guard reap() else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let raw = status else { return -1 }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    /// What it wrote to standard output so far (invalid UTF-8 repaired).
    public var stdout: String { Self.text(stdoutURL) }
    /// What it wrote to standard error so far (with `.merged`: the same as `stdout`).
    public var stderr: String { Self.text(stderrURL) }

    private static func text(_ url: URL) -> String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }

    /// Writes to its standard input (`.heldOpen` only); false when that is closed.
    @discardableResult
    public func write(_ text: String) -> Bool {
        lock.withLock {
            guard inputWriter >= 0 else { return false }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Glibc.write(inputWriter, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                bytes = bytes.dropFirst(written)
            }
            return true
        }
    }

    /// Closes its standard input (`.heldOpen`): it reads end of file.
    public func closeInput() {
        lock.withLock {
            if inputWriter >= 0 { close(inputWriter) }
            inputWriter = -1
        }
    }

    public func signal(_ signal: Int32) {
        if isRunning { Glibc.kill(pid, signal) }
    }

    /// Waits until it has ended; false when `timeout` seconds passed first.
    public func waitForExit(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// The same, blocking the calling thread (for synchronous code and teardown in a `defer`).
    public func waitForExitBlocking(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// SIGKILL, then reaps it.
    public func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitForExitBlocking(timeout: 10)
    }

    /// The finished command's status and output; removes the output files.
    public func result() -> SubprocessResult {
        let result = SubprocessResult(status: exitStatus ?? -1, stdout: stdout,
                                      stderr: stderrURL == stdoutURL ? "" : stderr)
        removeFiles()
        return result
    }

    /// Removes the output files.
    public func removeFiles() {
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    /// Runs `arguments` to completion, blocking this thread; kills it and throws after
    /// `timeout` seconds.
    public static func run(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                           input: String? = nil, errorOutput: ErrorOutput = .separate,
                           timeout: Double = 120) throws -> SubprocessResult {
        let child = try SpawnedProcess(arguments, environment: environment, directory: directory,
                                       input: input.map { .text($0) } ?? .none, errorOutput: errorOutput)
        guard child.waitForExitBlocking(timeout: timeout) else {
            child.kill()
            let printed = child.stdout + child.stderr
            child.removeFiles()
            throw SubprocessError("\(child.label) did not finish in \(timeout) s: \(arguments.joined(separator: " "))\n\(printed)")
        }
        return child.result()
    }

    /// The same, suspending instead of blocking.
    public static func run(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                           input: String? = nil, errorOutput: ErrorOutput = .separate,
                           timeout: Double = 120) async throws -> SubprocessResult {
        let child = try SpawnedProcess(arguments, environment: environment, directory: directory,
                                       input: input.map { .text($0) } ?? .none, errorOutput: errorOutput)
        guard await child.waitForExit(timeout: timeout) else {
            child.kill()
            let printed = child.stdout + child.stderr
            child.removeFiles()
            throw SubprocessError("\(child.label) did not finish in \(timeout) s: \(arguments.joined(separator: " "))\n\(printed)")
        }
        return child.result()
    }
}

/// How a finished command ended, with what it printed.
public struct SubprocessResult: Sendable, CustomStringConvertible {
    /// The exit status, or 128 + the signal that ended it.
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// A child process could not be started, or did not finish in time.
public struct SubprocessError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
