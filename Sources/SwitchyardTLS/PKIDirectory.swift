import Foundation

/// A CA directory of the dev PKI, as `switchyard certs init --out DIR` writes it:
///
/// | file | holds | mode |
/// | --- | --- | --- |
/// | `trust-anchor.crt` | the self-signed trust anchor | 0644 |
/// | `trust-anchor.key` | its key (only needed to make issuers) | 0600 |
/// | `issuer.crt` | the issuer, signed by the anchor (more certificates may follow it) | 0644 |
/// | `issuer.key` | its key | 0600 |
/// | `trust-bundle.pem` | the anchors peers trust; at first the anchor alone | 0644 |
///
/// Every file is written with `AtomicFile`.
public struct PKIDirectory: Sendable {
    /// The directory.
    public let path: String

    /// `trust-anchor.crt`.
    public static let trustAnchorCertificateName = "trust-anchor.crt"
    /// `trust-anchor.key`.
    public static let trustAnchorKeyName = "trust-anchor.key"
    /// `issuer.crt`.
    public static let issuerCertificateName = "issuer.crt"
    /// `issuer.key`.
    public static let issuerKeyName = "issuer.key"
    /// `trust-bundle.pem`.
    public static let trustBundleName = "trust-bundle.pem"
    /// Every file of a CA directory.
    public static let fileNames = [
        trustAnchorCertificateName, trustAnchorKeyName, issuerCertificateName, issuerKeyName, trustBundleName,
    ]
    /// Permission bits of private keys.
    public static let keyMode: mode_t = 0o600
    /// Permission bits of certificates and bundles.
    public static let certificateMode: mode_t = 0o644
    /// Permission bits of a CA directory `create` makes (it holds CA keys).
    public static let directoryMode: mode_t = 0o700

    /// The CA directory at `path` (which need not exist yet).
    public init(_ path: String) { self.path = path }

    /// `<path>/trust-anchor.crt`, and so on for each file.
    public var trustAnchorCertificatePath: String { file(Self.trustAnchorCertificateName) }
    public var trustAnchorKeyPath: String { file(Self.trustAnchorKeyName) }
    public var issuerCertificatePath: String { file(Self.issuerCertificateName) }
    public var issuerKeyPath: String { file(Self.issuerKeyName) }
    public var trustBundlePath: String { file(Self.trustBundleName) }

    /// The names of the CA files already in the directory.
    public func existingFiles() -> [String] {
        Self.fileNames.filter { FileManager.default.fileExists(atPath: file($0)) }
    }

    /// Writes a new CA: `anchor` and `issuer` (signed by it), and a trust bundle holding the
    /// anchor. Creates the directory (mode 0700) when it is missing. Keys are written before
    /// certificates, the bundle last.
    /// - Parameter force: replace a CA already there. Without it, any CA file present is an error.
    /// - Returns: the paths written, in order.
    /// - Throws: `PKIError.certificateAuthorityExists` (nothing written), `AtomicFileError`.
    @discardableResult
    public func create(anchor: CertificateAuthority, issuer: CertificateAuthority, force: Bool = false) throws -> [String] {
        let existing = existingFiles()
        if !existing.isEmpty && !force {
            throw PKIError.certificateAuthorityExists(directory: path, files: existing)
        }
        try Self.makeDirectory(path, mode: Self.directoryMode)
        let entries = [
            AtomicFile.Entry(path: trustAnchorKeyPath, contents: anchor.key.pem, mode: Self.keyMode),
            AtomicFile.Entry(path: issuerKeyPath, contents: issuer.key.pem, mode: Self.keyMode),
            AtomicFile.Entry(path: trustAnchorCertificatePath, contents: anchor.certificate.pem, mode: Self.certificateMode),
            AtomicFile.Entry(path: issuerCertificatePath, contents: ([issuer.certificate] + issuer.intermediates).map(\.pem).joined(),
                             mode: Self.certificateMode),
            AtomicFile.Entry(path: trustBundlePath, contents: anchor.certificate.pem, mode: Self.certificateMode),
        ]
        try AtomicFile.write(entries)
        return entries.map(\.path)
    }

