import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import SwitchyardTestSupport
#endif

/// `switchyard run --manage-redirect`: the daemon installs node-mode redirect rules for the
/// meshed pods of its node and keeps them in step when the manifests change. Runs inside a
/// network namespace of the test's own (never the root namespace's rules).
@Suite("switchyard run --manage-redirect", .dedicatedThread)
struct ManageRedirectTests {
    @Test("rules for the node's meshed pods are installed at start and follow a manifest edit",
          .timeLimit(.minutes(3)))
    func rulesFollowManifests() throws {
        let world = try RunCommandTests.world()
        defer { try? FileManager.default.removeItem(at: world) }
        try RedirectCommandTests.inNamespace { namespace in
            var arguments = RunCommandTests.arguments(world)
            // Fixed ports: the rules redirect to them (the namespace is the test's own).
            for (flag, address) in [("--outbound-listen", "127.0.0.1:4140"), ("--inbound-listen", "127.0.0.1:4143"),
                                    ("--admin-listen", "127.0.0.1:4191")] {
                let index = try #require(arguments.firstIndex(of: flag))
                arguments[index + 1] = address
            }
            let daemon = try RunCommandTests.Daemon(arguments + ["--manage-redirect"],
                                                    launcher: ["/usr/sbin/ip", "netns", "exec", namespace])
            defer { daemon.stop() }
            try daemon.waitFor("redirect rules installed")
            func rules() throws -> String { try RedirectCommandTests.exec(["iptables-save", "-t", "nat"], in: namespace) }
            let first = try rules()
            #expect(first.contains("-A SWITCHYARD_PREROUTING -s 10.244.2.20/32 -p tcp"), "\(first)")
            #expect(first.contains("-A SWITCHYARD_PREROUTING -d 10.244.2.30/32 -p tcp"), "\(first)")
            #expect(first.contains("--to-ports 4140"))
            #expect(!first.contains("10.244.1.10"), "frontend is on node-1, not this node")

            // A new meshed pod on node-2: its rules appear without a restart.
            let extra = world.appendingPathComponent("manifests/extra-pod.yaml")
            try """
                apiVersion: v1
                kind: Pod
                metadata: {name: extra, namespace: test, labels: {app: extra}}
                spec: {serviceAccountName: default, nodeName: node-2, containers: [{name: app}]}
                status: {phase: Running, podIP: 10.244.2.99, conditions: [{type: Ready, status: "True"}]}
                """.write(to: extra, atomically: true, encoding: .utf8)
            #expect(try RunCommandTests.eventually { try rules().contains("-s 10.244.2.99/32") })
            try FileManager.default.removeItem(at: extra)
            #expect(try RunCommandTests.eventually { try !rules().contains("10.244.2.99") })
            #expect(try rules().contains("-s 10.244.2.30/32"))
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit() == 0)
        }
    }

    @Test("--manage-redirect with --ingress-mode is refused, naming both")
    func refusedWithIngressMode() throws {
        let result = try Switchyard.run(["run", "--manifests", "examples/podinfo", "--node", "node-2", "--ingress-mode",
                                         "--manage-redirect", "--print-settings"], environment: RunCommandTests.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("--manage-redirect"), "\(result.stderr)")
        #expect(result.stderr.contains("--ingress-mode"), "\(result.stderr)")
    }
}
