import Foundation
import SwitchyardSubprocess

/// The tools these tests run (curl, nghttp, h2load, nghttpd): `SpawnedProcess` (posix_spawn,
/// none of our descriptors inherited, output in files) with the names the tests use.
typealias SpawnedTool = SpawnedProcess

extension SpawnedProcess {
    typealias Failure = SubprocessError

    /// Starts `arguments` with its output in `directory`.
    convenience init(_ arguments: [String], directory: TemporaryFiles) throws {
        try self.init(arguments, outputDirectory: URL(fileURLWithPath: directory.root))
    }

    var arguments: [String] { [label] }

    /// Runs `arguments` to completion; kills it and throws after `timeout` seconds.
    static func run(_ arguments: [String], in directory: TemporaryFiles, timeout: Double = 120) async throws -> SubprocessResult {
        try await run(arguments, timeout: timeout)
    }

    /// Whether `name` is an executable in PATH (or /usr/sbin, where Debian puts nghttpd).
    static func find(_ name: String) -> String? {
        try? locate(name)
    }
}

/// A scratch directory for one test, removed by `remove()`.
final class TemporaryFiles: Sendable {
    let root: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sy-h2-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        root = base.path
    }

    func path(_ name: String) -> String { "\(root)/\(name)" }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
