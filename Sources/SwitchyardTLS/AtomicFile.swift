#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Replaces files so that a reader (a watcher, the credential store, `openssl`) sees either the
/// whole old content or the whole new content, never a mix or a truncated file, and so that
/// after a crash the file is one or the other.
///
/// Each file is written to a hidden temporary file in the same directory
/// (`.<name>.tmp-XXXXXX`, created with mode 0600 and then given `mode`, so a key is never
/// readable by others even while being written), `fsync`ed, closed, and `rename`d over the
/// target (atomic on one file system). Then the directory is `fsync`ed so the rename itself is
/// durable. On any failure the temporary file is removed and the target is left as it was.
public enum AtomicFile {
    /// One file to write: where, what, and with which permission bits.
    public struct Entry: Sendable {
        /// The file to replace or create.
        public var path: String
        /// Its new content.
        public var bytes: [UInt8]
        /// Its permission bits, exactly (the umask does not apply).
        public var mode: mode_t

        /// A file holding `bytes`.
        public init(path: String, bytes: [UInt8], mode: mode_t) {
            self.path = path
            self.bytes = bytes
            self.mode = mode
        }

        /// A file holding `contents` as UTF-8.
        public init(path: String, contents: String, mode: mode_t) {
            self.init(path: path, bytes: Array(contents.utf8), mode: mode)
        }
    }

    /// Atomically replaces (or creates) `path` with `data`, with permission bits `mode`
    /// (exactly; the umask does not apply).
    /// - Throws: `AtomicFileError` naming the path and the failing system call.
    public static func write(_ data: Data, to path: String, mode: mode_t) throws {
        try write([Entry(path: path, bytes: Array(data), mode: mode)])
    }

    /// Atomically replaces (or creates) `path` with `bytes`, with permission bits `mode`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try write([Entry(path: path, bytes: bytes, mode: mode)])
    }

    /// Writes several files so that the window in which some are new and some old is as short
    /// as it can be: every temporary file is written and synced first, then they are renamed
    /// over their targets one after another *in the given order* (put the file a reader keys on
    /// last), then the directories are synced. If staging any file fails, no target is touched.
    /// Each file is atomic on its own; the set is not (POSIX has no multi-file rename).
    public static func write(_ entries: [Entry]) throws {
        var staged: [(temporary: String, entry: Entry)] = []
        defer { for (temporary, _) in staged { unlink(temporary) } }
        for entry in entries {
            staged.append((try stage(entry), entry))
        }
        var directories: [String] = []
        while !staged.isEmpty {
            let (temporary, entry) = staged[0]
            guard rename(temporary, entry.path) == 0 else {
                throw AtomicFileError(path: entry.path, operation: "rename from \(temporary)", code: errno)
            }
            staged.removeFirst()
            let directory = directoryName(of: entry.path)
            if !directories.contains(directory) { directories.append(directory) }
        }
        for directory in directories { try syncDirectory(directory) }
    }

    /// Writes `entry.bytes` to a new temporary file beside `entry.path`, synced and closed,
    /// with `entry.mode`; returns its path.
    private static func stage(_ entry: Entry) throws -> String {
        let directory = directoryName(of: entry.path)
        let name = String(entry.path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        guard !name.isEmpty, name != ".", name != ".." else {
            throw AtomicFileError(path: entry.path, operation: "naming the file", code: EISDIR)
        }
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw AtomicFileError(path: entry.path, operation: "creating a temporary file", code: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var closed = false
        defer { if !closed { close(fd) } }
        do {
            // mkstemp made it 0600; set the final mode before any byte is in it.
            guard fchmod(fd, entry.mode) == 0 else { throw AtomicFileError(path: temporary, operation: "fchmod", code: errno) }
            try entry.bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw AtomicFileError(path: temporary, operation: "write", code: errno)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw AtomicFileError(path: temporary, operation: "fsync", code: errno) }
            closed = true
            guard close(fd) == 0 else { throw AtomicFileError(path: temporary, operation: "close", code: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        return temporary
    }

    /// Makes the directory's entries (a rename just done) durable.
    private static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFileError(path: directory, operation: "opening the directory to fsync it", code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw AtomicFileError(path: directory, operation: "fsync of the directory", code: errno) }
    }

    /// `write(2)`, which the `write` methods above hide by name.
    private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        return Musl.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }

    private static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = path[..<slash]
        return directory.isEmpty ? "/" : String(directory)
    }
}

/// A system call failed while writing a file atomically.
public struct AtomicFileError: Error, CustomStringConvertible, Sendable {
    /// The file (or temporary file, or directory) being worked on.
    public var path: String
    /// What was being done: `rename`, `fsync`, ...
    public var operation: String
    /// The `errno` value.
    public var code: Int32

    public var description: String { "\(path): \(operation): \(String(cString: strerror(code)))" }
}
