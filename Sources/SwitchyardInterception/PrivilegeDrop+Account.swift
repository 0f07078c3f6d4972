#if canImport(Glibc)
import Glibc
#endif

extension PrivilegeDrop {
    /// A user account from the password database: what the daemon switches to.
    public struct Account: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var uid: uid_t
        /// The account's primary group; the only group kept.
        public var gid: gid_t

        /// `switchyard (uid 998, gid 998)`.
        public var description: String { "\(name) (uid \(uid), gid \(gid))" }

        /// The account named `name` (`getpwnam_r`).
        /// - Throws: `PrivilegeError.noSuchUser` when there is none.
        public static func named(_ name: String) throws(PrivilegeError) -> Account {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: 16_384)
            let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
            guard rc == 0 else { throw .systemCall("getpwnam_r(\(name))", errno: rc) }
            guard result != nil else { throw .noSuchUser(name) }
            return Account(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
        }

        /// The name of `uid` in the password database, if it has one.
        public static func name(of uid: uid_t) -> String? {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: 16_384)
            guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil,
                  let name = entry.pw_name else { return nil }
            return String(cString: name)
        }
    }
}
