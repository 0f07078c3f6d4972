import ArgumentParser
import Foundation
import SwitchyardTLS

extension CertsCommand {
    /// `switchyard certs issue --ca DIR --identity NAME [--ttl 24h] --out DIR`: a workload certificate.
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue",
            abstract: "Issue a workload certificate signed by a CA directory's issuer.",
            discussion: """
                Writes OUT/tls.key (a fresh ECDSA P-256 key, mode 0600) and then OUT/tls.crt (the \
                certificate followed by the issuer), each atomically, replacing what was there: a \
                running daemon picks the new pair up within two seconds. The daemon reads identity \
                NAME = <sa>.<ns>.serviceaccount.identity.linkerd.<trust domain> from \
                <identity-dir>/<ns>/<sa>/.
                """)

        @Option(help: ArgumentHelp("CA directory made by 'certs init'.", valueName: "dir"))
        var ca: String

        @Option(help: ArgumentHelp("Workload identity: <sa>.<ns>.serviceaccount.identity.linkerd.<trust domain>.", valueName: "name"))
        var identity: String

        @Option(parsing: .unconditional,  // so "--ttl -1h" reaches validate() and gets a real message
                help: ArgumentHelp("How long the certificate is valid from now (Go duration: 24h, 90m, 1h30m, 3600s).", valueName: "duration"))
        var ttl: String = "24h"

        @Option(help: ArgumentHelp("Directory to write tls.crt and tls.key into (created when missing).", valueName: "dir"))
        var out: String

        func validate() throws {
            do {
                try PKIIdentityName.validate(identity)
            } catch let error as PKIError {
                throw ValidationError("--identity: \(error)")
            }
            _ = try CertsCommand.duration(ttl, option: "--ttl")
        }

        func run() throws {
            let ttl = try CertsCommand.duration(self.ttl, option: "--ttl")
            try CertsCommand.reportingErrors {
                let issued = try PKIDirectory(ca).issue(identity: identity, ttl: ttl)
                for warning in warnings(issuer: issued.chain.count > 1 ? issued.chain[1] : nil) { printError("warning: \(warning)") }
                let written = try PKIWorkloadDirectory(out).write(issued)
                let leaf = issued.certificate
                print("identity  \(issued.identity)")
                print("serial    \(leaf.serialNumber)")
                print("valid     \(CertsCommand.timestamp(leaf.notBefore)) to \(CertsCommand.timestamp(leaf.notAfter)) (ttl \(PKIDuration.format(ttl)))")
                print("issuer    \(leaf.issuerCommonName ?? "?")")
                for path in written { print("wrote \(path)") }
            }
        }

        /// Things that are legal but probably not what was meant.
        private func warnings(issuer: Certificate?) -> [String] {
            guard let mesh = PKIIdentityName.meshIdentity(identity) else {
                return ["\(identity) is not a mesh workload identity (<sa>.<ns>.serviceaccount.identity.linkerd.<trust domain>); "
                    + "peers can use the certificate, but switchyard run will not serve it"]
            }
            var warnings: [String] = []
            let components = URL(fileURLWithPath: out).standardizedFileURL.pathComponents
            if components.suffix(2) != [mesh.namespace, mesh.serviceAccount] {
                warnings.append("--out \(out) does not end in \(mesh.namespace)/\(mesh.serviceAccount); "
                    + "switchyard run loads this identity from <identity-dir>/\(mesh.namespace)/\(mesh.serviceAccount)/")
            }
            if let issuerName = issuer?.subjectCommonName, issuerName.hasPrefix("identity.linkerd."),
               issuerName != CertificateAuthority.issuerCommonName(trustDomain: mesh.trustDomain) {
                warnings.append("the identity's trust domain is \(mesh.trustDomain) but the issuer is \(issuerName)")
            }
            return warnings
        }
    }
}
