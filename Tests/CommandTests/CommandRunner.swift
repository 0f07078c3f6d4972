import Foundation
import SwitchyardSubprocess

/// How a command the tests ran ended: exit status (or 128 + signal) and what it printed.
typealias CommandResult = SubprocessResult

extension SubprocessResult {
    /// Runs the program at `path` to completion (with `environment` instead of this process's,
    /// when given, and in `directory`, when given), as a user would.
    static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: URL? = nil) throws -> CommandResult {
        try SpawnedProcess.run([path] + arguments, environment: environment, directory: directory?.path)
    }
}

enum Switchyard {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `switchyard` binary next to the test bundle (the test target depends on it).
    static var binary: URL {
        if let env = ProcessInfo.processInfo.environment["SWITCHYARD_BIN"] { return URL(fileURLWithPath: env) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = bundleDir.appendingPathComponent("switchyard")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return root.appendingPathComponent(".build/debug/switchyard")
    }

    /// Runs the binary; with `environment`, that is added to this process's environment minus
    /// every inherited `SWITCHYARD_*` and `NOTIFY_SOCKET` variable (so the machine's settings
    /// do not leak in).
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        let merged = environment.map { environment in
            ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHYARD_") && $0.key != "NOTIFY_SOCKET" }
                .merging(environment) { $1 }
        }
        return try CommandResult.run(binary.path, arguments, environment: merged, directory: root)
    }

    /// A fresh temporary directory holding the given files.
    static func manifests(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sy-cmd-\(UUID().uuidString)")
        for (name, contents) in files {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }
}
