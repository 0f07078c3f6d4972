import Foundation
import Testing
@testable import SwitchyardModel

/// Every manifest of the upstream Gateway API HTTPRoute conformance suite (the shared copy,
/// when present) passes validation, except those using filters Switchyard does not support.
@Suite struct ConformanceManifestTests {
    static let casesFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/gateway-api-httproute-cases.yaml").path

    /// Tests whose manifests use an unsupported filter type.
    static let unsupported: Set<String> = ["HTTPRouteCORS"]

    /// `(test name, manifest text)` for each `yaml: |` block under a `- test:` entry.
    static func manifests(in text: String) -> [(test: String, yaml: String)] {
        var result: [(test: String, yaml: String)] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var test = ""
        var index = 0
        func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("- test: ") { test = String(line.dropFirst(8)) }
            if line.trimmingCharacters(in: .whitespaces) == "yaml: |" {
                let keyIndent = indent(line)
                var block: [Substring] = []
                index += 1
                while index < lines.count, lines[index].isEmpty || indent(lines[index]) > keyIndent {
                    block.append(lines[index])
                    index += 1
                }
                let blockIndent = block.first { !$0.isEmpty }.map(indent) ?? 0
                result.append((test, block.map { $0.isEmpty ? "" : String($0.dropFirst(blockIndent)) }.joined(separator: "\n")))
                continue
            }
            index += 1
        }
        return result
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ConformanceManifestTests.casesFile)))
    func upstreamManifestsValidate() throws {
        let manifests = Self.manifests(in: try String(contentsOfFile: Self.casesFile, encoding: .utf8))
        #expect(manifests.count > 50)
        var routes = 0
        for (test, yaml) in manifests {
            do {
                routes += try loadManifest(yaml, file: test).httpRoutes.count
                #expect(!Self.unsupported.contains(test), "\(test) loaded")
            } catch let errors as ManifestErrors {
                if Self.unsupported.contains(test) {
                    #expect(errors.errors.allSatisfy { $0.message.contains("unsupported filter type") })
                } else {
                    Issue.record("\(test): \(errors)")
                }
            }
        }
        #expect(routes > 50)
    }
}
