import Glibc
import Testing
import SwitchyardAdmin
import SwitchyardTestSupport

/// A real `AF_UNIX` `SOCK_DGRAM` socket bound by the test, standing in for systemd.
private final class DatagramListener {
    let fd: Int32
    let path: String?

    /// Binds a filesystem path (`abstract == false`) or an abstract name.
    init(name: String, abstract: Bool) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ListenerError.errno(errno) }
        self.fd = fd
        self.path = abstract ? nil : name
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes.insert(0, at: 0) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw ListenerError.errno(errno) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { throw ListenerError.errno(errno) }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    enum ListenerError: Error { case errno(Int32) }
}

private func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

@Suite("sd_notify", .dedicatedThread)
struct SystemdNotifierTests {
    @Test func sendsEachStateToAPathSocket() throws {
        let path = "/tmp/" + uniqueName("sy-notify") + ".sock"
        let listener = try DatagramListener(name: path, abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isEnabled)

        #expect(try notifier.ready())
        #expect(try listener.receive() == "READY=1")
        try notifier.ready(status: "serving")
        #expect(try listener.receive() == "READY=1\nSTATUS=serving")
        try notifier.status("loaded 3 routes\nfrom /etc")
        #expect(try listener.receive() == "STATUS=loaded 3 routes from /etc")
        try notifier.watchdog()
        #expect(try listener.receive() == "WATCHDOG=1")
        try notifier.stopping()
        #expect(try listener.receive() == "STOPPING=1")

        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        try notifier.reloading()
        let lines = try listener.receive().split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let usec = lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }
        #expect(usec != nil)
        #expect((usec ?? 0) >= before)
        #expect((usec ?? 0) < before + 10_000_000)
    }

    @Test func sendsToAnAbstractSocket() throws {
        let name = uniqueName("sy-notify-abstract")
        let listener = try DatagramListener(name: name, abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        try notifier.ready()
        #expect(try listener.receive() == "READY=1")
        try notifier.send(["STATUS=custom", "ERRNO=0"])
        #expect(try listener.receive() == "STATUS=custom\nERRNO=0")
    }

    @Test func isANoOpWithoutNotifySocket() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(try notifier.ready() == false)
        #expect(try notifier.watchdog() == false)
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func refusesAnAddressThatIsNeitherAPathNorAbstract() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/socket"])
        #expect(throws: SystemdNotifier.Error.invalidSocketAddress("relative/socket")) {
            try notifier.ready()
        }
    }

    @Test func reportsASocketNobodyListensOn() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/tmp/" + uniqueName("sy-absent")])
        #expect(throws: SystemdNotifier.Error.self) { try notifier.ready() }
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == .seconds(15))
        #expect(SystemdNotifier.watchdogInterval(usec: "1000", watchdogPID: nil, pid: 42) == .microseconds(500))
        #expect(SystemdNotifier.watchdogInterval(usec: "1000", watchdogPID: "42", pid: 42) == .microseconds(500))
        #expect(SystemdNotifier.watchdogInterval(usec: "1000", watchdogPID: "43", pid: 42) == nil)
        #expect(SystemdNotifier.watchdogInterval(usec: "0", watchdogPID: nil, pid: 42) == nil)
        #expect(SystemdNotifier.watchdogInterval(usec: "abc", watchdogPID: nil, pid: 42) == nil)
        #expect(SystemdNotifier.watchdogInterval(usec: nil, watchdogPID: nil, pid: 42) == nil)
    }
}
