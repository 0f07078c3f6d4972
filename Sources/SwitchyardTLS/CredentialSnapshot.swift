import Foundation

/// The credentials in force at one instant: the trust bundle and every identity this daemon
/// can present. Immutable; every new handshake reads the current one, so a rotation takes
/// effect at the next handshake while established connections keep what they negotiated.
///
/// It carries the TLS contexts built from those credentials: one server context presenting
/// whichever served identity a ClientHello's SNI names, and one client context per identity.
public final class CredentialSnapshot: Sendable {
    /// Increases by one with every published change.
    public let generation: Int
    /// When this snapshot was built (for logs and the "last reload" metric).
    public let publishedAt: Date
    public let trustBundle: TrustBundle
    /// Identity name -> its credential.
    public let credentials: [String: IdentityCredential]
    /// Accepts mTLS for every served identity (an unknown SNI is refused).
    public let serverContext: TLSServerContext
    /// Identity name -> the context that dials peers as that identity.
    public let clientContexts: [String: TLSClientContext]

    /// - Throws: `TLSError` when OpenSSL refuses to build a context from these credentials.
    public init(generation: Int, trustBundle: TrustBundle, credentials: [String: IdentityCredential],
                configuration: TLSConfiguration = .default) throws(TLSError) {
        self.generation = generation
        self.publishedAt = Date()
        self.trustBundle = trustBundle
        self.credentials = credentials
        serverContext = try TLSServerContext(credentials: credentials.keys.sorted().map { credentials[$0]! },
                                             trustBundle: trustBundle, configuration: configuration)
        var clients: [String: TLSClientContext] = [:]
        for (identity, credential) in credentials {
            clients[identity] = try TLSClientContext(credential: credential, trustBundle: trustBundle, configuration: configuration)
        }
        clientContexts = clients
    }

    /// The credential for an identity name, if this daemon serves it.
    public func credential(for identity: String) -> IdentityCredential? { credentials[identity] }

    /// The context for dialing peers as `identity`, if this daemon serves it.
    public func clientContext(for identity: String) -> TLSClientContext? { clientContexts[identity] }

    /// When each served certificate expires (for metrics), by identity name.
    public var expiries: [String: Date] { credentials.mapValues(\.notAfter) }
}
