#if canImport(Glibc)
import Glibc
#endif

/// Why the daemon's privileges could not be read or reduced. Each stops the start: a daemon
/// that meant to shed root must not carry on with it.
public enum PrivilegeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `getpwnam` found no such user.
    case noSuchUser(String)
    /// A system or libcap call failed: which (`"setuid(998)"`), with which `errno`.
    case systemCall(String, errno: Int32)
    /// After switching to `uid`, `setuid(0)` succeeded: root could be regained.
    case rootRegainable(uid: UInt32)
    /// The thread's credentials after the drop are not what was asked for.
    case notApplied(expected: String, found: String)

    public var description: String {
        switch self {
        case .noSuchUser(let name):
            "no such user \"\(name)\""
        case .systemCall(let call, let errno):
            "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .rootRegainable(let uid):
            "after switching to uid \(uid), setuid(0) still succeeds: refusing to run with root regainable"
        case .notApplied(let expected, let found):
            "privileges not as expected after the drop: expected \(expected), found \(found)"
        }
    }
}
