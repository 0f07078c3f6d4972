import ArgumentParser
import Foundation
import SwitchyardTLS

extension CertsCommand {
    /// `switchyard certs init --out DIR [--trust-domain D]`: a new trust anchor and issuer.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Make a trust anchor and an issuer signed by it.",
            discussion: """
                Writes DIR/trust-anchor.crt, trust-anchor.key, issuer.crt, issuer.key and \
                trust-bundle.pem (the anchor, for --trust-bundle). Keys are mode 0600, certificates \
                0644; each file is written atomically. Refuses to overwrite a CA already in DIR.
                """)

        @Option(help: ArgumentHelp("Directory to write the CA into (created, mode 0700, when missing).", valueName: "dir"))
        var out: String

        @Option(help: "Trust domain: names the anchor root.linkerd.<d> and the issuer identity.linkerd.<d>.")
        var trustDomain: String = "cluster.local"

        @Option(help: ArgumentHelp("How long the trust anchor is valid (Go duration).", valueName: "duration"))
        var anchorValidity: String = "87600h"

        @Option(help: ArgumentHelp("How long the issuer is valid (Go duration).", valueName: "duration"))
        var issuerValidity: String = "8760h"

        @Flag(help: "Replace a CA already in the directory (every certificate it issued stops being trusted).")
        var force = false

        func validate() throws {
            do {
                try PKIIdentityName.validate(trustDomain)
            } catch let PKIError.invalidIdentity(_, reason) {
                throw ValidationError("--trust-domain \"\(trustDomain)\" is not a DNS domain: \(reason)")
            }
            _ = try CertsCommand.duration(anchorValidity, option: "--anchor-validity")
            _ = try CertsCommand.duration(issuerValidity, option: "--issuer-validity")
        }

        func run() throws {
            try CertsCommand.reportingErrors {
                let directory = PKIDirectory(out)
                let existing = directory.existingFiles()
                if !existing.isEmpty && !force {
                    throw PKIError.certificateAuthorityExists(directory: out, files: existing)
                }
                let now = Date()
                let anchor = try CertificateAuthority.makeTrustAnchor(
                    commonName: CertificateAuthority.trustAnchorCommonName(trustDomain: trustDomain),
                    validity: try CertsCommand.duration(anchorValidity, option: "--anchor-validity"), now: now)
                let issuer = try CertificateAuthority.makeIssuer(
                    signedBy: anchor, commonName: CertificateAuthority.issuerCommonName(trustDomain: trustDomain),
                    validity: try CertsCommand.duration(issuerValidity, option: "--issuer-validity"), now: now)
                let written = try directory.create(anchor: anchor, issuer: issuer, force: force)
                print("trust anchor  \(anchor.certificate.subjectCommonName ?? "")  serial \(anchor.certificate.serialNumber)  expires \(CertsCommand.timestamp(anchor.certificate.notAfter))")
                print("issuer        \(issuer.certificate.subjectCommonName ?? "")  serial \(issuer.certificate.serialNumber)  expires \(CertsCommand.timestamp(issuer.certificate.notAfter))")
                for path in written { print("wrote \(path)") }
                print("""
                    next: switchyard certs issue --ca \(out) \
                    --identity default.<namespace>.serviceaccount.identity.linkerd.\(trustDomain) \
                    --out <identity-dir>/<namespace>/default
                    """)
            }
        }
    }
}