    /// Replaces the issuer with `issuer` (key first, then certificate): issuer rotation.
    /// Certificates the old issuer signed stay valid (they carry it in their chain, and it
    /// chains to the same anchor); new ones are signed by `issuer`.
    @discardableResult
    public func replaceIssuer(with issuer: CertificateAuthority) throws -> [String] {
        let entries = [
            AtomicFile.Entry(path: issuerKeyPath, contents: issuer.key.pem, mode: Self.keyMode),
            AtomicFile.Entry(path: issuerCertificatePath, contents: ([issuer.certificate] + issuer.intermediates).map(\.pem).joined(),
                             mode: Self.certificateMode),
        ]
        try AtomicFile.write(entries)
        return entries.map(\.path)
    }

    /// The trust anchor, with its key (to make a new issuer).
    public func loadTrustAnchor() throws -> CertificateAuthority {
        try load(certificate: trustAnchorCertificatePath, key: trustAnchorKeyPath)
    }

    /// The issuer, with its key and any intermediates after it in `issuer.crt`.
    public func loadIssuer() throws -> CertificateAuthority {
        try load(certificate: issuerCertificatePath, key: issuerKeyPath)
    }

    /// The anchors of `trust-bundle.pem`.
    public func loadTrustBundle() throws -> TrustBundle {
        let text = try Self.read(trustBundlePath)
        do {
            return try TrustBundle(pem: text)
        } catch {
            throw PKIError.unreadableFile(path: trustBundlePath, reason: "not a PEM trust bundle: \(error)")
        }
    }

    /// Issues a workload certificate with this directory's issuer, and checks that its chain
    /// verifies against this directory's trust bundle at `now` before returning it, so a broken
    /// CA directory (an issuer from another anchor, an expired issuer) is caught here rather
    /// than by a peer.
    /// - Throws: `PKIError` (including `.doesNotVerify`), `OpenSSLError`.
    public func issue(identity: String, ttl: Duration = CertificateAuthority.defaultWorkloadTTL, now: Date = Date()) throws -> IssuedCredential {
        let issuer = try loadIssuer()
        let bundle = try loadTrustBundle()
        let issued = try issuer.issue(identity: identity, ttl: ttl, now: now)
        do {
            try bundle.verify(chain: issued.chain, at: now)
        } catch {
            throw PKIError.doesNotVerify(
                "the new certificate does not verify against \(trustBundlePath): \(error) "
                    + "(is \(issuerCertificatePath) signed by an anchor in the bundle, and still valid?)")
        }
        return issued
    }

    private func load(certificate certificatePath: String, key keyPath: String) throws -> CertificateAuthority {
        for required in [certificatePath, keyPath] where !FileManager.default.fileExists(atPath: required) {
            throw PKIError.notACertificateAuthorityDirectory(directory: path, missing: String(required.split(separator: "/").last ?? ""))
        }
        let certificateText = try Self.read(certificatePath)
        let keyText = try Self.read(keyPath)
        let chain: [Certificate]
        do { chain = try Certificate.parseChain(pem: certificateText) } catch {
            throw PKIError.unreadableFile(path: certificatePath, reason: "not a PEM certificate: \(error)")
        }
        let key: PrivateKey
        do { key = try PrivateKey.parse(pem: keyText) } catch {
            throw PKIError.unreadableFile(path: keyPath, reason: "not a PEM private key: \(error)")
        }
        do {
            return try CertificateAuthority(certificate: chain[0], key: key, intermediates: Array(chain.dropFirst()))
        } catch let error as PKIError {
            switch error {
            case .keyMismatch: throw PKIError.keyMismatch("\(keyPath) and \(certificatePath)")
            case .notACertificateAuthority: throw PKIError.notACertificateAuthority(certificatePath)
            default: throw error
            }
        }
    }

    private func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    static func read(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw PKIError.missingFile(path) }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PKIError.unreadableFile(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
    }

    /// Creates `path` (and its parents, 0755) with `mode` when it does not exist.
    static func makeDirectory(_ path: String, mode: mode_t) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PKIError.unreadableFile(path: path, reason: "exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw PKIError.unreadableFile(path: path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
    }
}
