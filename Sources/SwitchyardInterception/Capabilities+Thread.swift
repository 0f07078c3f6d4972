import CLibcap

#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's capability sets and its no_new_privs bit, as the kernel holds them.
///
/// On Linux these are per thread: another thread of the same process may hold different ones
/// (threads created later copy their creator's). After an `execve` every thread starts from
/// the thread that called it, which is why `PrivilegeDrop` re-executes the daemon.
public struct ThreadCapabilities: Hashable, Sendable, CustomStringConvertible {
    public var effective: CapabilitySet
    public var permitted: CapabilitySet
    public var inheritable: CapabilitySet
    /// Kept across an `execve` of an ordinary binary by a non-root user.
    public var ambient: CapabilitySet
    /// The most any `execve` can grant.
    public var bounding: CapabilitySet
    /// `PR_SET_NO_NEW_PRIVS`: no `execve` can grant privileges (setuid bits and file
    /// capabilities are ignored).
    public var noNewPrivileges: Bool

    /// Reads the calling thread's sets (`cap_get_proc`, `cap_get_ambient`, `cap_get_bound`,
    /// `PR_GET_NO_NEW_PRIVS`).
    public static func current() throws(PrivilegeError) -> ThreadCapabilities {
        guard let caps = cap_get_proc() else { throw .systemCall("cap_get_proc", errno: errno) }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        var state = ThreadCapabilities(effective: [], permitted: [], inheritable: [], ambient: [], bounding: [],
                                       noNewPrivileges: sy_get_no_new_privs() == 1)
        for capability in CapabilitySet.known.members {
            let one = CapabilitySet(capability: capability)
            var value = CAP_CLEAR
            if cap_get_flag(caps, capability, CAP_EFFECTIVE, &value) == 0, value == CAP_SET { state.effective.insert(one) }
            if cap_get_flag(caps, capability, CAP_PERMITTED, &value) == 0, value == CAP_SET { state.permitted.insert(one) }
            if cap_get_flag(caps, capability, CAP_INHERITABLE, &value) == 0, value == CAP_SET { state.inheritable.insert(one) }
            if cap_get_ambient(capability) == 1 { state.ambient.insert(one) }
            if cap_get_bound(capability) == 1 { state.bounding.insert(one) }
        }
        return state
    }

    /// Every capability held in any set but the bounding set.
    public var held: CapabilitySet { effective.union(permitted).union(inheritable).union(ambient) }

    /// `CapEff=cap_net_admin CapPrm=... CapInh=... CapAmb=... CapBnd=... NoNewPrivs=1`.
    public var description: String {
        "CapEff=\(effective) CapPrm=\(permitted) CapInh=\(inheritable) CapAmb=\(ambient) CapBnd=\(bounding) "
            + "NoNewPrivs=\(noNewPrivileges ? 1 : 0)"
    }
}
