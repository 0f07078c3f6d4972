import Foundation

/// The verified identity of the peer of a TLS connection: the single DNS SAN of its leaf
/// certificate, after its chain verified against the trust bundle (and, on the client side,
/// after it equalled the identity we dialled).
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The workload identity, e.g. `web.test.serviceaccount.identity.linkerd.cluster.local`.
    public let name: String
    /// The leaf certificate's serial number (upper-case hex), for logs.
    public let serialNumber: String
    /// The leaf certificate's end of validity.
    public let notAfter: Date

    public init(name: String, serialNumber: String, notAfter: Date) {
        self.name = name
        self.serialNumber = serialNumber
        self.notAfter = notAfter
    }

    public var description: String { name }
}
