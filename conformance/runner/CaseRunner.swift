import Foundation
import SwitchyardModel
import SwitchyardRouting
import Yams

/// One case: where the request goes, the request itself, the decision, the comparison, and the
/// distribution checks some tests add (weights, mirror percentages, per-backend filters).
struct CaseRunner {
    let test: ConformanceTest
    let `case`: ConformanceCase
    let router: Router
    let routes: [RouteSummary]
    let gateways: [ResourceID: GatewayInfo]
    /// The test's world without some routes (to see whether hostname filtering would matter).
    let worlds: WorldCache

    /// Where the request is sent and from where.
    struct Target {
        enum Kind {
            case parent(ParentKey)
            case destination(Destination)
        }

        var kind: Kind
        var clientNamespace: String?
        /// The Host header the client sends.
        var host: String
        /// The routes attached to the parent (for the hostname rule).
        var routes: [RouteSummary]
        /// Listeners with a hostname on the Gateway port addressed (`gateway/listener: ...`).
        var listenerHostnames: [String] = []
    }

    struct TargetError: Error, CustomStringConvertible { var description: String }

    func run() -> CaseResult {
        var result = CaseResult(test: test.name, label: `case`.label, outcome: .pass)
        let target: Target
        do { target = try resolveTarget() } catch {
            result.outcome = .fail("cannot address the request: \(error)")
            return result
        }
        if let reason = SkipPolicy.skip(case: `case`, listeners: target.listenerHostnames) {
            result.outcome = .skip(reason)
            return result
        }

        let seed = "\(test.name)#\(`case`.index)"
        var rng = SplitMix64(seed: seed)
        let observation = observe(request(target), target, using: &rng)

        // A Gateway would not use routes whose hostnames do not admit the request's host. When
        // leaving them out changes the answer, the case tests hostname selection: skip it.
        let excluded = SkipPolicy.routesExcludedByHostname(target.routes, host: target.host)
        if !excluded.isEmpty {
            guard let filtered = worlds.router(without: Set(excluded.map(\.id))) else {
                result.outcome = .fail("cannot load the world without HTTPRoutes \(excluded.map(\.id))")
                return result
            }
            var rng2 = SplitMix64(seed: seed)
            let other = CaseRunner(test: test, case: `case`, router: filtered, routes: routes, gateways: gateways, worlds: worlds)
                .observe(request(target), target, using: &rng2)
            if Self.outcome(other) != Self.outcome(observation) {
                result.outcome = .skip(SkipPolicy.hostnameDependent(excluded, host: target.host,
                                                                    with: Self.outcome(observation), without: Self.outcome(other)))
                return result
            }
        }
        let failure = test.profile == .mesh ? Harness.compareMesh(`case`, observation) : Harness.compareGateway(`case`, observation)
        var problems = failure.map { [$0] } ?? []
        if test.profile == .mesh, let note = Harness.meshAdvisory(`case`, observation) { result.notes.append(note) }

        if problems.isEmpty {
            problems += mirrorChecks(observation, target, using: &rng)
            problems += distributionChecks(target, using: &rng)
        }
        if let first = problems.first {
            result.outcome = .fail(problems.count == 1 ? first : problems.joined(separator: "; "))
            result.details = [
                "request: \(test.profile.rawValue) \(describe(target)) \(`case`.request.method) \(`case`.request.path) "
                    + "{" + request(target).headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ") + "}",
                "router: \(observation.summary)",
            ]
        }
        return result
    }

    // MARK: - Addressing

    private func resolveTarget() throws -> Target {
        switch test.profile {
        case .gateway: return try gatewayTarget()
        case .mesh: return try meshTarget()
        }
    }

    /// The Gateway the case's request is sent to, standing in as a Service port.
    private func gatewayTarget() throws -> Target {
        var candidates: [GatewayInfo] = []
        for ref in routes.flatMap(\.parentRefs) where ref.isGateway {
            if let g = gateways[ref.parent], !candidates.contains(where: { $0.id == g.id }) { candidates.append(g) }
        }
        if candidates.isEmpty { candidates = [GatewayInfo.base[0]] }
        var port: Int?
        if candidates.count > 1, let subtest = `case`.subtest, subtest.hasPrefix("Gateway "),
           let name = subtest.dropFirst("Gateway ".count).split(separator: " ").first {
            // "Gateway same-namespace / ...": the subtest names the Gateway.
            candidates = candidates.filter { $0.id.name == name }
        }
        if let call = `case`.invokedBy.first(where: { $0.contains("gwAddr") }),
           let r = call.range(of: #"gwAddr(\d+)"#, options: .regularExpression) {
            // gwAddr80, gwAddr8080: the address of the Gateway listening on that port.
            let p = Int(call[r].dropFirst("gwAddr".count))!
            port = p
            if candidates.count > 1 { candidates = candidates.filter { $0.ports.contains(p) } }
        }
        guard candidates.count == 1, let gateway = candidates.first else {
            throw TargetError(description: "cannot tell which Gateway the case uses among \(candidates.map(\.id.description))")
        }
        let p = port ?? (gateway.ports.count == 1 ? gateway.ports[0] : 80)
        guard let ip = router.snapshot.services[gateway.id]?.clusterIP else {
            throw TargetError(description: "no stand-in Service for Gateway \(gateway.id)")
        }
        // conformance/utils/http CalculateHost: the Gateway address, without :80.
        let host = `case`.request.host ?? (p == 80 ? ip : "\(ip):\(p)")
        let attached = routes.filter { $0.parentRefs.contains { $0.isGateway && $0.parent == gateway.id } }
        let named = gateway.listeners.filter { $0.port == p }.compactMap { l in
            l.hostname.map { "\(gateway.id.name)/\(l.name): \(l.protocol) \(l.port) \($0)" }
        }
        return Target(kind: .parent(ParentKey(service: gateway.id, port: p)), clientNamespace: nil, host: host, routes: attached,
                      listenerHostnames: named)
    }

    /// A mesh request: from an echo pod (producer or consumer namespace) to `http://<host><path>`.
    private func meshTarget() throws -> Target {
        let calls = `case`.invokedBy.joined(separator: "\n")
        let clientNamespace = calls.contains("producerClient") ? Infra.mesh
            : calls.contains("consumerClient") ? Infra.meshConsumer : Infra.mesh
        var urlHost = `case`.request.host ?? "echo"
        if urlHost.hasPrefix("<ip-of-an-"), let close = urlHost.firstIndex(of: ">") {
            // "<ip-of-an-echo-v2-pod>:8080": the address of a pod of that Deployment.
            let app = urlHost[urlHost.index(urlHost.startIndex, offsetBy: "<ip-of-an-".count)..<close].replacingOccurrences(of: "-pod", with: "")
            guard let pod = router.snapshot.pods.values.sorted(by: { $0.id < $1.id })
                .first(where: { $0.id.namespace == Infra.mesh && $0.id.name.hasPrefix(app + "-") }), let ip = pod.podIP else {
                throw TargetError(description: "no pod for \(urlHost)")
            }
            urlHost = (ip.contains(":") ? "[\(ip)]" : ip) + urlHost[urlHost.index(after: close)...]
        }
        let bare = SkipPolicy.hostWithoutPort(urlHost)
        let port = urlHost.count > bare.count ? Int(urlHost.dropFirst(bare.count + 1)) ?? 80 : 80
        let name = bare.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let destination: String
        if name.contains(":") || name.split(separator: ".").allSatisfy({ Int($0) != nil }) {
            destination = (name.contains(":") ? "[\(name)]" : name) + ":\(port)"
        } else if !name.contains(".") {
            destination = "\(name).\(clientNamespace):\(port)"  // DNS search path of the client pod
        } else {
            destination = "\(name):\(port)"
        }
        let resolved = try router.resolve(destination: destination)
        let hostHeader = `case`.request.headers.first { $0.name.lowercased() == "host" }?.value ?? urlHost
        var attached: [RouteSummary] = []
        if case .service(let parent) = resolved {
            attached = routes.filter { r in
                r.parentRefs.contains { !$0.isGateway && $0.parent == parent.service && ($0.port == nil || $0.port == parent.port) }
            }
        }
        return Target(kind: .destination(resolved), clientNamespace: clientNamespace, host: hostHeader, routes: attached)
    }

    private func describe(_ t: Target) -> String {
        var s: String
        switch t.kind {
        case .parent(let p): s = "to \(p)"
        case .destination(let d): s = "to \(d)"
        }
        if let ns = t.clientNamespace { s += " from namespace \(ns)" }
        return s
    }

    // MARK: - Requests

    /// The request as the harness sends it.
    private func request(_ t: Target, jitter: String? = nil) -> RouteRequest {
        let r = `case`.request
        var headers = [HTTPHeader(name: "Host", value: t.host)]
        headers += r.headers.filter { $0.name.lowercased() != "host" }.map { HTTPHeader(name: $0.name, value: $0.value) }
        if test.profile == .gateway {
            // http.MakeRequest always sends X-Echo-Set-Header (possibly empty).
            headers.append(HTTPHeader(name: "X-Echo-Set-Header",
                                      value: r.backendSetResponseHeaders.map { "\($0.name):\($0.value)" }.joined(separator: ",")))
        }
        if let jitter { headers.append(HTTPHeader(name: "X-Jitter", value: jitter)) }
        return RouteRequest(method: r.method, path: r.path, headers: headers, scheme: "http")
    }

    /// Status, route and backend of an observation, to compare two worlds.
    static func outcome(_ o: Observation) -> String {
        var s = "\(o.decision.status)"
        if let r = o.decision.route { s += " via \(r.name) rule \(r.rule)" }
        if let b = o.decision.backend { s += " to \(b.service.name)" }
        if let l = o.location { s += " Location \(l)" }
        return s
    }

    /// Routes `request` to `t` with this runner's router and derives what client and backend see.
    func observe<G: RandomNumberGenerator>(_ request: RouteRequest, _ t: Target, using rng: inout G) -> Observation {
        let decision: RouteDecision
        switch t.kind {
        case .parent(let parent):
            decision = router.decide(request, parent: parent, clientNamespace: t.clientNamespace, using: &rng)
        case .destination(let d):
            decision = router.decide(request, destination: d, clientNamespace: t.clientNamespace, using: &rng)
        }
        let backendHeaders = `case`.request.backendSetResponseHeaders.map { HTTPHeader(name: $0.name, value: $0.value) }
        return Observation(decision, backendResponseHeaders: backendHeaders, using: &rng)
    }

    // MARK: - Mirrors and distributions

    /// `MirroredTo`: every listed backend gets a copy; with `Percent`, that share of requests
    /// (upstream: within 5% of the expected count, conformance/tests/httproute-request-percentage-mirror.go).
    private func mirrorChecks<G: RandomNumberGenerator>(_ o: Observation, _ t: Target, using rng: inout G) -> [String] {
        var problems: [String] = []
        for m in `case`.expect.mirroredTo {
            let matches: (BackendTarget) -> Bool = { $0.service.name == m.name && (m.namespace == nil || $0.service.namespace == m.namespace) }
            if let percent = m.percent {
                var mirrored = 0
                for _ in 0..<TestRunner.samples where observe(request(t), t, using: &rng).decision.mirrors.contains(where: matches) {
                    mirrored += 1
                }
                let want = Double(TestRunner.samples) * percent / 100
                if abs(Double(mirrored) - want) > want * 0.05 {
                    problems.append("expected \(percent)% of requests mirrored to \(m.name) (\(Int(want * 0.95))...\(Int(want * 1.05)) of \(TestRunner.samples)), got \(mirrored)")
                }
            } else if !o.decision.mirrors.contains(where: matches) {
                problems.append("expected the request to be mirrored to \(m.namespace.map { "\($0)/" } ?? "")\(m.name), mirrors \(o.decision.mirrors.map(\.description))")
            }
        }
        return problems
    }

    /// `notes.weighted_distribution` (conformance/utils/weight): every backend's share within the
    /// tolerance, no traffic to weight-0 backends, no unexpected pods; and the backend-weights test's
    /// extra assertion (a backendRef's filters apply only to the backend chosen).
    private func distributionChecks<G: RandomNumberGenerator>(_ t: Target, using rng: inout G) -> [String] {
        var problems: [String] = []
        if let dist = test.notes?[key: "weighted_distribution"] {
            let expected = dist[key: "expected_fractions"]?.pairs.map { ($0.key, $0.value.text.flatMap(Double.init) ?? 0) } ?? []
            let tolerance = dist[key: "abs_tolerance"]?.text.flatMap(Double.init) ?? 0.05
            var seen: [String: Int] = [:]
            for _ in 0..<TestRunner.samples {
                // http.AddEntropy: about half of the requests carry a random X-Jitter header.
                let jitter = Bool.random(using: &rng) ? String(Int.random(in: 0..<10_000, using: &rng)) : nil
                let o = observe(request(t, jitter: jitter), t, using: &rng)
                guard o.status == 200, let pod = o.pod else {
                    problems.append("a sampled request got \(o.status): \(o.summary)")
                    return problems
                }
                let parts = pod.name.split(separator: "-")
                let backend = parts.count < 3 ? pod.name : parts.dropLast(2).joined(separator: "-")
                guard expected.contains(where: { $0.0 == backend }) else {
                    problems.append("request was handled by an unexpected pod \(pod.name) (backend \(backend))")
                    return problems
                }
                seen[backend, default: 0] += 1
            }
            let active = expected.filter { $0.1 > 0 }.count
            if seen.count != active { problems.append("expected \(active) backends to receive traffic, got \(seen.count) (\(seen))") }
            for (backend, want) in expected {
                let got = Double(seen[backend] ?? 0) / Double(TestRunner.samples)
                if want > 0, seen[backend] == nil { problems.append("expected traffic to hit backend \(backend), none was received") }
                if abs(got - want) > tolerance {
                    problems.append(String(format: "backend %@ got %.4f of the traffic, want %.2f +/- %.2f", backend, got, want, tolerance))
                }
            }
        }
        if test.notes?[key: "extra_assertion"] != nil, test.name == "HTTPRouteRequestHeaderModifierBackendWeights" {
            // 100 more requests: each backend sees exactly one Backend header naming itself.
            for _ in 0..<100 {
                let o = observe(request(t), t, using: &rng)
                let values = Observation.values("Backend", in: o.backendRequest.headers)
                let pod = o.pod?.name ?? ""
                if values.count != 1 || !pod.hasPrefix(values[0]) {
                    problems.append("pod \(pod) saw Backend headers \(values): \(o.summary)")
                    break
                }
            }
        }
        return problems
    }
}
