import Foundation

/// One `switchyard run` node daemon of a world, in ingress mode, with its admin endpoint.
final class Daemon: Sendable {
    let node: WorldPod.Node
    /// The address all three listeners bind (the node's InternalIP).
    let ip: String
    let process: ChildProcess
    let dir: URL

    var outboundURL: String { "http://\(ip):\(WorldAddresses.outboundPort)" }
    var adminURL: String { "http://\(ip):\(WorldAddresses.adminPort)" }
    var inboundAddress: String { "\(ip):\(WorldAddresses.inboundPort)" }

    /// The command line a user would type for this node.
    static func arguments(node: WorldPod.Node, ip: String, manifests: URL, identityDir: URL, trustBundle: URL) -> [String] {
        var args = [
            "run", "--manifests", manifests.path, "--node", node.rawValue,
            "--identity-dir", identityDir.path, "--trust-bundle", trustBundle.path,
            "--outbound-listen", "\(ip):\(WorldAddresses.outboundPort)",
            "--inbound-listen", "\(ip):\(WorldAddresses.inboundPort)",
            "--admin-listen", "\(ip):\(WorldAddresses.adminPort)",
            "--peer-inbound-port", String(WorldAddresses.inboundPort),
            "--ingress-mode", "--threads", "2",
            "--user", "root",  // the worlds' files are root's; CommandTests/PrivilegeTests covers the switch
        ]
        if let level = ProcessInfo.processInfo.environment["SY_INTEG_LOG_LEVEL"] { args += ["--log-level", level] }
        return args
    }

    init(node: WorldPod.Node, ip: String, manifests: URL, identityDir: URL, trustBundle: URL, dir: URL) throws {
        self.node = node
        self.ip = ip
        self.dir = dir
        process = try ChildProcess(
            SwitchyardBinary.path,
            Self.arguments(node: node, ip: ip, manifests: manifests, identityDir: identityDir, trustBundle: trustBundle),
            outputDir: dir, label: "daemon-\(node.rawValue)")
    }

    /// Polls `path` (`/ready`, or `/live` for a daemon that is up but not ready) until it answers
    /// 200; throws (with the log) when the daemon exits or `timeout` passes.
    func waitUntil(_ path: String = "/ready", timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard process.isRunning else {
                throw ChildProcessError(description: "switchyard run (\(node.rawValue)) exited with \(process.terminationStatus) before it was ready:\n\(log)")
            }
            let probe = try await ChildProcess.run(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "\(adminURL)\(path)"],
                outputDir: dir, label: "ready", timeout: 10)
            if probe.stdout == "200" { return }
            guard Date() < deadline else {
                throw ChildProcessError(description: "switchyard run (\(node.rawValue)): \(path) not 200 after \(timeout) s (last: \(probe.stdout)):\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A scrape of `/metrics`.
    func metrics() async throws -> Metrics {
        let response = try await Curl.request("\(adminURL)/metrics", from: nil, dir: dir, timeout: 10)
        return Metrics(text: response.body)
    }

    /// Resident set size from /proc/<pid>/status (VmRSS), in KiB.
    func residentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// What the daemon logged (stderr, then stdout).
    var log: String { process.stderr + process.stdout }

    /// The last `lines` lines of the log.
    func logTail(_ lines: Int = 40) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func kill() async { await process.kill() }
}
