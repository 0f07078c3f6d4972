import COpenSSL
import Foundation

/// A certificate authority of the dev PKI: a CA certificate and its private key, made and used
/// with OpenSSL's C API. Linkerd's model, three tiers:
///
/// - the **trust anchor** (`root.linkerd.<trustDomain>`): self-signed, long-lived (10 years),
///   only signs issuers; its certificate is what every node's trust bundle holds;
/// - the **issuer** (`identity.linkerd.<trustDomain>`): an intermediate CA signed by the
///   anchor, `pathlen:0`, 1 year; signs workload certificates;
/// - **workload certificates**: short-lived (24 h), one DNS SAN = the workload identity,
///   served with the issuer as `leaf + issuer` in `tls.crt`.
///
/// Every certificate is ECDSA P-256 with SHA-256, has a random 128-bit serial, and carries
/// subject and authority key identifiers. Immutable; safe to share.
public struct CertificateAuthority: Sendable {
    /// The CA's own certificate.
    public let certificate: Certificate
    /// The CA's private key; matches `certificate`.
    public let key: PrivateKey
    /// Certificates between this CA and a trust anchor, nearest first (empty for the usual
    /// anchor → issuer layout). They follow `certificate` in every chain this CA issues.
    public let intermediates: [Certificate]

    /// How long a trust anchor is valid by default: 10 years.
    public static let defaultTrustAnchorValidity: Duration = .seconds(3650 * 86_400)
    /// How long an issuer is valid by default: 1 year.
    public static let defaultIssuerValidity: Duration = .seconds(365 * 86_400)
    /// How long a workload certificate is valid by default: 24 hours.
    public static let defaultWorkloadTTL: Duration = .seconds(86_400)
    /// How far before "now" certificates become valid, so a peer whose clock is a little
    /// behind does not see them as not yet valid (Linkerd's identity controller does the same).
    public static let clockSkewAllowance: Duration = .seconds(60)

    /// The trust anchor's commonName for a trust domain: `root.linkerd.<trustDomain>`.
    public static func trustAnchorCommonName(trustDomain: String = "cluster.local") -> String {
        "root.linkerd.\(trustDomain)"
    }

    /// The issuer's commonName for a trust domain: `identity.linkerd.<trustDomain>`.
    public static func issuerCommonName(trustDomain: String = "cluster.local") -> String {
        "identity.linkerd.\(trustDomain)"
    }

    /// A CA from a certificate and key already made (e.g. read from `issuer.crt` / `issuer.key`).
    /// - Parameter intermediates: certificates above `certificate`, below the anchor (rarely any).
    /// - Throws: `PKIError.notACertificateAuthority` when the certificate cannot sign;
    ///   `PKIError.keyMismatch` when the key is not the certificate's.
    public init(certificate: Certificate, key: PrivateKey, intermediates: [Certificate] = []) throws {
        let name = certificate.subjectCommonName ?? "the certificate"
        guard X509_check_ca(certificate.x509) == 1 else {
            throw PKIError.notACertificateAuthority(name)
        }
        guard key.matches(certificate) else { throw PKIError.keyMismatch(name) }
        self.certificate = certificate
        self.key = key
        self.intermediates = intermediates
    }

    /// Whether this CA is a trust anchor (self-signed), rather than an issuer.
    public var isTrustAnchor: Bool { certificate.isSelfSigned }

    // MARK: - Making CAs

    /// A new self-signed trust anchor: a fresh P-256 key; `basicConstraints` critical `CA:TRUE,
    /// pathlen:1` (it signs issuers, which sign workloads); `keyUsage` critical `keyCertSign,
    /// cRLSign`; subject and authority key identifiers. Valid from `now` minus
    /// `clockSkewAllowance` until `now + validity`.
    public static func makeTrustAnchor(
        commonName: String = trustAnchorCommonName(),
        validity: Duration = defaultTrustAnchorValidity,
        now: Date = Date()
    ) throws -> CertificateAuthority {
        let (notBefore, notAfter) = try period(validity: validity, now: now)
        return try makeTrustAnchor(commonName: commonName, notBefore: notBefore, notAfter: notAfter)
    }

