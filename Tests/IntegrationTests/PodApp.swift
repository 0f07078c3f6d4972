import Foundation

/// The running apps of a world's pods (one Python process, `PodAppScript`).
final class PodApp: Sendable {
    let process: ChildProcess

    private init(process: ChildProcess) { self.process = process }

    /// Starts an app for every pod with a message (and the echo servers), and waits until all listen.
    static func start(pods: [WorldPod], addresses: WorldAddresses, dir: URL) async throws -> PodApp {
        let script = dir.appendingPathComponent("pod_app.py")
        let specURL = dir.appendingPathComponent("pod_app.json")
        let ready = dir.appendingPathComponent("pod_app.ready")
        try PodAppScript.source.write(to: script, atomically: true, encoding: .utf8)
        let http: [[String: Any]] = pods.compactMap { pod in
            pod.message.map { ["ip": addresses.host(pod.host), "port": WorldAddresses.appPort, "name": pod.name, "message": $0] }
        }
        let echo: [[String: Any]] = pods.filter(\.echo).map { ["ip": addresses.host($0.host), "port": WorldAddresses.echoPort] }
        let spec: [String: Any] = ["ready": ready.path, "http": http, "echo": echo]
        try JSONSerialization.data(withJSONObject: spec).write(to: specURL)

        let process = try ChildProcess("/usr/bin/env", ["python3", script.path, specURL.path], outputDir: dir, label: "pod-app")
        let app = PodApp(process: process)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready.path) {
            guard process.isRunning, Date() < deadline else {
                await process.kill()
                throw ChildProcessError(description: "pod apps did not start:\n\(process.stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return app
    }

    func stop() async { await process.kill() }
}
