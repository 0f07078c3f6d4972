import Foundation

/// The credentials in force at one instant: the trust bundle and every identity this daemon
/// can present. Immutable; every new handshake reads the current one, so a rotation takes
/// effect at the next handshake while established connections keep what they negotiated.
public final class CredentialSnapshot: Sendable {
    /// Increases by one with every published change.
    public let generation: Int
    public let trustBundle: TrustBundle
    /// Identity name -> its credential.
    public let credentials: [String: IdentityCredential]

    public init(generation: Int, trustBundle: TrustBundle, credentials: [String: IdentityCredential]) {
        self.generation = generation
        self.trustBundle = trustBundle
        self.credentials = credentials
    }

    /// The credential for an identity name, if this daemon serves it.
    public func credential(for identity: String) -> IdentityCredential? { credentials[identity] }

    /// When each served certificate expires (for metrics), by identity name.
    public var expiries: [String: Date] { credentials.mapValues(\.notAfter) }
}
