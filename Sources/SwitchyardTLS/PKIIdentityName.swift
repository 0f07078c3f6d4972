/// The rules for a name the dev PKI puts in a certificate's DNS subjectAltName.
///
/// A mesh workload identity is `<serviceAccount>.<namespace>.serviceaccount.identity.linkerd.<trustDomain>`;
/// any other well-formed DNS name is accepted too (a foreign TLS peer in a test, say), since
/// the certificate does not care, but the daemon only serves mesh identities. Names are checked
/// strictly because peers compare them byte for byte: lower case RFC 1123 labels, no wildcards,
/// no empty labels, no trailing dot.
public enum PKIIdentityName {
    /// The longest DNS name (RFC 1035 §2.3.4, in text form without the trailing dot).
    public static let maximumLength = 253
    /// The longest label.
    public static let maximumLabelLength = 63

    /// The parts of a mesh workload identity.
    public struct MeshIdentity: Hashable, Sendable {
        public var serviceAccount: String
        public var namespace: String
        public var trustDomain: String

        public init(serviceAccount: String, namespace: String, trustDomain: String) {
            self.serviceAccount = serviceAccount
            self.namespace = namespace
            self.trustDomain = trustDomain
        }
    }

    /// Checks `name`.
    /// - Throws: `PKIError.invalidIdentity` saying what is wrong with it.
    public static func validate(_ name: String) throws {
        func invalid(_ reason: String) -> PKIError { .invalidIdentity(name: name, reason: reason) }
        guard !name.isEmpty else { throw invalid("the name is empty") }
        if name.contains("*") {
            throw invalid("wildcards are not allowed: an identity names exactly one workload")
        }
        guard name.utf8.count <= maximumLength else {
            throw invalid("it is \(name.utf8.count) characters long; a DNS name has at most \(maximumLength)")
        }
        if name.hasSuffix(".") { throw invalid("it ends with a dot; write it without the trailing dot") }
        if name.hasPrefix(".") { throw invalid("it starts with a dot (an empty label)") }
        if name.contains("..") { throw invalid("it has an empty label (two dots in a row)") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard label.utf8.count <= maximumLabelLength else {
                throw invalid("label \"\(label)\" is \(label.utf8.count) characters long; a DNS label has at most \(maximumLabelLength)")
            }
            for byte in label.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                    continue
                case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    throw invalid("it has upper case letters; identities are compared exactly, write \(name.lowercased())")
                default:
                    throw invalid("label \"\(label)\" has a character other than a-z, 0-9 and '-' (RFC 1123)")
                }
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                throw invalid("label \"\(label)\" starts or ends with '-' (RFC 1123)")
            }
        }
        if let last = labels.last, last.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            throw invalid("it looks like an IP address; an identity is a DNS name")
        }
    }

    /// The service account, namespace and trust domain of a mesh workload identity, or nil when
    /// `name` is not of the form `<sa>.<ns>.serviceaccount.identity.linkerd.<trustDomain>`.
    /// Does not validate; call `validate(_:)` first.
    public static func meshIdentity(_ name: String) -> MeshIdentity? {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 6, labels[2] == "serviceaccount", labels[3] == "identity", labels[4] == "linkerd",
              !labels[0].isEmpty, !labels[1].isEmpty
        else { return nil }
        let trustDomain = labels[5...].joined(separator: ".")
        guard !trustDomain.isEmpty else { return nil }
        return MeshIdentity(serviceAccount: labels[0], namespace: labels[1], trustDomain: trustDomain)
    }
}
