import Foundation

/// The peak resident set size of processes while something runs.
enum ResidentMemory {
    /// Runs `body` while sampling `daemons`' VmRSS every 50 ms; returns its result and each
    /// daemon's peak in KiB (by node name).
    static func peaks<T: Sendable>(of daemons: [Daemon], during body: () async throws -> T) async throws -> (T, [String: Int]) {
        let sampler = Task {
            var peaks: [String: Int] = [:]
            while !Task.isCancelled {
                for daemon in daemons {
                    if let kib = daemon.residentKiB() { peaks[daemon.node.rawValue] = max(peaks[daemon.node.rawValue] ?? 0, kib) }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return peaks
        }
        do {
            let result = try await body()
            sampler.cancel()
            return (result, await sampler.value)
        } catch {
            sampler.cancel()
            throw error
        }
    }
}
