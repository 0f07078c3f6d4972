#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds and reads the manifest files under a directory: `*.yaml` and `*.yml`, recursively,
/// skipping every file and directory whose name starts with `.`, sorted by path.
///
/// Symbolic links are followed (a ConfigMap volume is a set of links into a hidden
/// `..data` directory), but a link to a directory is followed only when it stays inside the
/// directory given (a link to `/` is not walked); a directory reached twice is read once.
/// Only regular files are read, never FIFOs or devices.
struct ManifestDirectoryReader {
    let limits: ManifestLimits

    /// One manifest file found.
    struct File {
        /// The directory argument joined with the path relative to it.
        var displayPath: String
        /// Where to open it.
        var absolutePath: String
    }

    /// The manifest files under `directory`, or the errors that stopped the walk.
    func files(in directory: String) -> (files: [File], errors: [ManifestError]) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            return ([], [ManifestError(file: directory, message: "cannot read manifest directory: \(Self.errnoText())")])
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return ([], [ManifestError(file: directory, message: "not a directory")])
        }
        var files: [(relative: String, absolute: String)] = []
        var errors: [ManifestError] = []
        var visited: Set<String> = []
        let rootReal = Self.realPath(directory) ?? directory
        walk(directory, relative: "", root: directory, rootReal: rootReal, depth: 0, visited: &visited,
             files: &files, errors: &errors)
        if files.count > limits.maxFiles {
            errors.append(ManifestError(file: directory, message: "more than \(limits.maxFiles) manifest files (the limit)"))
            return ([], errors)
        }
        let sorted = files.sorted { $0.relative < $1.relative }
        return (sorted.map { File(displayPath: Self.join(directory, $0.relative), absolutePath: $0.absolute) }, errors)
    }

    /// Reads one file, refusing it when it is larger than the limit.
    func read(_ file: File) -> Result<[UInt8], ManifestError> {
        let descriptor = open(file.absolutePath, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            return .failure(ManifestError(file: file.displayPath, message: "cannot read: \(Self.errnoText())"))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            return .failure(ManifestError(file: file.displayPath, message: "cannot read: \(Self.errnoText())"))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return .failure(ManifestError(file: file.displayPath, message: "not a regular file"))
        }
        if Int(info.st_size) > limits.maxFileBytes {
            return .failure(ManifestError(file: file.displayPath, message: ManifestFileDecoder.sizeMessage(Int(info.st_size), limit: limits.maxFileBytes)))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ManifestError(file: file.displayPath, message: "cannot read: \(Self.errnoText())"))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limits.maxFileBytes {
                return .failure(ManifestError(file: file.displayPath, message: "file grew over the limit of \(limits.maxFileBytes) bytes while being read"))
            }
        }
        return .success(bytes)
    }

    private func walk(_ absolute: String, relative: String, root: String, rootReal: String, depth: Int, visited: inout Set<String>,
                      files: inout [(relative: String, absolute: String)], errors: inout [ManifestError]) {
        let display = relative.isEmpty ? root : Self.join(root, relative)
        guard depth <= 64 else {
            errors.append(ManifestError(file: display, message: "directories nested more than 64 deep"))
            return
        }
        if let canonical = Self.realPath(absolute) {
            guard canonical == rootReal || canonical.hasPrefix(rootReal.hasSuffix("/") ? rootReal : rootReal + "/") else { return }
            guard visited.insert(canonical).inserted else { return }
        }
        guard let handle = opendir(absolute) else {
            errors.append(ManifestError(file: display, message: "cannot read directory: \(Self.errnoText())"))
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
                if isManifest {
                    errors.append(ManifestError(file: Self.join(root, childRelative), message: "cannot read: \(Self.errnoText())"))
                }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walk(childAbsolute, relative: childRelative, root: root, rootReal: rootReal, depth: depth + 1, visited: &visited,
                     files: &files, errors: &errors)
            case S_IFREG where isManifest:
                files.append((childRelative, childAbsolute))
            default:
                continue
            }
            if files.count > limits.maxFiles { return }
        }
    }

    /// `directory/relative`, without doubling a trailing slash.
    static func join(_ directory: String, _ relative: String) -> String {
        directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    /// The canonical absolute path of `path`, links resolved.
    static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// `read(2)`, named so that it does not clash with `ManifestDirectoryReader.read(_:)`.
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
