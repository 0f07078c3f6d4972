import Foundation

/// The built `switchyard` executable, found as Tests/CommandTests/CommandRunner.swift finds it.
enum SwitchyardBinary {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `SWITCHYARD_BIN`, else the binary next to the test bundle (the test target depends on it),
    /// else `.build/debug/switchyard`.
    static var path: String {
        if let env = ProcessInfo.processInfo.environment["SWITCHYARD_BIN"] { return env }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = bundleDir.appendingPathComponent("switchyard")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
        return root.appendingPathComponent(".build/debug/switchyard").path
    }

    /// Runs a short `switchyard` command (check, certs) to completion.
    static func run(_ arguments: [String], in dir: URL) async throws -> CommandResult {
        try await ChildProcess.run(path, arguments, outputDir: dir, label: "switchyard-\(arguments.first ?? "")", timeout: 60)
    }
}
