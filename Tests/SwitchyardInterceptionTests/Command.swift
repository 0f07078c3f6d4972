import Foundation
import SwitchyardSubprocess

/// Runs a program to completion (no shell), for `ip` and `iptables` in the namespace tests.
struct Command {
    struct Failure: Error, CustomStringConvertible {
        let command: [String]
        let status: Int32
        let output: String
        var description: String {
            "`\(command.joined(separator: " "))` exited with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    /// Runs `arguments[0]` with the rest as its arguments; returns stdout and stderr together.
    /// Throws `Failure` (with that output) on a non-zero exit status.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let result = try SpawnedProcess.run(arguments, errorOutput: .merged)
        guard result.status == 0 else {
            throw Failure(command: arguments, status: result.status, output: result.stdout)
        }
        return result.stdout
    }
}
