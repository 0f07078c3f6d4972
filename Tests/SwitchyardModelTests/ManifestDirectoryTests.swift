import Foundation
import Testing
@testable import SwitchyardModel

/// Reading a directory tree of manifests.
@Suite struct ManifestDirectoryTests {
    static func namespace(_ name: String) -> String {
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n"
    }

    @Test func walksNestedDirectoriesSkippingHiddenNamesAndOtherExtensions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("b.yaml", Self.namespace("b"))
        try directory.write("a.yml", Self.namespace("a"))
        try directory.write("nested/deeper/c.yaml", Self.namespace("c"))
        try directory.write("nested/d.yml", Self.namespace("d"))
        try directory.write(".hidden/e.yaml", Self.namespace("e"))
        try directory.write("nested/.f.yaml", Self.namespace("f"))
        try directory.write("notes.txt", "not: yaml: at: all")
        try directory.write("g.json", "{\"apiVersion\": \"v1\"}")
        try directory.write("h.yaml.bak", Self.namespace("h"))
        let snapshot = try ManifestLoader().load(directory: directory.path)
        #expect(snapshot.namespaces.keys.sorted() == ["a", "b", "c", "d"])
        #expect(snapshot.namespaces["c"]?.source?.file == directory.path + "/nested/deeper/c.yaml")
        #expect(snapshot.namespaces["a"]?.source?.file == directory.path + "/a.yml")
    }

    @Test func filesAreReadInPathOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        // The same object twice: the error is reported at the later path.
        try directory.write("a/x.yaml", Self.namespace("dup"))
        try directory.write("a.yaml", Self.namespace("dup"))
        do {
            _ = try ManifestLoader().load(directory: directory.path)
            Issue.record("expected a duplicate")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.map(\.description) == [
                "\(directory.path)/a/x.yaml: document 0 (Namespace dup): metadata.name: duplicate Namespace dup: also defined in \(directory.path)/a.yaml: document 0",
            ])
        }
    }

    @Test func errorPathsJoinTheDirectoryArgument() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("podinfo/routes.yaml", """
            apiVersion: policy.linkerd.io/v1beta2
            kind: HTTPRoute
            metadata: {name: backend-router, namespace: test}
            spec:
              rules:
              - matches: [{path: {value: /ok}}, {path: {value: nope}}]
            """)
        // A relative argument (reaching the temporary directory from the current one) is kept as given.
        let cwdDepth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: cwdDepth) + directory.path.drop { $0 == "/" } + "/podinfo"
        for argument in [relative, relative + "/"] {
            do {
                _ = try ManifestLoader().load(directory: argument)
                Issue.record("expected an error")
            } catch let errors as ManifestErrors {
                #expect(errors.description == "\(relative)/routes.yaml: document 0 (HTTPRoute test/backend-router): "
                    + "spec.rules[0].matches[1].path.value: must begin with \"/\"")
            }
        }
    }

    @Test func missingDirectoryIsAnError() throws {
        let path = NSTemporaryDirectory() + "switchyard-no-such-dir-" + UUID().uuidString
        do {
            _ = try ManifestLoader().load(directory: path)
            Issue.record("expected an error")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.count == 1)
            #expect(errors.errors.first?.file == path)
            #expect(errors.errors.first?.message.contains("No such file or directory") == true)
        }
    }

    @Test func aFileIsNotADirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("one.yaml", Self.namespace("a"))
        #expect(throws: ManifestErrors.self) { try ManifestLoader().load(directory: directory.path + "/one.yaml") }
    }

    @Test func emptyDirectoryIsAnEmptySnapshot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let snapshot = try ManifestLoader().load(directory: directory.path)
        #expect(snapshot.namespaces.isEmpty && snapshot.services.isEmpty && snapshot.httpRoutes.isEmpty)
    }

    @Test func fileOverTheSizeLimitIsRefusedWithoutReadingIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("small.yaml", Self.namespace("small"))
        try directory.write("big.yaml", Self.namespace("big") + "# " + String(repeating: "x", count: 4096) + "\n")
        do {
            _ = try ManifestLoader(limits: ManifestLimits(maxFileBytes: 2048)).load(directory: directory.path)
            Issue.record("expected an error")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.map(\.file) == [directory.path + "/big.yaml"])
            #expect(errors.errors.first?.message.contains("over the limit of 2048 bytes") == true)
        }
    }

    @Test func invalidUTF8IsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try Data([0x61, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: directory.path + "/bad.yaml"))
        do {
            _ = try ManifestLoader().load(directory: directory.path)
            Issue.record("expected an error")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.map(\.message) == ["not valid UTF-8 text"])
        }
    }

    /// A ConfigMap volume: `routes.yaml -> ..data/routes.yaml`, `..data -> ..2024_01_01`.
    @Test func configMapVolumeLayoutIsFollowed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("..2024_05_01_12_00_00.123/routes.yaml", Self.namespace("from-configmap"))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: directory.path + "/..data", withDestinationPath: "..2024_05_01_12_00_00.123")
        try fm.createSymbolicLink(atPath: directory.path + "/routes.yaml", withDestinationPath: "..data/routes.yaml")
        try fm.createSymbolicLink(atPath: directory.path + "/loop", withDestinationPath: ".")
        // A ConfigMap item with a path in a subdirectory: `sub -> ..data/sub`.
        try directory.write("..2024_05_01_12_00_00.123/sub/more.yaml", Self.namespace("from-subdirectory"))
        try fm.createSymbolicLink(atPath: directory.path + "/sub", withDestinationPath: "..data/sub")
        // A link out of the directory is not walked.
        let outside = try TemporaryDirectory()
        defer { outside.cleanup() }
        try outside.write("elsewhere.yaml", Self.namespace("outside"))
        try fm.createSymbolicLink(atPath: directory.path + "/out", withDestinationPath: outside.path)
        let snapshot = try ManifestLoader().load(directory: directory.path)
        #expect(snapshot.namespaces.keys.sorted() == ["from-configmap", "from-subdirectory"])
        #expect(snapshot.namespaces["from-subdirectory"]?.source?.file == directory.path + "/sub/more.yaml")
        #expect(snapshot.namespaces["from-configmap"]?.source?.file == directory.path + "/routes.yaml")
    }

    @Test func tooManyFilesAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        for index in 0..<4 { try directory.write("f\(index).yaml", Self.namespace("n\(index)")) }
        #expect(throws: ManifestErrors.self) { try ManifestLoader(limits: ManifestLimits(maxFiles: 3)).load(directory: directory.path) }
        #expect(try ManifestLoader(limits: ManifestLimits(maxFiles: 4)).load(directory: directory.path).namespaces.count == 4)
    }
}
