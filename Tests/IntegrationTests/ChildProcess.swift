import Foundation

/// How a finished command ended, with what it printed.
struct CommandResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// Something went wrong running a child process.
struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

/// A child process whose stdout and stderr go to files (no pipes to fill up), that can be
/// waited for with a deadline, signalled and killed.
final class ChildProcess: @unchecked Sendable {
    let label: String
    let stdoutURL: URL
    let stderrURL: URL
    private let process = Process()

    /// Starts `executable` with `arguments`; output goes to `<outputDir>/<label>-<n>.{out,err}`.
    init(_ executable: String, _ arguments: [String], outputDir: URL, label: String,
         environment: [String: String]? = nil) throws {
        self.label = label
        let stem = "\(label)-\(UUID().uuidString.prefix(8))"
        stdoutURL = outputDir.appendingPathComponent("\(stem).out")
        stderrURL = outputDir.appendingPathComponent("\(stem).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = outputDir
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// What it printed so far (invalid UTF-8 repaired).
    var stdout: String { Self.text(stdoutURL) }
    var stderr: String { Self.text(stderrURL) }

    private static func text(_ url: URL) -> String {
        String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
    }

    /// The exit status (or the signal number, for a process a signal ended).
    var terminationStatus: Int32 { process.terminationStatus }
    /// Whether it ended by calling exit (not by a signal).
    var exitedNormally: Bool { process.terminationReason == .exit }

    /// Waits until the process has ended; false when `timeout` seconds passed first.
    func waitForExit(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    func signal(_ signal: Int32) {
        if process.isRunning { Foundation.kill(pid, signal) }
    }

    /// SIGKILL, then waits for the process to be reaped.
    func kill() async {
        guard process.isRunning else { return }
        Foundation.kill(pid, SIGKILL)
        _ = await waitForExit(timeout: 10)
    }

    /// Runs a command to completion; kills it and throws after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], outputDir: URL, label: String,
                    timeout: Double) async throws -> CommandResult {
        let child = try ChildProcess(executable, arguments, outputDir: outputDir, label: label)
        guard await child.waitForExit(timeout: timeout) else {
            await child.kill()
            throw ChildProcessError(description: "\(label) did not finish in \(timeout) s: \(executable) \(arguments.joined(separator: " "))\n\(child.stderr)")
        }
        let result = CommandResult(status: child.terminationStatus, stdout: child.stdout, stderr: child.stderr)
        try? FileManager.default.removeItem(at: child.stdoutURL)
        try? FileManager.default.removeItem(at: child.stderrURL)
        return result
    }
}
