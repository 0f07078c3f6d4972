#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardSubprocess

/// Runs the iptables tools (`iptables-nft-save`, `ip6tables-legacy-restore`, …) as child
/// processes (`SpawnedProcess`: posix_spawn, none of our descriptors inherited): no shell,
/// standard input from a file when there is input, standard output and standard error
/// captured separately in files.
///
/// `prefix` is put in front of every command, so tests can aim the tools at a network
/// namespace (`["/usr/sbin/ip", "netns", "exec", "sy-test"]`) without touching the root one.
public struct IPTablesCommandRunner: Sendable {
    /// Words run before each command (a program and its arguments); empty: none.
    public var prefix: [String]
    /// Where programs are looked for, after `PATH`.
    public static let systemDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"]

    /// A runner that puts `prefix` before every command (none: run the tools directly).
    public init(prefix: [String] = []) {
        self.prefix = prefix
    }

    /// The absolute path of `program`, from `PATH` and then the system directories.
    public static func locate(_ program: String) throws(IPTablesError) -> String {
        if program.hasPrefix("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        let directories = path + systemDirectories.filter { !path.contains($0) }
        for directory in directories {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .programNotFound(program, searched: directories)
    }

    /// Whether `program` is installed.
    public static func exists(_ program: String) -> Bool {
        (try? locate(program)) != nil
    }

    /// Runs `program` with `arguments` (after `prefix`), `input` as its standard input, and
    /// returns its standard output. Throws `IPTablesError.commandFailed` with its standard error
    /// when it exits non-zero.
    public func run(_ program: String, _ arguments: [String], input: String? = nil) throws(IPTablesError) -> String {
        let command = try Self.command(prefix: prefix, program: program, arguments: arguments)
        let result: SubprocessResult
        do {
            result = try SpawnedProcess.run(command, input: input, timeout: Self.timeout)
        } catch {
            throw .launchFailed(command: command, reason: "\(error)")
        }
        guard result.status == 0 else {
            throw .commandFailed(command: command, status: result.status, stderr: result.stderr)
        }
        return result.stdout
    }

    /// How long one iptables command may take before it is killed (the restore commands wait
    /// at most 5 s for the xtables lock, `-w 5`).
    static let timeout: Double = 60

    private static func command(prefix: [String], program: String, arguments: [String]) throws(IPTablesError) -> [String] {
        if prefix.isEmpty { return [try locate(program)] + arguments }
        return [try locate(prefix[0])] + prefix.dropFirst() + [try locate(program)] + arguments
    }
}
