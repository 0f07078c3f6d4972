import ArgumentParser
import Foundation
import SwitchyardTLS

/// `switchyard certs`: the dev PKI (trust anchor → issuer → workload certificates), made with
/// OpenSSL's C API. What each file is and how to rotate each tier: certs/README.md.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a dev PKI: a trust anchor and issuer, and workload certificates.",
        discussion: """
            init makes a CA directory (trust anchor, issuer, trust bundle); issue makes a workload \
            certificate (tls.crt, tls.key) signed by its issuer; rotate-issuer replaces the issuer \
            with a new one signed by the same anchor. Rotation of every tier: certs/README.md.
            """,
        subcommands: [Init.self, Issue.self, RotateIssuer.self])

    /// Parses a Go-style duration option (`24h`, `90m`, `1h30m`, `3600s`) for `validate()`.
    static func duration(_ text: String, option: String) throws -> Duration {
        do {
            return try PKIDuration.parse(text)
        } catch let PKIError.invalidValidity(reason) {
            throw ValidationError("\(option): \(reason)")
        }
    }

    /// `2026-05-01T12:00:00Z`.
    static func timestamp(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    /// Runs `body`, turning a PKI or file error into `error: ...` on stderr and exit status 1.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as PKIError {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch let error as AtomicFileError {
            printError("error: writing \(error)")
            throw ExitCode(1)
        } catch let error as OpenSSLError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
