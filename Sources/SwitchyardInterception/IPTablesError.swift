import Foundation

/// Why reading or changing the iptables rules failed. Each description names the command and,
/// when it ran, its exit status and what it wrote on standard error.
public enum IPTablesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program is in none of the directories searched.
    case programNotFound(String, searched: [String])
    /// The program could not be started.
    case launchFailed(command: [String], reason: String)
    /// The program exited with a non-zero status (or was killed by a signal).
    case commandFailed(command: [String], status: Int32, stderr: String)

    public var description: String {
        switch self {
        case .programNotFound(let program, let searched):
            return "\(program) not found (searched \(searched.joined(separator: ":"))); is iptables installed?"
        case .launchFailed(let command, let reason):
            return "could not run `\(command.joined(separator: " "))`: \(reason)"
        case .commandFailed(let command, let status, let stderr):
            let message = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "`\(command.joined(separator: " "))` exited with status \(status)"
                + (message.isEmpty ? "" : ": \(message)")
        }
    }
}
