#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A network namespace made for one test (`ip netns add sy-origdst-<random>`), always deleted
/// by `with(_:)` when the test ends, whether it passed, failed or threw. Nothing here touches
/// the root namespace's rules, routes or sysctls: every `ip` and `iptables` command is aimed at
/// the namespace, and code that opens sockets runs on a thread of its own moved into it.
struct NetworkNamespace: Sendable {
    let name: String

    static let ip = "/usr/sbin/ip"

    /// Creates a uniquely named namespace, runs `body` with it, and deletes it afterwards (then
    /// checks with `ip netns list` that it is gone, recording an issue if it is not).
    static func with<Result: Sendable>(
        prefix: String = "sy-origdst",
        _ body: (NetworkNamespace) async throws -> Result
    ) async throws -> Result {
        try #require(
            geteuid() == 0,
            "the SO_ORIGINAL_DST tests must run as root (CI does): they create network namespaces and iptables rules in them")
        let namespace = NetworkNamespace(name: "\(prefix)-\(String(UInt32.random(in: .min ... .max), radix: 16))")
        try Command.run([ip, "netns", "add", namespace.name])
        defer { namespace.delete() }
        try namespace.ip("link", "set", "lo", "up")
        return try await body(namespace)
    }

    /// Every namespace `ip netns list` shows.
    static func list() throws -> [String] {
        try Command.run([ip, "netns", "list"]).split(separator: "\n").compactMap { line in
            line.split(separator: " ").first.map(String.init)
        }
    }

    /// `ip -n NAME arguments...`.
    func ip(_ arguments: String...) throws {
        try Command.run([Self.ip, "-n", name] + arguments)
    }

    /// `ip netns exec NAME arguments...`: a program run inside the namespace.
    @discardableResult
    func exec(_ arguments: [String]) throws -> String {
        try Command.run([Self.ip, "netns", "exec", name] + arguments)
    }

    /// Runs `body` inside the namespace: on a new thread that first joins it with
    /// `setns(CLONE_NEWNET)`, which moves only that thread. Sockets `body` creates belong to
    /// the namespace for their whole life. The thread ends when `body` returns.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        let path = "/var/run/netns/\(name)"
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    let handle = open(path, O_RDONLY | O_CLOEXEC)
                    guard handle >= 0 else { throw SystemCallError(call: "open(\(path))", errno: errno) }
                    defer { close(handle) }
                    guard Self.setns(handle, Self.cloneNewNet) == 0 else {
                        throw SystemCallError(call: "setns(\(path), CLONE_NEWNET)", errno: errno)
                    }
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "netns \(name)"
            thread.start()
        }
    }

    /// `CLONE_NEWNET` from <sched.h>.
    static let cloneNewNet: Int32 = 0x4000_0000

    /// setns(2). Swift's Glibc module leaves out the GNU extensions, so it is looked up by name.
    static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("libc has no setns") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// `ip netns delete NAME`, then a check that `ip netns list` no longer shows it.
    func delete() {
        do {
            try Command.run([Self.ip, "netns", "delete", name])
            let left = try Self.list()
            #expect(!left.contains(name), "network namespace \(name) is still there after ip netns delete: \(left)")
        } catch {
            Issue.record("could not delete network namespace \(name): \(error)")
        }
    }
}

/// A failed system call in the test harness.
struct SystemCallError: Error, CustomStringConvertible {
    let call: String
    let errno: Int32
    var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}
