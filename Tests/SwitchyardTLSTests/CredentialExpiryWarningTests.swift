import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import SwitchyardTLS

/// Keeps what is logged, to assert on it.
struct CapturingLogHandler: LogHandler {
    let lines: NIOLockedValueBox<[(Logger.Level, String)]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let rendered = event.message.description + " "
            + (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLockedValue { $0.append((event.level, rendered)) }
    }
}

@Suite("Credential store logs")
struct CredentialExpiryWarningTests {
    @Test("a warning is logged once per certificate when little of its lifetime remains, and refusals are errors")
    func expiryWarning() throws {
        let world = try IdentityWorld()
        let now = Date()
        // 100 minutes of life, 90 gone: 10 % left, under the 20 % threshold.
        let issued = try world.issue("web", notBefore: now.addingTimeInterval(-90 * 60), notAfter: now.addingTimeInterval(10 * 60))
        let lines = NIOLockedValueBox<[(Logger.Level, String)]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
        let store = try CredentialStore(configuration: CredentialStoreConfiguration(
            identityDirectory: world.identityDirectory, trustBundlePath: world.bundlePath), logger: logger)
        store.refresh()
        store.refresh()
        let warnings = lines.withLockedValue { $0.filter { $0.0 == .warning } }
        #expect(warnings.count == 1)
        #expect(warnings.first?.1.contains("expires soon") == true)
        #expect(warnings.first?.1.contains(issued.certificate.serialNumber) == true)

        try "garbage".write(toFile: world.directory("web").certificatePath, atomically: true, encoding: .utf8)
        store.refresh()
        let errors = lines.withLockedValue { $0.filter { $0.0 == .error } }
        #expect(errors.count == 1)
        #expect(errors.first?.1.contains("still serving serial \(issued.certificate.serialNumber)") == true)
    }

    @Test("a fresh certificate logs no warning")
    func freshNoWarning() throws {
        let world = try IdentityWorld()
        try world.issue("web")
        let lines = NIOLockedValueBox<[(Logger.Level, String)]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
        _ = try CredentialStore(configuration: CredentialStoreConfiguration(
            identityDirectory: world.identityDirectory, trustBundlePath: world.bundlePath), logger: logger)
        #expect(lines.withLockedValue { $0.filter { $0.0 >= .warning } }.isEmpty)
    }
}
