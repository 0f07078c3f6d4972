#if canImport(Glibc)
import Glibc
#endif

/// Why the kernel would not say a socket's addresses.
public enum SocketAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed: which call (`"getsockopt(SOL_IP, SO_ORIGINAL_DST)"`), on which
    /// descriptor, with which `errno`.
    case systemCall(String, socket: Int32, errno: Int32)
    /// The socket is not an IPv4 or IPv6 socket (a Unix socket, say); `family` is its `AF_*` number.
    case unsupportedAddressFamily(Int32, socket: Int32)

    /// The `errno` of a failed call, else nil.
    public var errno: Int32? {
        if case .systemCall(_, _, let errno) = self { return errno }
        return nil
    }

    /// One line naming the call, the descriptor and the error:
    /// `getsockname on fd 7: EBADF (Bad file descriptor)`.
    public var description: String {
        switch self {
        case .systemCall(let call, let socket, let errno):
            "\(call) on fd \(socket): \(Self.name(of: errno)) (\(String(cString: strerror(errno))))"
        case .unsupportedAddressFamily(let family, let socket):
            "fd \(socket) is not an IPv4 or IPv6 socket (address family \(family))"
        }
    }

    /// The symbolic name of the `errno` values these calls can produce, else `errno N`.
    static func name(of errno: Int32) -> String {
        switch errno {
        case EBADF: "EBADF"
        case ENOTSOCK: "ENOTSOCK"
        case ENOTCONN: "ENOTCONN"
        case EINVAL: "EINVAL"
        case EFAULT: "EFAULT"
        case ENOBUFS: "ENOBUFS"
        case ENOMEM: "ENOMEM"
        case ENOENT: "ENOENT"
        case ENOPROTOOPT: "ENOPROTOOPT"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EPERM: "EPERM"
        case EACCES: "EACCES"
        default: "errno \(errno)"
        }
    }
}
