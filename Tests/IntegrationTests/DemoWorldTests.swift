import Foundation
import Testing

/// `make demo`'s world as a test (`DemoWorld`: demo/world.sh with the tests' binary): real
/// network namespaces, the rules of `switchyard redirect install --mode node` on both nodes,
/// the tutorial's manifests, and more than the demo shows: the redirect carried the frontend's
/// plain connection, a deleted HTTPRoute is let go of live, certificates rotate under traffic
/// without losing a request, and an unmeshed pod still gets through.
@Suite("make demo's world: two node namespaces, redirect rules, the tutorial", .serialized)
struct DemoWorldTests {
    static let identity = DemoWorld.identity
    static let outboundRule = (chain: "SWITCHYARD_NODE_OUTBOUND", comment: "to the outbound listener")

    @Test("""
        the frontend's /echo reaches A, with x-request-id: alternative B, both over mTLS with the frontend's identity; \
        node-1's redirect rule and outbound listener count the frontend's plain connection; an unmeshed pod is \
        reachable from the frontend and reaches a meshed pod
        """, .timeLimit(.minutes(3)))
    func tutorialThroughTheRedirect() async throws {
        try await DemoWorld.with { world in
            let check = try String(contentsOf: world.worldDir.appendingPathComponent("check.txt"), encoding: .utf8)
            #expect(check.contains("4 pods (3 meshed)"), "examples/podinfo plus the unmeshed pod:\n\(check)")

            let before = try await world.metrics(node: 1)
            let redirectedBefore = try await world.natPackets(node: 1, chain: Self.outboundRule.chain, comment: Self.outboundRule.comment)
            let a = try await world.echo()
            #expect(a.status == 200 && a.body.contains("PODINFO_UI_MESSAGE=A backend\n"), "\(a)\n\(world.logTails())")
            #expect(a.body.contains("l5d-client-id: \(Self.identity)\n"), "backend-a must see the frontend's mTLS identity: \(a)")

            // The frontend app's connection to backend-a-podinfo (10.96.0.20:9898) was plain TCP
            // from 10.244.1.10: node-1's PREROUTING rule REDIRECTed it, its outbound listener
            // accepted it and routed the request by the HTTPRoute's catch-all rule.
            let after = try await world.metrics(node: 1)
            let redirected = try await world.natPackets(node: 1, chain: Self.outboundRule.chain, comment: Self.outboundRule.comment)
            let outbound = ["direction": "outbound", "tls": "false"]
            #expect(after.sum("tcp_open_total", outbound) >= before.sum("tcp_open_total", outbound) + 1,
                    "node-1's outbound listener accepted the redirected connection:\n\(after.lines("tcp_open_total"))")
            #expect(after.sum("tcp_open_total", outbound) >= 1)
            let toA = ["route": "test/backend-router/1", "backend": "backend-a-podinfo.test:9898"]
            #expect(after.sum("outbound_http_route_request_total", toA) == before.sum("outbound_http_route_request_total", toA) + 1,
                    "node-1 routed it by rule 1:\n\(after.lines("outbound_http_route_request_total"))")
            #expect((redirected ?? 0) >= (redirectedBefore ?? 0) + 1,
                    "the REDIRECT rule counted it: \(String(describing: redirectedBefore)) -> \(String(describing: redirected))")

            let b = try await world.echo(alternative: true)
            #expect(b.status == 200 && b.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "\(b)\n\(world.logTails())")
            #expect(b.body.contains("l5d-client-id: \(Self.identity)\n"), "\(b)")
            #expect(b.body.contains("x-request-id: alternative\n"), "the frontend passed x-request-id on: \(b)")
            let routed = try await world.metrics(node: 1)
            let toB = ["route": "test/backend-router/0", "backend": "backend-b-podinfo.test:9898"]
            #expect(routed.sum("outbound_http_route_request_total", toB) == 1, "\(routed.lines("outbound_http_route_request_total"))")
            let node2 = try await world.metrics(node: 2)
            #expect(node2.sum("request_total", ["direction": "inbound", "tls": "true"]) >= 2,
                    "node-2 took both requests over mTLS:\n\(node2.lines("request_total"))")

            // An unmeshed pod (linkerd.io/inject: disabled, on node-2): the frontend reaches it
            // through node-1's daemon (the Service's ClusterIP), in plaintext on the last hop ...
            let toUnmeshed = try await world.curl(in: "frontend", "http://unmeshed-podinfo:9898/env")
            #expect(toUnmeshed.status == 200 && toUnmeshed.body.contains("PODINFO_UI_MESSAGE=unmeshed backend\n"),
                    "\(toUnmeshed)\n\(world.logTails())")
            #expect(toUnmeshed.body.contains("l5d-client-id: <none>\n"), "no mTLS to an unmeshed pod: \(toUnmeshed)")
            let viaNode1 = try await world.metrics(node: 1)
            #expect(viaNode1.sum("outbound_http_route_request_total", ["parent": "unmeshed-podinfo.test:9898"]) == 1,
                    "\(viaNode1.lines("outbound_http_route_request_total"))")
            // ... and it reaches backend-a at its pod IP: node-2 REDIRECTs the plaintext to its
            // inbound listener, which passes it on without an identity.
            let fromUnmeshed = try await world.curl(in: "unmeshed", "http://\(DemoWorld.podIPs["backend-a"]!):9898/env")
            #expect(fromUnmeshed.status == 200 && fromUnmeshed.body.contains("PODINFO_UI_MESSAGE=A backend\n"),
                    "\(fromUnmeshed)\n\(world.logTails())")
            #expect(fromUnmeshed.body.contains("l5d-client-id: <none>\n"), "\(fromUnmeshed)")
            let plainInbound = try await world.metrics(node: 2)
            #expect(plainInbound.sum("tcp_open_total", ["direction": "inbound", "tls": "false"]) >= 1,
                    "node-2's inbound listener took the unmeshed pod's connection:\n\(plainInbound.lines("tcp_open_total"))")
        }
    }

    @Test("deleting the HTTPRoute file sends x-request-id: alternative back to A within 2 s, without a restart",
          .timeLimit(.minutes(3)))
    func deletingTheRoute() async throws {
        try await DemoWorld.with { world in
            let b = try await world.echo(alternative: true)
            #expect(b.body.contains("PODINFO_UI_MESSAGE=B backend\n"), "\(b)\n\(world.logTails())")
            let pids = [world.daemonPID(node: 1), world.daemonPID(node: 2)]
            let reloadsBefore = try await world.metrics(node: 1).sum("switchyard_config_reload_total", ["result": "success"])

            try FileManager.default.removeItem(at: world.manifests.appendingPathComponent("backend-router.yaml"))
            let clock = ContinuousClock()
            let deleted = clock.now
            var last: HTTPResult?
            var tookA: Duration?
            while clock.now - deleted < .seconds(5) {
                let response = try await world.echo(alternative: true)
                last = response
                if response.body.contains("PODINFO_UI_MESSAGE=A backend\n") {
                    tookA = clock.now - deleted
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let took = try #require(tookA, "alternative still went elsewhere 5 s after the route was deleted: \(String(describing: last))\n\(world.logTails())")
            #expect(took <= .seconds(2), "alternative reached A \(took) after the route file was deleted (at most 2 s)")
            let milliseconds = took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000
            print("demo world: alternative back to A \(milliseconds) ms after the HTTPRoute was deleted")

            let again = try await world.echo(alternative: true)
            #expect(again.body.contains("PODINFO_UI_MESSAGE=A backend\n") && again.body.contains("l5d-client-id: \(Self.identity)\n"),
                    "\(again)")
            #expect(pids.allSatisfy { $0.map(DemoWorld.isAlive) ?? false } && [world.daemonPID(node: 1), world.daemonPID(node: 2)] == pids,
                    "the daemons were not restarted: \(pids)")
            let metrics = try await world.metrics(node: 1)
            #expect(metrics.sum("switchyard_config_reload_total", ["result": "success"]) >= reloadsBefore + 1,
                    "node-1 reloaded the manifests live:\n\(metrics.lines("switchyard_config_reload_total"))")
            #expect(metrics.sum("outbound_http_route_request_total", ["route": "default", "backend": "backend-a-podinfo.test:9898"]) >= 2,
                    "without a route, backend-a-podinfo's traffic goes to the Service itself:\n\(metrics.lines("outbound_http_route_request_total"))")
        }
    }

    @Test("""
        both nodes' workload certificates re-issued under steady traffic: no request fails, both daemons serve the new \
        ones within seconds, new mTLS handshakes after it succeed and node-2 presents the new certificate
        """, .timeLimit(.minutes(3)))
    func rotationUnderTraffic() async throws {
        try await DemoWorld.with { world in
            let stop = world.dir.appendingPathComponent("stop-load")
            let load = try world.spawn(in: "frontend", ["/usr/bin/env", "python3", "-c", DemoWorldLoad.script, "steady", "4", stop.path, "40"],
                                       label: "load")
            defer {
                _ = FileManager.default.createFile(atPath: stop.path, contents: nil)
                load.kill()
            }
            func waitForLoad(_ requests: Int) async throws {
                let deadline = Date().addingTimeInterval(20)
                while DemoWorldLoad.progress(load.stdout) < requests {
                    guard load.isRunning, Date() < deadline else {
                        throw ChildProcessError(description: "the load did not reach \(requests) requests: \(load.stdout.suffix(2000))\n\(load.stderr)")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await waitForLoad(40)

            let expiry = "identity_cert_expiration_timestamp_seconds"
            let expiryBefore = [try await world.metrics(node: 1).sum(expiry, ["identity": Self.identity]),
                                try await world.metrics(node: 2).sum(expiry, ["identity": Self.identity])]
            let servedSerialBefore = try await world.certificateSerial(node: 2)
            let connects = ["tls": "true", "result": "success"]
            let connectsBefore = try await world.metrics(node: 1).sum("switchyard_upstream_connect_total", connects)
            let rotatedAt = DemoWorldLoad.progress(load.stdout)
            // backend-a's certificate (node-2 presents it on its inbound listener) and the
            // frontend's (node-1 presents it as the client), an hour longer-lived than before.
            try await world.reissue(node: 2, ttl: "25h")
            try await world.reissue(node: 1, ttl: "25h")
            let newSerial = try await world.certificateSerial(node: 2)
            #expect(newSerial != servedSerialBefore)

            // Both daemons pick them up (the expiry gauge moves by about an hour) within seconds.
            let clock = ContinuousClock()
            let issued = clock.now
            var expiryNow = expiryBefore
            while clock.now - issued < .seconds(5) {
                expiryNow = [try await world.metrics(node: 1).sum(expiry, ["identity": Self.identity]),
                             try await world.metrics(node: 2).sum(expiry, ["identity": Self.identity])]
                if zip(expiryNow, expiryBefore).allSatisfy({ $0 >= $1 + 3000 }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(zip(expiryNow, expiryBefore).allSatisfy { $0 >= $1 + 3000 },
                    "both daemons serve the re-issued certificates: expiry \(expiryBefore) -> \(expiryNow)\n\(world.logTails())")

            // New handshakes with the new certificates: node-1's shared HTTP/2 connections to
            // node-2 were made with the old ones, so they take no new streams and close once
            // their streams have ended; the requests after the rotation (the load's, and 16 slow
            // ones at once from the frontend pod) go over new connections.
            let burst = try await world.run(in: "frontend", ["/usr/bin/env", "python3", "-c", DemoWorldLoad.script, "burst", "16",
                                                             "backend-a-podinfo", "9898", "/delay/0.3"])
            let burstSummary = try #require(DemoWorldLoad.summary(burst.stdout), "\(burst)")
            #expect(burstSummary.ok == 16 && burstSummary.failures.isEmpty, "\(burstSummary.failures)")
            let afterBurst = try await world.metrics(node: 1)
            #expect(afterBurst.sum("switchyard_upstream_connect_total", connects) > connectsBefore,
                    "node-1 made new mTLS connections after the rotation:\n\(afterBurst.lines("switchyard_upstream_connect_total"))")

            try await waitForLoad(max(200, DemoWorldLoad.progress(load.stdout) + 40))
            _ = FileManager.default.createFile(atPath: stop.path, contents: nil)
            #expect(await load.waitForExit(timeout: 15), "the load did not stop")
            let summary = try #require(DemoWorldLoad.summary(load.stdout), "\(load.stdout.suffix(2000))\n\(load.stderr)")
            let failed = summary.failures.prefix(10).joined(separator: "\n")
            #expect(summary.failures.isEmpty,
                    "\(summary.failures.count) of \(summary.ok + summary.failures.count) requests failed:\n\(failed)\n\(world.logTails())")
            #expect(summary.ok >= 200, "\(summary.ok) requests, \(rotatedAt) of them before the rotation")
            print("demo world: \(summary.ok) requests under rotation (\(rotatedAt) before it), \(summary.failures.count) failed")

            let node1 = try await world.metrics(node: 1)
            let node2 = try await world.metrics(node: 2)
            #expect(node1.sum("switchyard_upstream_connect_total", ["result": "failure"]) == 0,
                    "\(node1.lines("switchyard_upstream_connect_total"))")
            #expect(node1.sum("switchyard_proxy_error_total") == 0, "\(node1.lines("switchyard_proxy_error_total"))")
            #expect(node2.sum("switchyard_tls_handshake_refused_total") == 0, "\(node2.lines("switchyard_tls_handshake_refused_total"))")
            // Last (its handshake ends without a transport preface, which node-2 counts as refused).
            let served = try await world.servedSerialOnNode2()
            #expect(served == newSerial, "node-2 presents the re-issued certificate (\(newSerial)), not \(served)")
        }
    }
}
