import Foundation
import Yams

/// Reading `switchyard.yaml`: one mapping of camelCase keys to values.
extension RunSettings {
    /// The largest settings file read.
    static let maximumFileBytes = 1 << 20

    /// What a settings file holds.
    struct FileContents {
        var values: [Setting: RawValue] = [:]
        var problems: [String] = []
        /// Settings the file sets to something unusable (a sequence where a value belongs).
        var refused: Set<Setting> = []
        /// Whether the file as a whole could not be read (so nothing can be said about what it lacks).
        var unreadable = false
    }

    /// The values a settings file holds, by setting, or the problems that make it unusable.
    ///
    /// Keys are the settings' camelCase names; an unknown key is an error (a misspelt key
    /// would otherwise be ignored silently). A null value (`pod: ~`, `pod:`) leaves the
    /// setting unset. `opaquePorts` may also be a sequence (`[25, 587, "3306-3307"]`). A
    /// relative path is taken relative to the file's directory. An empty file (or `/dev/null`)
    /// sets nothing.
    static func readFile(_ path: String) -> FileContents {
        func unreadable(_ problem: String) -> FileContents {
            FileContents(problems: ["\(path): \(problem)"], unreadable: true)
        }
        // A FileHandle rather than FileManager.contents(atPath:), so that /dev/null works (no settings).
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        else { return unreadable("cannot read the settings file: \(Self.readFailure(path))") }
        try? handle.close()
        guard data.count <= maximumFileBytes else {
            return unreadable("the settings file is larger than the limit of \(maximumFileBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else { return unreadable("not valid UTF-8 text") }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            return unreadable("not valid YAML: " + ("\(error)".split(separator: "\n").first.map(String.init) ?? ""))
        }
        guard let root else { return FileContents() }
        guard let mapping = root.mapping else {
            return unreadable("expected a mapping of settings (key: value), found \(Self.kind(of: root))")
        }
        var contents = FileContents()
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                contents.problems.append("\(path): a key is \(Self.kind(of: keyNode)); keys are setting names")
                continue
            }
            guard let setting = Setting(rawValue: key) else {
                contents.problems.append("\(path): \(key): unknown setting\(Self.suggestion(for: key))")
                continue
            }
            let origin = "\(path): \(key)"
            if valueNode.null != nil { continue }
            var text: String
            if let scalar = valueNode.scalar {
                text = scalar.string
            } else if setting == .opaquePorts, let items = valueNode.sequence {
                let scalars = items.compactMap { $0.scalar?.string }
                guard scalars.count == items.count else {
                    contents.problems.append("\(origin): expected ports and ranges, found a nested collection")
                    contents.refused.insert(setting)
                    continue
                }
                text = scalars.joined(separator: ",")
            } else {
                contents.problems.append("\(origin): expected a single value, found \(Self.kind(of: valueNode))")
                contents.refused.insert(setting)
                continue
            }
            if setting.isPath, !text.isEmpty, !text.hasPrefix("/") {
                text = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(text)
                    .standardizedFileURL.path
            }
            contents.values[setting] = RawValue(text: text, source: .file, origin: origin)
        }
        return contents
    }

    /// ` (did you mean "outboundListen"?)` when `key` is a setting written another way
    /// (kebab case, snake case, other capitals), or `config`, which cannot be set in the file.
    static func suggestion(for key: String) -> String {
        if key == "config" { return " (the settings file is named with --config or SWITCHYARD_CONFIG)" }
        let normalized = normalize(key)
        let match = Setting.allCases.first { normalize($0.key) == normalized }
            ?? Setting.allCases.first { editDistance(normalize($0.key), normalized) <= 2 }
        guard let match else { return " (settings: \(Setting.allCases.map(\.key).joined(separator: ", ")))" }
        return " (did you mean \"\(match.key)\"?)"
    }

    private static func normalize(_ key: String) -> String {
        key.lowercased().filter { $0 != "-" && $0 != "_" }
    }

    /// Levenshtein distance, for suggesting a key that was mistyped.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a sequence"
        case .scalar: "a scalar"
        case .alias: "an alias"
        }
    }

    private static func readFailure(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        return isDirectory.boolValue ? "it is a directory" : "permission denied or unreadable"
    }
}
