import Foundation
import Testing
import SwitchyardTLS
import SwitchyardTestSupport

@Suite("AtomicFile", .dedicatedThread)
struct PKIAtomicFileTests {
    @Test("writes the bytes with exactly the mode asked for (the umask does not apply), and nothing else", arguments: [
        mode_t(0o600), 0o644, 0o640, 0o444,
    ])
    func modes(mode: mode_t) throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let path = scratch.file("file")
        try AtomicFile.write(Data("hello\n".utf8), to: path, mode: mode)
        #expect(try PKITest.mode(path) == mode)
        #expect(try PKITest.contents(path) == "hello\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["file"])
    }

    @Test("replacing a file swaps in a new inode (rename), with the new mode, leaving no temporary file")
    func replaces() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let path = scratch.file("tls.key")
        try AtomicFile.write(Array("old".utf8), to: path, mode: 0o644)
        let oldInode = try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
        // A reader holding the old file open keeps reading the old content.
        let reader = try #require(FileHandle(forReadingAtPath: path))
        defer { try? reader.close() }
        try AtomicFile.write(Array("new".utf8), to: path, mode: 0o600)
        let newInode = try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
        #expect(newInode != oldInode)
        #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == "old")
        #expect(try PKITest.contents(path) == "new")
        #expect(try PKITest.mode(path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["tls.key"])
    }

    @Test("a failed write throws, naming the path, and leaves nothing behind")
    func failure() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let error = PKITest.error { try AtomicFile.write(Data("x".utf8), to: scratch.file("missing/file"), mode: 0o644) }
        let atomicError = try #require(error as? AtomicFileError)
        #expect(atomicError.code == ENOENT)
        #expect(atomicError.description.contains(scratch.file("missing/file")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("several files: if one cannot be staged, none of the targets is touched")
    func stagedTogether() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        try AtomicFile.write(Data("old key".utf8), to: scratch.file("tls.key"), mode: 0o600)
        let error = PKITest.error {
            try AtomicFile.write([
                AtomicFile.Entry(path: scratch.file("tls.key"), contents: "new key", mode: 0o600),
                AtomicFile.Entry(path: scratch.file("gone/tls.crt"), contents: "new cert", mode: 0o644),
            ])
        }
        #expect(error is AtomicFileError)
        #expect(try PKITest.contents(scratch.file("tls.key")) == "old key")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["tls.key"])

        try AtomicFile.write([
            AtomicFile.Entry(path: scratch.file("tls.key"), contents: "new key", mode: 0o600),
            AtomicFile.Entry(path: scratch.file("tls.crt"), contents: "new cert", mode: 0o644),
        ])
        #expect(try PKITest.contents(scratch.file("tls.key")) == "new key")
        #expect(try PKITest.contents(scratch.file("tls.crt")) == "new cert")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["tls.crt", "tls.key"])
    }

    @Test("a reader polling a large file while it is rewritten sees only whole versions, and they parse")
    func readerNeverSeesPartialFile() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let path = scratch.file("tls.crt")
        let variants = try Self.variants()
        try AtomicFile.write(variants[0].bytes, to: path, mode: 0o644)

        let log = try Self.watch(path, variants: variants, parse: true) { log in
            var writes = 0
            let deadline = Date() + 30
            // Keep rewriting until the reader has had plenty of chances to catch a partial file.
            while (writes < 200 || log.snapshot().reads < 2000) && Date() < deadline {
                writes += 1
                try AtomicFile.write(variants[writes % variants.count].bytes, to: path, mode: 0o644)
            }
        }
        #expect(log.torn.isEmpty, "partial reads: sizes \(log.torn.prefix(10))")
        #expect(log.reads >= 2000)
        #expect(log.parsed >= 20 && log.parseFailures == 0)
        #expect(log.seen.count == variants.count, "the reader saw versions \(log.seen.keys.sorted()) only")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["tls.crt"])
    }

    @Test("control: the same reader does catch a writer that rewrites the file in place")
    func readerCatchesInPlaceWriter() throws {
        let scratch = try PKIScratch()
        defer { scratch.remove() }
        let path = scratch.file("tls.crt")
        let variants = try Self.variants()
        try AtomicFile.write(variants[0].bytes, to: path, mode: 0o644)

        let log = try Self.watch(path, variants: variants, parse: false) { log in
            var writes = 0
            let deadline = Date() + 30
            while log.snapshot().torn.isEmpty && Date() < deadline {
                writes += 1
                let handle = try #require(FileHandle(forWritingAtPath: path))
                try handle.truncate(atOffset: 0)
                let bytes = variants[writes % variants.count].bytes
                for start in stride(from: 0, to: bytes.count, by: 16 * 1024) {
                    try handle.write(contentsOf: bytes[start..<min(start + 16 * 1024, bytes.count)])
                    usleep(100)
                }
                try handle.close()
            }
        }
        #expect(!log.torn.isEmpty)
    }

    // MARK: - Helpers

    struct Variant {
        var bytes: [UInt8]
        var certificates: Int
    }

    /// Two versions of a large PEM chain (about 100 KB), of different lengths and contents.
    static func variants() throws -> [Variant] {
        let (_, issuer) = try PKITest.makeCA()
        return try [150, 170].map { count in
            let pem = try issuer.issue(identity: PKITest.identity).certificate.pem
            return Variant(bytes: Array(String(repeating: pem, count: count).utf8), certificates: count)
        }
    }

    /// What the reader saw.
    final class ReadLog: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        private(set) var reads = 0
        private(set) var torn: [Int] = []
        private(set) var parsed = 0
        private(set) var parseFailures = 0
        private(set) var seen: [Int: Int] = [:]

        var shouldStop: Bool { lock.withLock { stopped } }
        func stop() { lock.withLock { stopped = true } }
        func snapshot() -> (reads: Int, torn: [Int]) { lock.withLock { (reads, torn) } }
        func record(variant: Int?, size: Int, parsed: Bool?) {
            lock.withLock {
                reads += 1
                if let variant { seen[variant, default: 0] += 1 } else { torn.append(size) }
                if let parsed { self.parsed += 1; if !parsed { parseFailures += 1 } }
            }
        }
    }

    /// Runs `writer` while another thread reads `path` over and over, comparing each read with
    /// the variants, and when `parse`, parsing every 100th read as a certificate chain as the
    /// credential store would (parsing hundreds of certificates is slow; comparing is not).
    static func watch(_ path: String, variants: [Variant], parse: Bool, writer: (ReadLog) throws -> Void) throws -> ReadLog {
        let log = ReadLog()
        let done = DispatchSemaphore(value: 0)
        let contents = variants.map { Data($0.bytes) }  // Data compares with memcmp, even in debug builds
        let counts = variants.map(\.certificates)
        let thread = Thread {
            while !log.shouldStop {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let variant = contents.firstIndex(of: data)
                var parsed: Bool?
                if parse && (log.snapshot().reads % 100 == 0 || variant == nil) {
                    let chain = try? Certificate.parseChain(pem: String(decoding: data, as: UTF8.self))
                    parsed = chain?.count == variant.map { counts[$0] }
                }
                log.record(variant: variant, size: data.count, parsed: parsed)
            }
            done.signal()
        }
        thread.start()
        defer {
            log.stop()
            done.wait()
        }
        try writer(log)
        return log
    }
}