    /// A new self-signed trust anchor valid exactly from `notBefore` to `notAfter` (for tests
    /// of expired and not-yet-valid anchors).
    public static func makeTrustAnchor(commonName: String, notBefore: Date, notAfter: Date) throws -> CertificateAuthority {
        try checkPeriod(notBefore: notBefore, notAfter: notAfter)
        let key = try PrivateKey.generateP256()
        let builder = CertificateBuilder(
            subjectCommonName: commonName, subjectKey: key, notBefore: notBefore, notAfter: notAfter,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:1"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        return try CertificateAuthority(certificate: builder.sign(issuer: nil, signingKey: key), key: key)
    }

    /// A new issuer (intermediate CA) signed by `anchor`: a fresh P-256 key; `basicConstraints`
    /// critical `CA:TRUE, pathlen:0` (it signs only workload certificates); `keyUsage` critical
    /// `keyCertSign, cRLSign`; key identifiers. Valid from `now` minus `clockSkewAllowance` until
    /// `now + validity`.
    /// - Throws: `PKIError.outlivesIssuer` when it would outlive `anchor`.
    public static func makeIssuer(
        signedBy anchor: CertificateAuthority,
        commonName: String = issuerCommonName(),
        validity: Duration = defaultIssuerValidity,
        now: Date = Date()
    ) throws -> CertificateAuthority {
        let (notBefore, notAfter) = try period(validity: validity, now: now)
        return try makeIssuer(signedBy: anchor, commonName: commonName, notBefore: notBefore, notAfter: notAfter)
    }

    /// A new issuer signed by `anchor`, valid exactly from `notBefore` to `notAfter`.
    public static func makeIssuer(
        signedBy anchor: CertificateAuthority, commonName: String, notBefore: Date, notAfter: Date
    ) throws -> CertificateAuthority {
        try checkPeriod(notBefore: notBefore, notAfter: notAfter)
        try anchor.checkOutlives(notAfter)
        let key = try PrivateKey.generateP256()
        let builder = CertificateBuilder(
            subjectCommonName: commonName, subjectKey: key, notBefore: notBefore, notAfter: notAfter,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        let certificate = try builder.sign(issuer: anchor.certificate, signingKey: anchor.key)
        return try CertificateAuthority(certificate: certificate, key: key, intermediates: anchor.chainAboveLeaf)
    }

    // MARK: - Issuing workload certificates

    /// Issues a workload certificate for `identity`, valid from `now` minus
    /// `clockSkewAllowance` until `now + ttl` (so it is usable for `ttl` from now).
    ///
    /// The leaf: ECDSA P-256 (`key`, or a fresh one), exactly one DNS subjectAltName =
    /// `identity`, subject `CN=identity` (left empty, with the SAN critical, when the identity
    /// is longer than the 64 characters a commonName may hold), `basicConstraints` critical
    /// `CA:FALSE`, `keyUsage` critical `digitalSignature`, `extendedKeyUsage` `serverAuth,
    /// clientAuth`, a random 128-bit serial, key identifiers, signed ECDSA-SHA256.
    /// - Throws: `PKIError.invalidIdentity` for a name that is not a well-formed DNS name;
    ///   `PKIError.invalidValidity` for a TTL under one second; `PKIError.outlivesIssuer` when it
    ///   would be valid after this CA expires; `PKIError.unsupportedKey` for a non-P-256 `key`.
    public func issue(
        identity: String, ttl: Duration = defaultWorkloadTTL, now: Date = Date(), key: PrivateKey? = nil
    ) throws -> IssuedCredential {
        let (notBefore, notAfter) = try Self.period(validity: ttl, now: now)
        return try issue(identity: identity, notBefore: notBefore, notAfter: notAfter, key: key)
    }

    /// Issues a workload certificate valid exactly from `notBefore` to `notAfter` (for tests
    /// of expired and not-yet-valid certificates). Otherwise as `issue(identity:ttl:now:key:)`.
    public func issue(identity: String, notBefore: Date, notAfter: Date, key: PrivateKey? = nil) throws -> IssuedCredential {
        try PKIIdentityName.validate(identity)
        try Self.checkPeriod(notBefore: notBefore, notAfter: notAfter)
        try checkOutlives(notAfter)
        let leafKey = try key ?? PrivateKey.generateP256()
        guard leafKey.isP256 else {
            throw PKIError.unsupportedKey("workload keys are ECDSA P-256; this key is \(leafKey.kind)")
        }
        let fitsCommonName = identity.utf8.count <= CertificateBuilder.maximumCommonNameLength
        let builder = CertificateBuilder(
            subjectCommonName: fitsCommonName ? identity : nil, subjectKey: leafKey,
            notBefore: notBefore, notAfter: notAfter,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth,clientAuth"),
                (NID_subject_alt_name, (fitsCommonName ? "" : "critical,") + "DNS:\(identity)"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ])
        let leaf = try builder.sign(issuer: certificate, signingKey: self.key)
        return IssuedCredential(identity: identity, chain: [leaf] + chainAboveLeaf, key: leafKey)
    }

    // MARK: - Helpers

    /// What follows a certificate this CA signs in its chain: this CA and its intermediates,
    /// without any self-signed certificate (anchors belong in trust bundles, not chains).
    var chainAboveLeaf: [Certificate] {
        ([certificate] + intermediates).filter { !$0.isSelfSigned }
    }

    /// `notAfter` must not be after this CA's own expiry.
    func checkOutlives(_ notAfter: Date) throws {
        let own = certificate.notAfter
        if notAfter.timeIntervalSince1970.rounded(.down) > own.timeIntervalSince1970 {
            throw PKIError.outlivesIssuer(notAfter: notAfter, issuerNotAfter: own,
                                          issuer: certificate.subjectCommonName ?? "the issuer")
        }
    }

    static func period(validity: Duration, now: Date) throws -> (notBefore: Date, notAfter: Date) {
        let seconds = validity.timeInterval
        guard seconds >= 1 else {
            throw PKIError.invalidValidity("too short; a certificate must be valid for at least 1s")
        }
        // Whole seconds: certificates carry no fractions, and a TTL should land exactly.
        let start = now.timeIntervalSince1970.rounded(.down)
        return (Date(timeIntervalSince1970: start - clockSkewAllowance.timeInterval),
                Date(timeIntervalSince1970: start + seconds.rounded(.down)))
    }

    static func checkPeriod(notBefore: Date, notAfter: Date) throws {
        guard notAfter.timeIntervalSince1970.rounded(.down) > notBefore.timeIntervalSince1970.rounded(.down) else {
            throw PKIError.invalidValidity("notAfter (\(PKIError.format(notAfter))) is not after notBefore (\(PKIError.format(notBefore)))")
        }
    }
}

/// A workload certificate just issued, with its key: what `certs issue` writes as `tls.crt`
/// (`chainPEM`) and `tls.key` (`keyPEM`).
public struct IssuedCredential: Sendable {
    /// The identity, the leaf's only DNS SAN.
    public let identity: String
    /// The leaf, then the issuer (and any intermediates above it); never the trust anchor.
    public let chain: [Certificate]
    /// The leaf's private key (ECDSA P-256).
    public let key: PrivateKey

    /// The workload certificate.
    public var certificate: Certificate { chain[0] }
    /// `tls.crt`: every certificate of `chain` as PEM, leaf first.
    public var chainPEM: String { chain.map(\.pem).joined() }
    /// `tls.key`: the key as unencrypted PKCS#8 PEM.
    public var keyPEM: String { key.pem }
    /// The same credential as the TLS layer holds it.
    public var credential: IdentityCredential { IdentityCredential(identity: identity, chain: chain, key: key) }
}
