import Foundation
import Testing

/// The pieces of the world that need no daemon: manifests the loader accepts and routes as
/// intended, a PKI whose files verify, and apps that answer at the pod IPs.
@Suite("integration harness (no daemon)")
struct HarnessTests {
    static let noDaemons = World.Options(startDaemons: false)

    @Test("the world's manifests pass switchyard check")
    func manifestsCheck() async throws {
        try await World.with(Self.noDaemons) { world in
            let check = try await SwitchyardBinary.run(["check", "--manifests", world.manifests.path], in: world.dir)
            #expect(check.status == 0, "\(check)")
        }
    }

    /// `switchyard route --output json`: status, backend name and endpoints.
    static func route(_ world: World, to destination: String, path: String = "/env", headers: [String] = []) async throws
        -> (status: Int?, backend: String?, endpoints: [String]) {
        let args = ["route", "--manifests", world.manifests.path, "--to", destination, "--path", path, "--from", "test/frontend",
                    "--output", "json"] + headers.flatMap { ["-H", $0] }
        let result = try await SwitchyardBinary.run(args, in: world.dir)
        #expect(result.status == 0, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        return (json["status"] as? Int, (json["backend"] as? [String: Any])?["name"] as? String, json["endpoints"] as? [String] ?? [])
    }

    @Test("switchyard route decides what the daemon tests expect")
    func routeDecisions() async throws {
        try await World.with(Self.noDaemons) { world in
            let a = try await Self.route(world, to: "backend-a-podinfo.test:9898")
            #expect(a.status == 200 && a.backend == "backend-a-podinfo" && a.endpoints == ["\(world.ip(of: "backend-a")):9898"])
            let b = try await Self.route(world, to: "backend-a-podinfo.test:9898", headers: ["x-request-id: alternative"])
            #expect(b.status == 200 && b.backend == "backend-b-podinfo" && b.endpoints == ["\(world.ip(of: "backend-b")):9898"])
            let plain = try await Self.route(world, to: "plain.test:9898")
            #expect(plain.endpoints == ["\(world.ip(of: "plain")):9898"])
            let picky = try await Self.route(world, to: "picky.test:9898", path: "/unknown")
            #expect(picky.status == 404)
            let pickyKnown = try await Self.route(world, to: "picky.test:9898", path: "/env")
            #expect(pickyKnown.status == 200 && pickyKnown.backend == "backend-a-podinfo")
            let notReady = try await Self.route(world, to: "notready.test:9898")
            #expect(notReady.endpoints.isEmpty)
            let down = try await Self.route(world, to: "down.test.svc.cluster.local:9898")
            #expect(down.endpoints == ["\(world.ip(of: "down")):9898"])
        }
    }

    @Test("identity files verify against the trust bundle and carry the directory's identity (or, swapped, another)")
    func pki() async throws {
        try await World.with(World.Options(startDaemons: false, swapIdentity: true)) { world in
            let expected: [(node: WorldPod.Node, sa: String, san: String)] = [
                (.node1, "frontend", "frontend"), (.node2, "backend-a", "backend-a"), (.node2, "backend-b", "backend-b"),
                (.node2, "down", "down"), (.node2, "swapped", "backend-b"),
            ]
            for (node, sa, san) in expected {
                let cert = world.pki.identityDir(node).appendingPathComponent("test/\(sa)/tls.crt").path
                let verify = try await ChildProcess.run(
                    "/usr/bin/openssl", ["verify", "-CAfile", world.pki.trustBundle.path, "-untrusted", cert, cert],
                    outputDir: world.dir, label: "openssl-verify", timeout: 30)
                #expect(verify.status == 0, "\(verify)")
                let text = try await ChildProcess.run(
                    "/usr/bin/openssl", ["x509", "-noout", "-ext", "subjectAltName", "-in", cert],
                    outputDir: world.dir, label: "openssl-x509", timeout: 30)
                #expect(text.stdout.contains("DNS:\(WorldManifests.pod(san).identity)"), "\(text)")
            }
            #expect(!FileManager.default.fileExists(atPath: world.pki.identityDir(.node1).appendingPathComponent("test/backend-a").path))
        }
    }

    @Test("the apps answer at the pod IPs: /env, l5d-client-id echo, upload, download, echo server")
    func apps() async throws {
        try await World.with(Self.noDaemons) { world in
            let a = "http://\(world.ip(of: "backend-a")):9898"
            let env = try await Curl.request("\(a)/env", from: world.ip(of: "frontend"), dir: world.dir)
            #expect(env.status == 200)
            #expect(env.body.contains("PODINFO_UI_MESSAGE=A backend\n"))
            #expect(env.body.contains("l5d-client-id=<none>\n"))
            let withID = try await Curl.request("\(a)/env", from: nil, headers: ["l5d-client-id: someone"], dir: world.dir)
            #expect(withID.body.contains("l5d-client-id=someone\n"))
            let b = try await Curl.request("http://\(world.ip(of: "backend-b")):9898/env", from: nil, dir: world.dir)
            #expect(b.body.contains("PODINFO_UI_MESSAGE=B backend\n"))

            let upload = try await Curl.request("\(a)/upload", from: nil, extra: ["--data-binary", "hello"], dir: world.dir)
            #expect(upload.body == "bytes=5\nsha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n")
            let chunked = try await Curl.request("\(a)/upload", from: nil, headers: ["Transfer-Encoding: chunked"],
                                                 extra: ["--data-binary", "hello"], dir: world.dir)
            #expect(chunked.body == upload.body)
            let download = try await Curl.request("\(a)/download?bytes=100000", from: nil, dir: world.dir)
            #expect(download.header("content-length") == "100000")
            #expect(download.header("x-content-sha256")?.count == 64)

            let echo = try await ChildProcess.run(
                "/usr/bin/env", ["python3", "-c", Opaque.clientScript, world.ip(of: "backend-a"), String(WorldAddresses.echoPort)],
                outputDir: world.dir, label: "echo-client", timeout: 30)
            #expect(echo.status == 0 && echo.stdout.contains("echoed"), "\(echo)")

            let refused = try await Curl.run(["http://\(world.ip(of: "down")):9898/env"], dir: world.dir)
            #expect(refused.result.status == 7, "nothing listens for pod down: \(refused.result)")  // couldn't connect
        }
    }
}
