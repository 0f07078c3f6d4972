import Foundation

/// One workload identity this daemon can present: its certificate chain (leaf first) and key.
/// Built only from a pair that checked out (key matches, chain verifies, SAN is the identity).
public struct IdentityCredential: Sendable, CustomStringConvertible {
    /// The identity's DNS name, the leaf's single DNS SAN:
    /// `<sa>.<ns>.serviceaccount.identity.linkerd.<trustDomain>`.
    public let identity: String
    /// Leaf first, then intermediates (the issuer), as in `tls.crt`.
    public let chain: [Certificate]
    public let key: PrivateKey

    public init(identity: String, chain: [Certificate], key: PrivateKey) {
        precondition(!chain.isEmpty, "a credential needs a certificate")
        self.identity = identity
        self.chain = chain
        self.key = key
    }

    public var leaf: Certificate { chain[0] }
    public var notAfter: Date { leaf.notAfter }

    public var description: String { "\(identity) (serial \(leaf.serialNumber), expires \(leaf.notAfter))" }
}
