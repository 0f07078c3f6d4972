import Foundation

/// Why the dev PKI (`CertificateAuthority`, `PKIDirectory`, `PKIWorkloadDirectory`) refused to
/// do something. The description is a sentence for a person at a terminal.
public enum PKIError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A name that cannot be a workload identity, and why.
    case invalidIdentity(name: String, reason: String)
    /// A validity period or TTL that makes no sense (empty, negative, too short), and why.
    case invalidValidity(String)
    /// The certificate asked for would still be valid after its issuer expires.
    case outlivesIssuer(notAfter: Date, issuerNotAfter: Date, issuer: String)
    /// A certificate used as a CA cannot sign certificates.
    case notACertificateAuthority(String)
    /// A private key does not belong to the certificate it was paired with.
    case keyMismatch(String)
    /// A key of a kind the mesh does not use (workload keys are ECDSA P-256).
    case unsupportedKey(String)
    /// `certs init` found a CA in the directory and was not told to replace it.
    case certificateAuthorityExists(directory: String, files: [String])
    /// A directory given as a CA directory holds no CA (no issuer, or no anchor key).
    case notACertificateAuthorityDirectory(directory: String, missing: String)
    /// A file the PKI needs is not there.
    case missingFile(String)
    /// A file is there but does not hold what it should.
    case unreadableFile(path: String, reason: String)
    /// What was just made does not verify against the trust bundle: a broken CA directory.
    case doesNotVerify(String)

    public var description: String {
        switch self {
        case let .invalidIdentity(name, reason):
            return "invalid identity \"\(name)\": \(reason). A workload identity is "
                + "<serviceaccount>.<namespace>.serviceaccount.identity.linkerd.<trust domain>, "
                + "e.g. default.test.serviceaccount.identity.linkerd.cluster.local"
        case let .invalidValidity(reason):
            return "invalid validity: \(reason)"
        case let .outlivesIssuer(notAfter, issuerNotAfter, issuer):
            return "the certificate would expire \(Self.format(notAfter)), after its issuer \(issuer) "
                + "(expires \(Self.format(issuerNotAfter))); shorten the ttl or rotate the issuer"
        case let .notACertificateAuthority(what):
            return "\(what) is not a CA certificate (no basicConstraints CA:TRUE with keyCertSign)"
        case let .keyMismatch(what):
            return "\(what): the private key does not match the certificate"
        case let .unsupportedKey(what):
            return what
        case let .certificateAuthorityExists(directory, files):
            return "\(directory) already holds a CA (\(files.joined(separator: ", "))); "
                + "refusing to overwrite it (pass --force to replace it, which makes every certificate it issued untrusted)"
        case let .notACertificateAuthorityDirectory(directory, missing):
            return "\(directory) is not a CA directory (there is no \(missing) in it); make one with 'switchyard certs init --out \(directory)'"
        case let .missingFile(path):
            return "\(path): no such file"
        case let .unreadableFile(path, reason):
            return "\(path): \(reason)"
        case let .doesNotVerify(reason):
            return reason
        }
    }

    /// `2026-05-01T12:00:00Z`.
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
