#if canImport(Glibc)
import Glibc
#endif

/// `getsockname(2)` and `getpeername(2)` as typed results.
enum SocketName {
    /// The socket's own address (`getsockname`), with the socket's address family.
    static func local(of socket: Int32) throws(SocketAddressError) -> (family: Int32, endpoint: IPEndpoint) {
        try name(of: socket, call: "getsockname", getsockname)
    }

    /// The connected peer's address (`getpeername`), with the socket's address family.
    static func peer(of socket: Int32) throws(SocketAddressError) -> (family: Int32, endpoint: IPEndpoint) {
        try name(of: socket, call: "getpeername", getpeername)
    }

    private static func name(
        of socket: Int32, call: String,
        _ function: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SocketAddressError) -> (family: Int32, endpoint: IPEndpoint) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { function(socket, $0, &length) }
        }
        guard result == 0 else { throw .systemCall(call, socket: socket, errno: errno) }
        let family = Int32(storage.ss_family)
        guard let endpoint = IPEndpoint(storage) else { throw .unsupportedAddressFamily(family, socket: socket) }
        return (family, endpoint)
    }
}
