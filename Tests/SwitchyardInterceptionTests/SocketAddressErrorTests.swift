#if canImport(Glibc)
import Glibc
#endif
import SwitchyardInterception
import Testing

/// Sockets the kernel cannot answer for: typed errors that name the call and errno.
/// (Nothing here needs root or a namespace: no connection is made.)
@Suite("OriginalDestination and ClientAddress errors")
struct SocketAddressErrorTests {
    @Test("A closed descriptor: EBADF from getsockname")
    func badDescriptor() {
        #expect(throws: SocketAddressError.systemCall("getsockname", socket: -1, errno: EBADF)) {
            try OriginalDestination.of(socket: -1)
        }
        let error = SocketAddressError.systemCall("getsockname", socket: -1, errno: EBADF)
        #expect(error.description == "getsockname on fd -1: EBADF (Bad file descriptor)")
        #expect(error.errno == EBADF)
    }

    @Test("A pipe: ENOTSOCK")
    func notASocket() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(throws: SocketAddressError.systemCall("getsockname", socket: ends[0], errno: ENOTSOCK)) {
            try OriginalDestination.of(socket: ends[0])
        }
        #expect(throws: SocketAddressError.systemCall("getpeername", socket: ends[0], errno: ENOTSOCK)) {
            try ClientAddress.of(socket: ends[0])
        }
    }

    @Test("A Unix socket: not an IPv4 or IPv6 socket")
    func unixSocket() throws {
        var ends: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(throws: SocketAddressError.unsupportedAddressFamily(AF_UNIX, socket: ends[0])) {
            try OriginalDestination.of(socket: ends[0])
        }
        #expect(SocketAddressError.unsupportedAddressFamily(AF_UNIX, socket: 5).description
                == "fd 5 is not an IPv4 or IPv6 socket (address family 1)")
    }

    @Test("An unconnected TCP socket has no peer (ENOTCONN) and no original destination", arguments: [AF_INET, AF_INET6])
    func unconnected(family: Int32) throws {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(throws: SocketAddressError.systemCall("getpeername", socket: fd, errno: ENOTCONN)) {
            try ClientAddress.of(socket: fd)
        }
        #expect(try OriginalDestination.of(socket: fd) == nil)
    }
}
