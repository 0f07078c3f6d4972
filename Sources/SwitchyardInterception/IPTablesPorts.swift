/// The proxy's own ports, as the redirect rules need them: where redirected traffic goes
/// (outbound, inbound) and what is never redirected (admin). Linkerd's defaults.
public struct IPTablesPorts: Sendable, Hashable {
    /// The outbound listener: redirected pod egress (`--outbound-port`, 4140).
    public var outbound: UInt16
    /// The inbound listener: redirected plaintext for meshed pods (`--inbound-port`, 4143).
    public var inbound: UInt16
    /// The admin endpoint (`--admin-port`, 4191): skipped in both directions.
    public var admin: UInt16

    /// Linkerd's ports unless given: outbound 4140, inbound 4143, admin 4191.
    public init(outbound: UInt16 = 4140, inbound: UInt16 = 4143, admin: UInt16 = 4191) {
        self.outbound = outbound
        self.inbound = inbound
        self.admin = admin
    }
}
