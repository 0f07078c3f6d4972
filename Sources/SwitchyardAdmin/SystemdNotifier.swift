#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// sd_notify(3) written to the protocol, without libsystemd: each state is one datagram of
/// newline-separated `KEY=value` lines sent over an `AF_UNIX` `SOCK_DGRAM` socket to
/// `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). Without `NOTIFY_SOCKET`
/// every call is a no-op that returns `false`.
public struct SystemdNotifier: Sendable {
    /// Why a notification could not be sent.
    public enum Error: Swift.Error, Equatable {
        /// `NOTIFY_SOCKET` is neither an absolute path nor `@name`, or is too long.
        case invalidSocketAddress(String)
        /// A system call failed with this errno.
        case systemCallFailed(call: String, errno: Int32)
    }

    /// `$NOTIFY_SOCKET` as given, or nil when the service manager expects no notifications.
    public let socketAddress: String?
    /// Half of `$WATCHDOG_USEC` (when it is meant for this process): ping this often.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`; `pid` is
    /// this process's (compared with `WATCHDOG_PID`).
    public init(environment: [String: String], pid: Int32 = getpid()) {
        let socket = environment["NOTIFY_SOCKET"]
        self.socketAddress = (socket?.isEmpty ?? true) ? nil : socket
        self.watchdogInterval = Self.watchdogInterval(
            usec: environment["WATCHDOG_USEC"], watchdogPID: environment["WATCHDOG_PID"], pid: pid)
    }

    /// From the process environment.
    public static func fromProcessEnvironment() -> SystemdNotifier {
        var environment: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        return SystemdNotifier(environment: environment)
    }

    /// Whether notifications go anywhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// Parses `WATCHDOG_USEC` (a positive integer of microseconds) into the ping interval,
    /// half of it as systemd recommends; nil when unset, invalid, zero, or when
    /// `WATCHDOG_PID` names another process.
    public static func watchdogInterval(usec: String?, watchdogPID: String?, pid: Int32) -> Duration? {
        if let watchdogPID, !watchdogPID.isEmpty {
            guard let target = Int32(watchdogPID), target == pid else { return nil }
        }
        guard let usec, let micros = UInt64(usec), micros > 0 else { return nil }
        return .microseconds(Int64(clamping: micros / 2))
    }

    /// `READY=1` (with an optional `STATUS=`).
    @discardableResult
    public func ready(status: String? = nil) throws -> Bool {
        try send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (now, on CLOCK_MONOTONIC), as `Type=notify-reload`
    /// requires; send `ready()` when the reload is done.
    @discardableResult
    public func reloading() throws -> Bool {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// `STOPPING=1`.
    @discardableResult
    public func stopping() throws -> Bool { try send(["STOPPING=1"]) }

    /// `STATUS=...` (one line; newlines become spaces).
    @discardableResult
    public func status(_ text: String) throws -> Bool {
        try send(["STATUS=" + text.split(whereSeparator: \.isNewline).joined(separator: " ")])
    }

    /// `WATCHDOG=1`.
    @discardableResult
    public func watchdog() throws -> Bool { try send(["WATCHDOG=1"]) }

    /// Sends these `KEY=value` lines as one datagram; `false` (nothing sent) when disabled.
    @discardableResult
    public func send(_ assignments: [String]) throws -> Bool {
        guard let socketAddress else { return false }
        let message = assignments.joined(separator: "\n")

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketAddress.utf8)
        let pathCapacity = MemoryLayout.size(ofValue: address.sun_path)
        if path.first == UInt8(ascii: "@") {
            path[0] = 0  // abstract namespace: a leading NUL, no terminator
        } else if path.first != UInt8(ascii: "/") {
            throw Error.invalidSocketAddress(socketAddress)
        }
        guard path.count < pathCapacity else { throw Error.invalidSocketAddress(socketAddress) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // A path keeps its terminating NUL (the struct is zeroed); an abstract name has none.
        let length = socklen_t(pathOffset + path.count + (path[0] == 0 ? 0 : 1))

        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { throw Error.systemCallFailed(call: "socket", errno: errno) }
        defer { _ = close(fd) }

        let sent = message.utf8CString.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    sendto(fd, bytes.baseAddress, bytes.count - 1, Int32(MSG_NOSIGNAL), sockaddrPointer, length)
                }
            }
        }
        guard sent >= 0 else { throw Error.systemCallFailed(call: "sendto", errno: errno) }
        return true
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
