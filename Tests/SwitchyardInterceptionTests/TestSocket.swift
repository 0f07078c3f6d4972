#if canImport(Glibc)
import Glibc
#endif
import SwitchyardInterception

/// Blocking TCP sockets for the namespace tests, each with a 5-second timeout, so a rule that
/// does not redirect fails the test instead of hanging it in SYN retries.
enum TestSocket {
    static let timeout = timeval(tv_sec: 5, tv_usec: 0)

    /// A listening socket bound to `endpoint`. For an IPv6 endpoint, `dualStack` clears
    /// `IPV6_V6ONLY` (so `[::]` also accepts IPv4 clients, as `::ffff:a.b.c.d`); otherwise it is set.
    static func listen(on endpoint: IPEndpoint, dualStack: Bool = false) throws -> Int32 {
        let fd = try socket(for: endpoint)
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1))
            try setOption(fd, SOL_SOCKET, SO_RCVTIMEO, timeout)  // bounds accept()
            if case .v6 = endpoint.address {
                try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(dualStack ? 0 : 1))
            }
            try check("bind(\(endpoint))", endpoint.withSocketAddress { Glibc.bind(fd, $0, $1) })
            try check("listen(\(endpoint))", Glibc.listen(fd, 16))
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// A socket connected to `endpoint` with a plain blocking `connect()`, as an app would.
    static func connect(to endpoint: IPEndpoint) throws -> Int32 {
        let fd = try socket(for: endpoint)
        do {
            try setOption(fd, SOL_SOCKET, SO_SNDTIMEO, timeout)  // bounds connect()
            try check("connect(\(endpoint))", endpoint.withSocketAddress { Glibc.connect(fd, $0, $1) })
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// The next connection on a listening socket.
    static func accept(_ listener: Int32) throws -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        try check("accept", fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // Process children (iptables) must not inherit it
        return fd
    }

    /// The socket's own address (`getsockname`), as written (IPv4-mapped stays IPv6).
    static func localEndpoint(_ fd: Int32) throws -> IPEndpoint {
        try name(fd, "getsockname", getsockname)
    }

    /// The socket's peer (`getpeername`), as written.
    static func peerEndpoint(_ fd: Int32) throws -> IPEndpoint {
        try name(fd, "getpeername", getpeername)
    }

    private static func name(
        _ fd: Int32, _ call: String,
        _ function: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws -> IPEndpoint {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { function(fd, $0, &length) }
        }
        try check(call, result)
        guard let endpoint = IPEndpoint(storage) else { throw SystemCallError(call: call, errno: EAFNOSUPPORT) }
        return endpoint
    }

    private static func socket(for endpoint: IPEndpoint) throws -> Int32 {
        let family = if case .v4 = endpoint.address { AF_INET } else { AF_INET6 }
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check("socket", fd)
        return fd
    }

    private static func setOption<Value: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Value) throws {
        var value = value
        try check("setsockopt(\(level), \(name))", setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Value>.size)))
    }

    private static func check(_ call: String, _ result: Int32) throws {
        if result < 0 { throw SystemCallError(call: call, errno: errno) }
    }
}
