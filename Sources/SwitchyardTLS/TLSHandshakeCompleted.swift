/// Fired once (as a user inbound event) by `TLSHandler` when the handshake has completed and
/// the peer has been verified. Handlers after the TLS handler read the peer's identity from it.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The verified peer: the server's identity on a client, the client's on a server.
    public let peer: PeerIdentity?
    /// The application protocol agreed through ALPN, if any.
    public let alpn: String?

    public init(peer: PeerIdentity?, alpn: String?) {
        self.peer = peer
        self.alpn = alpn
    }

    /// The peer's identity name (its certificate's DNS SAN).
    public var peerIdentity: String? { peer?.name }
}
