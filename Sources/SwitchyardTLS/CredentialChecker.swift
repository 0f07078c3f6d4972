import Foundation

/// Checks a workload's certificate and key before they may be presented: the key is ECDSA
/// P-256 and matches the leaf, the leaf has exactly one DNS SAN and it is the identity the
/// directory implies, and the chain verifies against the trust bundle now (so expired and
/// not-yet-valid certificates are refused).
struct CredentialChecker {
    let trustBundle: TrustBundle

    func check(identity: String, certificatePEM: String, keyPEM: String, at now: Date = Date()) -> Result<IdentityCredential, CredentialProblem> {
        func problem(_ message: String) -> Result<IdentityCredential, CredentialProblem> {
            .failure(CredentialProblem(path: identity, message: message))
        }
        let chain: [Certificate]
        do { chain = try Certificate.parseChain(pem: certificatePEM) } catch { return problem("tls.crt: \(error)") }
        let key: PrivateKey
        do { key = try PrivateKey.parse(pem: keyPEM) } catch { return problem("tls.key: \(error)") }
        let leaf = chain[0]
        guard key.isP256 else { return problem("tls.key is \(key.kind), workload keys must be ECDSA P-256") }
        guard key.matches(leaf) else { return problem("tls.key does not match the certificate in tls.crt (serial \(leaf.serialNumber))") }
        let names = leaf.dnsNames
        guard names.count == 1 else {
            return problem("the certificate must carry exactly one DNS SAN, it has \(names.isEmpty ? "none" : names.joined(separator: ", "))")
        }
        guard names[0] == identity else { return problem("the certificate names \(names[0]), the directory implies \(identity)") }
        do {
            try trustBundle.verify(chain: chain, at: now)
        } catch {
            return problem("the certificate (serial \(leaf.serialNumber)) does not verify against the trust bundle: \(error)")
        }
        return .success(IdentityCredential(identity: identity, chain: chain, key: key))
    }
}
