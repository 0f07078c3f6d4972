import NIOHTTP1

/// The header preparation of the inbound proxy, before a request reaches the local app.
///
/// (In a `HopByHop` file because it is the hop-by-hop strip plus the inbound's own field.)
public enum InboundHeaders {
    /// Strips the hop-by-hop fields (see `HopByHop`), removes every `l5d-client-id` the
    /// client sent (any case, any number of copies: a client-supplied one never passes), and
    /// then, when the connection's peer was verified, appends one `l5d-client-id` holding
    /// `clientIdentity`. Plaintext connections pass nil and the app sees no `l5d-client-id`.
    ///
    /// An identity that could not be a field value (empty, or with a byte outside visible
    /// ASCII: spaces, control characters, CR, LF) is not set; a verified DNS SAN never is one.
    public static func prepare(_ headers: inout HTTPHeaders, clientIdentity: String?, keepingUpgrade: Bool = false) {
        HopByHop.strip(&headers, keepingUpgrade: keepingUpgrade, meshFields: .clientID)
        if let clientIdentity, isFieldValue(clientIdentity) {
            headers.add(name: HopByHop.clientIDName, value: clientIdentity)
        }
    }

    private static func isFieldValue(_ identity: String) -> Bool {
        !identity.isEmpty && identity.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
