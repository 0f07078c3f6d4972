#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What walking a manifests directory finds, in the loader's rules: `*.yaml` and `*.yml`
/// regular files, recursively; names starting with `.` skipped; symbolic links followed only
/// while they stay inside the directory; a directory reached twice walked once; at most 64
/// levels deep. The loader reads what it finds; the manifest watcher fingerprints it, so both
/// see exactly the same files.
public enum ManifestDirectoryWalk {
    /// One thing found, with its path relative to the directory walked.
    public enum Entry {
        /// A manifest file and its `stat`.
        case manifest(relative: String, absolute: String, info: stat)
        /// A manifest name whose `stat` failed, with the errno.
        case unreadableManifest(relative: String, errno: Int32)
        /// A directory that could not be listed, with the errno.
        case unreadableDirectory(relative: String, errno: Int32)
        /// A directory nested more than 64 levels deep (not walked).
        case tooDeep(relative: String)
    }

    /// Walks `directory` (which must be a directory), calling `visit` for each entry in path
    /// order within each directory; stops once more than `maxFiles` manifests were found.
    public static func walk(_ directory: String, maxFiles: Int, _ visit: (Entry) -> Void) {
        var visited: Set<String> = []
        var found = 0
        let root = ManifestDirectoryReader.realPath(directory) ?? directory
        walk(directory, relative: "", root: root, depth: 0, maxFiles: maxFiles, found: &found, visited: &visited, visit)
    }

    private static func walk(_ absolute: String, relative: String, root: String, depth: Int, maxFiles: Int,
                             found: inout Int, visited: inout Set<String>, _ visit: (Entry) -> Void) {
        guard depth <= 64 else {
            visit(.tooDeep(relative: relative))
            return
        }
        if let canonical = ManifestDirectoryReader.realPath(absolute) {
            guard canonical == root || canonical.hasPrefix(root.hasSuffix("/") ? root : root + "/") else { return }
            guard visited.insert(canonical).inserted else { return }
        }
        guard let handle = opendir(absolute) else {
            visit(.unreadableDirectory(relative: relative, errno: errno))
            return
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            names.append(name)
        }
        closedir(handle)
        for name in names.sorted() where !name.hasPrefix(".") {
            let childAbsolute = absolute.hasSuffix("/") ? absolute + name : absolute + "/" + name
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let isManifest = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
            var info = stat()
            guard stat(childAbsolute, &info) == 0 else {
                if isManifest { visit(.unreadableManifest(relative: childRelative, errno: errno)) }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(childAbsolute, relative: childRelative, root: root, depth: depth + 1, maxFiles: maxFiles,
                     found: &found, visited: &visited, visit)
            case S_IFREG where isManifest:
                found += 1
                visit(.manifest(relative: childRelative, absolute: childAbsolute, info: info))
            default:
                continue
            }
            if found > maxFiles { return }
        }
    }
}
