#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs the iptables tools (`iptables-nft-save`, `ip6tables-legacy-restore`, …) as child
/// processes with Foundation's `Process`: no shell, standard input from a file when there is
/// input, standard output and standard error captured separately.
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
        guard Self.loopbackUsable() else {
            throw .launchFailed(command: command, reason: "the loopback interface is down in this network namespace "
                                + "(Foundation's Process needs 127.0.0.1 to watch its children; `ip link set lo up`)")
        }
        do {
            return try Self.execute(command, input: input)
        } catch let error as IPTablesError {
            throw error
        } catch {
            throw .launchFailed(command: command, reason: "\(error)")
        }
    }

    /// Whether 127.0.0.1 is reachable here (a UDP socket can be connected to it, which fails
    /// with ENETUNREACH while `lo` is down). Foundation's `Process` on Linux needs that (its run
    /// loop wakes itself through loopback sockets); without it, it never learns that the child
    /// exited and waits for ever.
    static func loopbackUsable() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return IPEndpoint(IPv4Address.loopback, port: 9).withSocketAddress { connect(fd, $0, $1) } == 0
    }

    private static func command(prefix: [String], program: String, arguments: [String]) throws(IPTablesError) -> [String] {
        if prefix.isEmpty { return [try locate(program)] + arguments }
        return [try locate(prefix[0])] + prefix.dropFirst() + [try locate(program)] + arguments
    }

    private static func execute(_ command: [String], input: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        // Input through a file, not a pipe: nothing to write while the child runs, so no
        // SIGPIPE if it dies early and no deadlock on a full pipe.
        var inputFile: URL?
        defer { if let inputFile { try? FileManager.default.removeItem(at: inputFile) } }
        if let input {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("switchyard-iptables-\(UUID().uuidString)")
            try Data(input.utf8).write(to: url)
            inputFile = url
            process.standardInput = try FileHandle(forReadingFrom: url)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Standard error is drained on another thread so that neither pipe can fill and stall the child.
        let errorText = ErrorText()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errorText.set(errors.fileHandleForReading.readDataToEndOfFile())
            drained.signal()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw IPTablesError.commandFailed(command: command, status: process.terminationStatus, stderr: errorText.text)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The child's standard error, handed from the draining thread.
    private final class ErrorText: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func set(_ value: Data) { lock.withLock { data = value } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }
}
