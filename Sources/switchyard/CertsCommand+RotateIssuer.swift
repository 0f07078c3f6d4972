import ArgumentParser
import Foundation
import SwitchyardTLS

extension CertsCommand {
    /// `switchyard certs rotate-issuer --ca DIR`: a new issuer signed by the same trust anchor.
    struct RotateIssuer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-issuer",
            abstract: "Replace a CA directory's issuer with a new one signed by the same trust anchor.",
            discussion: """
                Writes DIR/issuer.key then DIR/issuer.crt, atomically. Certificates the old issuer \
                signed stay valid until they expire (their chain carries the old issuer, which the \
                same anchor signed); re-issue workloads to move them to the new issuer. Needs \
                DIR/trust-anchor.key.
                """)

        @Option(help: ArgumentHelp("CA directory made by 'certs init'.", valueName: "dir"))
        var ca: String

        @Option(help: ArgumentHelp("How long the new issuer is valid (Go duration).", valueName: "duration"))
        var validity: String = "8760h"

        func validate() throws {
            _ = try CertsCommand.duration(validity, option: "--validity")
        }

        func run() throws {
            let validity = try CertsCommand.duration(self.validity, option: "--validity")
            try CertsCommand.reportingErrors {
                let directory = PKIDirectory(ca)
                let anchor = try directory.loadTrustAnchor()
                let old = try directory.loadIssuer()
                let issuer = try CertificateAuthority.makeIssuer(
                    signedBy: anchor, commonName: old.certificate.subjectCommonName ?? CertificateAuthority.issuerCommonName(),
                    validity: validity)
                let written = try directory.replaceIssuer(with: issuer)
                print("old issuer  serial \(old.certificate.serialNumber)  expires \(CertsCommand.timestamp(old.certificate.notAfter))")
                print("new issuer  \(issuer.certificate.subjectCommonName ?? "")  serial \(issuer.certificate.serialNumber)  expires \(CertsCommand.timestamp(issuer.certificate.notAfter))")
                for path in written { print("wrote \(path)") }
                print("next: re-issue every workload certificate with 'switchyard certs issue --ca \(ca) ...'")
            }
        }
    }
}
