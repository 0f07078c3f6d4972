import NIOHTTP1

/// The header preparation of the outbound proxy, before a request goes upstream.
///
/// (In a `HopByHop` file because it is the hop-by-hop strip plus the mesh's own fields.)
public enum OutboundHeaders {
    /// Strips the hop-by-hop fields (see `HopByHop`), `l5d-dst-override` (read first, in
    /// ingress mode, by `IngressDestination`; it addressed this hop only), and any
    /// `l5d-client-id` the app sent: only an inbound proxy sets it, and an unmeshed
    /// destination, reached in plaintext without an inbound proxy in front of it, must not
    /// see a forged one either.
    public static func prepare(_ headers: inout HTTPHeaders, keepingUpgrade: Bool = false) {
        HopByHop.strip(&headers, keepingUpgrade: keepingUpgrade, meshFields: [.clientID, .destinationOverride])
    }
}
