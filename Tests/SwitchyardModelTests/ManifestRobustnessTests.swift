import Foundation
import Testing
@testable import SwitchyardModel

/// The loader never crashes or hangs, whatever the input; limits are enforced.
@Suite struct ManifestRobustnessTests {
    /// Loads `text`; succeeding or throwing `ManifestErrors` are both fine, anything else is not.
    @discardableResult
    func survives(_ text: String, limits: ManifestLimits = .default, sourceLocation: SourceLocation = #_sourceLocation) -> [ManifestError] {
        do {
            _ = try loadManifest(text, limits: limits)
            return []
        } catch let errors as ManifestErrors {
            #expect(!errors.errors.isEmpty, sourceLocation: sourceLocation)
            return errors.errors
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
            return []
        }
    }

    static var corpus: String {
        (TutorialManifests.files.map(\.contents) + [
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: test}
            spec:
              rules:
              - matches: [{path: {type: RegularExpression, value: "/a(b|c)*"}, headers: [{type: RegularExpression, name: x, value: "v.*"}]}]
                filters:
                - {type: RequestRedirect, requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /x}}}
                timeouts: {request: 1h2m3s4ms}
            """,
        ]).joined(separator: "\n---\n")
    }

    @Test func everyTruncationIsHandled() {
        let bytes = Array(Self.corpus.utf8)
        var loaded = 0
        for length in stride(from: 0, through: bytes.count, by: 3) {
            let text = String(decoding: bytes[0..<length], as: UTF8.self)
            if survives(text).isEmpty { loaded += 1 }
        }
        #expect(loaded > 0)
    }

    @Test func randomEditsAreHandled() {
        var random = SplitMix64(state: 42)
        let base = Array(Self.corpus.unicodeScalars)
        let replacements: [Unicode.Scalar] = ["\t", " ", "\n", ":", "-", "[", "]", "{", "}", "\"", "'", "&", "*", "!", "|", ">", "#", "%", "@", "\u{0}", "\u{FEFF}", "é", "0"]
        for _ in 0..<300 {
            var scalars = base
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let index = Int.random(in: 0..<scalars.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: scalars[index] = replacements.randomElement(using: &random)!
                case 1: scalars.remove(at: index)
                default: scalars.insert(replacements.randomElement(using: &random)!, at: index)
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            survives(text)
        }
    }

    @Test func tabsInsteadOfSpaces() {
        let errors = survives(Self.corpus.replacingOccurrences(of: "  ", with: "\t"))
        #expect(errors.first?.message.contains("YAML syntax error") == true)
    }

    @Test func binaryJunk() {
        var random = SplitMix64(state: 7)
        for size in [1, 16, 512, 65_536] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
            survives(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test(arguments: ["[", "{", "- ", "a:\n "])
    func deepNestingIsRefused(_ unit: String) throws {
        let errors = survives(String(repeating: unit, count: 1 << 20 / unit.utf8.count))
        let error = try #require(errors.first)
        #expect(error.file == "test.yaml")
        #expect(errors.count == 1)
    }

    @Test func nestingDeeperThanTheLimitIsRefused() throws {
        let deep = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx: " + String(repeating: "[", count: 150) + String(repeating: "]", count: 150)
        let errors = survives(deep)
        #expect(errors.map(\.message) == ["nesting is deeper than 100 levels"])
        #expect(errors.first?.document == 0)
        // Within the limit, the unknown field is ignored.
        let fine = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx: " + String(repeating: "[", count: 90) + String(repeating: "]", count: 90)
        #expect(survives(fine).isEmpty)
        #expect(survives(deep, limits: ManifestLimits(maxYAMLDepth: 200)).isEmpty)
    }

    @Test func aliasExpansionIsBounded() throws {
        var lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: p}", "l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            lines.append("l\(level): &l\(level) [\(Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", "))]")
        }
        let start = ContinuousClock.now
        let errors = survives(lines.joined(separator: "\n"))
        #expect(errors.first?.message.contains("too many YAML nodes") == true)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func aliasAsAKeyIsRefused() {
        let errors = survives("""
            a: &a [x, y]
            b: {*a : 1}
            """)
        #expect(errors.map(\.message) == ["line 2: the alias *a is used as a mapping key, which is not supported"])
    }

    @Test func fileOverTheSizeLimitIsRefused() {
        let errors = survives(Self.corpus, limits: ManifestLimits(maxFileBytes: 1024))
        #expect(errors.count == 1)
        #expect(errors.first?.message == "file is \(Self.corpus.utf8.count) bytes, over the limit of 1024 bytes")
        #expect(errors.first?.document == nil)
    }

    @Test func tooManyDocumentsAreRefused() {
        let text = (0..<5).map { "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns\($0)}" }.joined(separator: "\n---\n")
        let errors = survives(text, limits: ManifestLimits(maxDocumentsPerFile: 3))
        #expect(errors.map(\.message) == ["more than 3 YAML documents (the limit)"])
        #expect(survives(text, limits: ManifestLimits(maxDocumentsPerFile: 5)).isEmpty)
    }

    @Test func errorsPerFileAreCapped() {
        let text = (0..<300).map { "apiVersion: v1\nkind: Pod\nmetadata: {name: p\($0)}\nstatus: {podIP: bad}" }.joined(separator: "\n---\n")
        let errors = survives(text)
        #expect(errors.count == ManifestFileDecoder.maxErrorsPerFile + 1)
        #expect(errors.last?.message.contains("too many errors") == true)
    }

    @Test func hugeIntegersAndOddScalars() {
        let errors = survives("""
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            spec:
              ports:
              - {name: a, port: 99999999999999999999999}
              - {name: b, port: 0x50}
              - {name: c, port: .inf}
              - {name: d, port: !!str 80}
              - {name: e, port: ~}
            """)
        #expect(errors.map(\.field) == ["spec.ports[0].port", "spec.ports[2].port", "spec.ports[3].port", "spec.ports[4].port"])
        #expect(errors.first?.message == "integer 99999999999999999999999 is out of range")
    }

    @Test func windowsLineEndingsAndByteOrderMark() throws {
        let unix = try loadManifest(Self.corpus)
        let windows = try loadManifest("\u{FEFF}" + Self.corpus.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(windows.services == unix.services)
        #expect(windows.pods == unix.pods)
        #expect(windows.httpRoutes.map(\.rules) == unix.httpRoutes.map(\.rules))
    }
}
