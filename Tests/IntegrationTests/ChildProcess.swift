import Foundation
import SwitchyardSubprocess

/// How a finished command ended, with what it printed.
typealias CommandResult = SubprocessResult

/// Something went wrong running a child process.
struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

extension SpawnedProcess {
    /// Starts `arguments` with output in `<outputDir>/<label>-<n>.{out,err}`.
    convenience init(_ arguments: [String], outputDir: URL, label: String, environment: [String: String]? = nil,
                     directory: String? = nil) throws {
        try self.init(arguments, label: label, environment: environment, directory: directory, outputDirectory: outputDir)
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

/// A child process whose stdout and stderr go to files (no pipes to fill up), that can be
/// waited for with a deadline, signalled and killed. Spawned with `posix_spawn` and reaped
/// with `waitpid` (`SpawnedProcess`, whose comment says why never Foundation's `Process`).
final class ChildProcess: @unchecked Sendable {
    let label: String
    let stdoutURL: URL
    let stderrURL: URL
    private let spawned: SpawnedProcess

    /// Starts `executable` with `arguments`; output goes to `<outputDir>/<label>-<n>.{out,err}`;
    /// it runs in `outputDir`.
    init(_ executable: String, _ arguments: [String], outputDir: URL, label: String,
         environment: [String: String]? = nil) throws {
        self.label = label
        spawned = try SpawnedProcess([executable] + arguments, outputDir: outputDir, label: label,
                                     environment: environment, directory: outputDir.path)
        stdoutURL = spawned.stdoutURL
        stderrURL = spawned.stderrURL
    }

    var pid: Int32 { spawned.pid }
    var isRunning: Bool { spawned.isRunning }
    /// What it printed so far (invalid UTF-8 repaired).
    var stdout: String { spawned.stdout }
    var stderr: String { spawned.stderr }

    /// The exit status, or 128 + the signal that ended it (-1 while it runs).
    var terminationStatus: Int32 { spawned.exitStatus ?? -1 }
    /// Whether it ended by calling exit (not by a signal).
    var exitedNormally: Bool { spawned.exitedNormally }

    /// Waits until the process has ended; false when `timeout` seconds passed first.
    func waitForExit(timeout: Double) async -> Bool {
        await spawned.waitForExit(timeout: timeout)
    }

    func signal(_ signal: Int32) {
        spawned.signal(signal)
    }

    /// SIGKILL, then waits for the process to be reaped.
    func kill() async {
        spawned.kill()
    }

    /// Runs a command to completion; kills it and throws after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], outputDir: URL, label: String,
                    timeout: Double) async throws -> CommandResult {
        let child = try ChildProcess(executable, arguments, outputDir: outputDir, label: label)
        guard await child.waitForExit(timeout: timeout) else {
            await child.kill()
            throw ChildProcessError(description: "\(label) did not finish in \(timeout) s: \(executable) \(arguments.joined(separator: " "))\n\(child.stderr)")
        }
        return child.spawned.result()
    }
}
