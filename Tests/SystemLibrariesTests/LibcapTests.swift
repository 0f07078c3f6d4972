// CLibcap: libcap imports and links, capability sets round-trip through text, and the
// prctl wrappers in Sources/CLibcap/shim.h answer. Nothing here changes the test process's
// privileges: sy_set_no_new_privs / sy_set_keepcaps are not called.
import CLibcap
import Testing

@Suite("CLibcap")
struct LibcapTests {
    @Test("the process's capabilities render as text")
    func processCapabilitiesAsText() throws {
        let caps = try #require(cap_get_proc())
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        let text = try #require(capText(caps))
        #expect(!text.isEmpty)
        #expect(text.hasPrefix("=") || text.contains("cap_"))
    }

    @Test("cap_from_text: CAP_NET_ADMIN effective and permitted, CAP_SYS_ADMIN not")
    func flagsFromText() throws {
        let caps = try #require(cap_from_text("cap_net_admin,cap_net_bind_service=ep"))
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        #expect(flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE) == CAP_SET)
        #expect(flag(caps, CAP_NET_ADMIN, CAP_PERMITTED) == CAP_SET)
        #expect(flag(caps, CAP_NET_BIND_SERVICE, CAP_EFFECTIVE) == CAP_SET)
        #expect(flag(caps, CAP_NET_ADMIN, CAP_INHERITABLE) == CAP_CLEAR)
        #expect(flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE) == CAP_CLEAR)
        #expect(flag(caps, CAP_SYS_ADMIN, CAP_PERMITTED) == CAP_CLEAR)
    }

    @Test("cap_set_flag / cap_clear build the set the daemon keeps, and it round-trips through text")
    func buildAndRoundTrip() throws {
        let caps = try #require(cap_init())
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        #expect(cap_clear(caps) == 0)
        let keep: [cap_value_t] = [CAP_NET_ADMIN, CAP_NET_BIND_SERVICE]
        #expect(cap_set_flag(caps, CAP_EFFECTIVE, Int32(keep.count), keep, CAP_SET) == 0)
        #expect(cap_set_flag(caps, CAP_PERMITTED, Int32(keep.count), keep, CAP_SET) == 0)

        let text = try #require(capText(caps))
        #expect(text == "cap_net_bind_service,cap_net_admin=ep")

        let parsed = try #require(cap_from_text(text))
        defer { cap_free(UnsafeMutableRawPointer(parsed)) }
        #expect(cap_compare(caps, parsed) == 0)
        #expect(capText(parsed) == text)

        #expect(cap_clear(caps) == 0)
        #expect(flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE) == CAP_CLEAR)
        #expect(cap_compare(caps, parsed) != 0)
    }

    @Test("prctl wrappers: no_new_privs and keepcaps read back as 0 or 1")
    func prctlGetters() {
        #expect([0, 1].contains(sy_get_no_new_privs()))
        #expect([0, 1].contains(sy_get_keepcaps()))
    }

    @Test("CAP_IS_SUPPORTED through the shim: the kernel knows CAP_NET_ADMIN")
    func capabilitySupported() {
        #expect(sy_cap_is_supported(CAP_NET_ADMIN) == 1)
        #expect(sy_cap_is_supported(CAP_NET_BIND_SERVICE) == 1)
        #expect(sy_cap_is_supported(4096) == 0)
    }
}

/// cap_to_text, copied into a Swift String and the C string freed with cap_free.
private func capText(_ caps: cap_t) -> String? {
    guard let raw = cap_to_text(caps, nil) else { return nil }
    defer { cap_free(raw) }
    return String(cString: raw)
}

private func flag(_ caps: cap_t, _ cap: cap_value_t, _ which: cap_flag_t) -> cap_flag_value_t? {
    var value = CAP_CLEAR
    guard cap_get_flag(caps, cap, which, &value) == 0 else { return nil }
    return value
}
