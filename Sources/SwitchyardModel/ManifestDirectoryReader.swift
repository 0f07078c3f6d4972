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
        ManifestDirectoryWalk.walk(directory, maxFiles: limits.maxFiles) { entry in
            switch entry {
            case .manifest(let relative, let absolute, _):
                files.append((relative, absolute))
            case .unreadableManifest(let relative, let code):
                errors.append(ManifestError(file: Self.join(directory, relative), message: "cannot read: \(Self.text(errno: code))"))
            case .unreadableDirectory(let relative, let code):
                errors.append(ManifestError(file: relative.isEmpty ? directory : Self.join(directory, relative),
                                            message: "cannot read directory: \(Self.text(errno: code))"))
            case .tooDeep(let relative):
                errors.append(ManifestError(file: Self.join(directory, relative), message: "directories nested more than 64 deep"))
            }
        }
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
        text(errno: errno)
    }

    static func text(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// `read(2)`, named so that it does not clash with `ManifestDirectoryReader.read(_:)`.
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
