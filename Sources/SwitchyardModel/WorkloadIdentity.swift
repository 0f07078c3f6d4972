/// A workload's mesh identity:
/// `<serviceAccount>.<namespace>.serviceaccount.identity.linkerd.<trustDomain>`,
/// carried as the single DNS SAN of its certificate.
public struct WorkloadIdentity: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var serviceAccount: String
    public var namespace: String
    public var trustDomain: String

    public init(serviceAccount: String, namespace: String, trustDomain: String = "cluster.local") {
        self.serviceAccount = serviceAccount
        self.namespace = namespace
        self.trustDomain = trustDomain
    }

    /// The DNS name, e.g. `default.test.serviceaccount.identity.linkerd.cluster.local`.
    public var name: String { "\(serviceAccount).\(namespace).serviceaccount.identity.linkerd.\(trustDomain)" }

    public var description: String { name }

    public static func < (lhs: WorkloadIdentity, rhs: WorkloadIdentity) -> Bool { lhs.name < rhs.name }
}
