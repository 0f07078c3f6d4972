import Foundation
import Testing

/// 100 MiB each way through both proxies and the mTLS hop, with flat memory.
@Suite("large bodies")
struct LargeTransferTests {
    static let size = 100 * 1024 * 1024
    /// Far below what buffering a 100 MiB body would take.
    static let rssLimitKiB = 150 * 1024

    @Test("100 MiB upload and 100 MiB download arrive intact; neither daemon's RSS exceeds 150 MiB")
    func uploadAndDownload() async throws {
        try await World.with { world in
            let file = world.dir.appendingPathComponent("upload.bin")
            defer { try? FileManager.default.removeItem(at: file) }
            let make = try await ChildProcess.run(
                "/bin/sh", ["-c", "head -c \(Self.size) /dev/urandom > '\(file.path)' && sha256sum '\(file.path)'"],
                outputDir: world.dir, label: "make-upload", timeout: 60)
            let expectedSHA = try #require(make.stdout.split(separator: " ").first.map(String.init), "\(make)")
            let daemons: [Daemon] = [world.node1, world.node2]
            let baseline = daemons.map { "\($0.node.rawValue): \($0.residentKiB() ?? -1) KiB" }

            let (upload, uploadPeaks) = try await ResidentMemory.peaks(of: daemons) {
                try await world.request("/upload", headers: ["Expect:"], extra: ["-X", "POST", "-T", file.path], timeout: 120)
            }
            #expect(upload.status == 200, "\(upload)\n\(world.diagnostics)")
            #expect(upload.body == "bytes=\(Self.size)\nsha256=\(expectedSHA)\n", "\(upload)")
            for (node, peak) in uploadPeaks {
                #expect(peak < Self.rssLimitKiB, "\(node) peaked at \(peak) KiB during the upload (before: \(baseline))")
            }

            let headers = world.dir.appendingPathComponent("download.headers")
            let command = "curl -sS --max-time 120 --interface \(world.ip(of: "frontend")) -H 'Host: backend-a-podinfo.test:9898' "
                + "-D '\(headers.path)' '\(world.node1.outboundURL)/download?bytes=\(Self.size)' | tee >(wc -c >&2) | sha256sum"
            let (download, downloadPeaks) = try await ResidentMemory.peaks(of: daemons) {
                try await ChildProcess.run("/bin/bash", ["-c", command], outputDir: world.dir, label: "download", timeout: 130)
            }
            let head = Curl.parse((try? String(contentsOf: headers, encoding: .utf8)) ?? "").last
            #expect(head?.status == 200, "\(download)\n\(world.diagnostics)")
            let announced = try #require(head?.header("x-content-sha256"), "\(String(describing: head))")
            #expect(download.stdout.hasPrefix(announced), "body bytes: \(download.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); \(download)")
            for (node, peak) in downloadPeaks {
                #expect(peak < Self.rssLimitKiB, "\(node) peaked at \(peak) KiB during the download (before: \(baseline))")
            }
            #expect(uploadPeaks.count == 2 && downloadPeaks.count == 2)
            let show = { (peaks: [String: Int]) in peaks.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) KiB" }.joined(separator: ", ") }
            print("RSS before: \(baseline.joined(separator: ", ")); peak during upload: \(show(uploadPeaks)); during download: \(show(downloadPeaks))")
        }
    }
}
