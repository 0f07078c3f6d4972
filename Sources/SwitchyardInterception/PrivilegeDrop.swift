import CLibcap

#if canImport(Glibc)
import Glibc
#endif

/// Reduces the calling thread to what the daemon needs: an unprivileged user, only the
/// capabilities in `keep` (in the permitted, effective, inheritable and ambient sets, so that
/// they survive an `execve`), the others gone from the bounding set when it may be changed,
/// and no_new_privs.
///
/// Capabilities and no_new_privs are per thread on Linux, and threads created later copy their
/// creator's, so this is only whole once the process re-executes itself from the thread that
/// called `apply()`: after `execve` every thread starts from these credentials. The executable
/// does that (`RunCommand+Privileges.swift`); this type only changes the calling thread
/// (and, through glibc's `setuid`, every thread's user and group IDs).
public struct PrivilegeDrop: Sendable {
    /// The account to switch to; nil keeps the user and group IDs.
    public var account: Account?
    /// The capabilities to keep (those the thread does not hold are reported, not kept).
    public var keep: CapabilitySet

    public init(account: Account?, keep: CapabilitySet) {
        self.account = account
        self.keep = keep
    }

    /// What `apply()` did.
    public struct Outcome: Sendable, Hashable {
        /// The capabilities kept: `keep` and what the thread held.
        public var kept: CapabilitySet
        /// Capabilities asked for that the thread did not hold.
        public var missing: CapabilitySet
        /// Whether capabilities beyond `kept` were removed from the bounding set (it needs
        /// `CAP_SETPCAP`, which only a privileged caller holds).
        public var boundingReduced: Bool
        /// The thread's state afterwards.
        public var after: ThreadCapabilities
    }

    /// Applies the drop to the calling thread, in this order: the bounding set (while
    /// `CAP_SETPCAP` is still held); `PR_SET_KEEPCAPS`, `setgroups([gid])`, `setgid`, `setuid`
    /// (each checked, then the real and effective IDs verified); `cap_set_proc` with
    /// `kept` permitted, effective and inheritable; the ambient set reset to `kept`;
    /// `PR_SET_NO_NEW_PRIVS`; finally `setuid(0)` and `setgid(0)` must fail (so the saved IDs are
    /// not root either) and the result must read back as asked.
    /// - Throws: `PrivilegeError` at the first step that fails; the thread may then be half-way.
    @discardableResult
    public func apply() throws(PrivilegeError) -> Outcome {
        let before = try ThreadCapabilities.current()
        let kept = keep.intersection(before.permitted)
        let missing = keep.subtracting(kept)

        var boundingReduced = false
        if before.effective.contains(.setPCap) {
            for capability in before.bounding.subtracting(kept).members where cap_drop_bound(capability) != 0 {
                throw .systemCall("cap_drop_bound(\(CapabilitySet.name(of: capability)))", errno: errno)
            }
            boundingReduced = true
        }

        if let account {
            try switchUser(to: account)
        }

        try setCapabilities(kept)
        guard sy_set_keepcaps(0) == 0 else { throw .systemCall("prctl(PR_SET_KEEPCAPS, 0)", errno: errno) }
        guard sy_set_no_new_privs() == 0 else { throw .systemCall("prctl(PR_SET_NO_NEW_PRIVS, 1)", errno: errno) }

        if let account, account.uid != 0 {
            // Nothing the thread holds may allow root back.
            if setuid(0) == 0 { throw .rootRegainable(uid: account.uid) }
            if setgid(0) == 0, account.gid != 0 { throw .rootRegainable(uid: account.uid) }
        }
        let after = try ThreadCapabilities.current()
        let expected = ThreadCapabilities(effective: kept, permitted: kept, inheritable: kept, ambient: kept,
                                          bounding: after.bounding, noNewPrivileges: true)
        guard after == expected else { throw .notApplied(expected: "\(expected)", found: "\(after)") }
        return Outcome(kept: kept, missing: missing, boundingReduced: boundingReduced, after: after)
    }

    /// Keeps the permitted set across the switch, then changes groups, group and user; verifies them.
    private func switchUser(to account: Account) throws(PrivilegeError) {
        guard sy_set_keepcaps(1) == 0 else { throw .systemCall("prctl(PR_SET_KEEPCAPS, 1)", errno: errno) }
        var groups = [account.gid]
        guard setgroups(1, &groups) == 0 else { throw .systemCall("setgroups([\(account.gid)])", errno: errno) }
        guard setgid(account.gid) == 0 else { throw .systemCall("setgid(\(account.gid))", errno: errno) }
        guard setuid(account.uid) == 0 else { throw .systemCall("setuid(\(account.uid))", errno: errno) }

        // The saved IDs are checked by `apply()`: setuid(0) and setgid(0) must then fail.
        let (ruid, euid, rgid, egid) = (getuid(), geteuid(), getgid(), getegid())
        var supplementary = [gid_t](repeating: 0, count: 64)
        let count = getgroups(Int32(supplementary.count), &supplementary)
        guard count >= 0 else { throw .systemCall("getgroups", errno: errno) }
        let found = "uid \(ruid)/\(euid) gid \(rgid)/\(egid) groups \(supplementary.prefix(Int(count)))"
        guard [ruid, euid].allSatisfy({ $0 == account.uid }), [rgid, egid].allSatisfy({ $0 == account.gid }),
              supplementary.prefix(Int(count)).allSatisfy({ $0 == account.gid })
        else {
            throw .notApplied(expected: "uid \(account.uid) gid \(account.gid) groups [\(account.gid)]", found: found)
        }
    }

    /// Permitted, effective and inheritable become `kept`; the ambient set becomes `kept`.
    private func setCapabilities(_ kept: CapabilitySet) throws(PrivilegeError) {
        guard let caps = cap_init() else { throw .systemCall("cap_init", errno: errno) }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        let members = kept.members
        if !members.isEmpty {
            for flag in [CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE]
            where cap_set_flag(caps, flag, Int32(members.count), members, CAP_SET) != 0 {
                throw .systemCall("cap_set_flag", errno: errno)
            }
        }
        guard cap_set_proc(caps) == 0 else { throw .systemCall("cap_set_proc(\(kept) =eip)", errno: errno) }

        // Lowering every ambient capability needs no privilege; the kernel may predate the
        // ambient set (before 4.3), in which case there is nothing to reset.
        if cap_reset_ambient() != 0, errno != EINVAL { throw .systemCall("cap_reset_ambient", errno: errno) }
        for capability in members where cap_set_ambient(capability, CAP_SET) != 0 {
            throw .systemCall("cap_set_ambient(\(CapabilitySet.name(of: capability)))", errno: errno)
        }
    }
}
