// Pod traffic captured for real by the rules `switchyard redirect install` writes, applied with
// IPTablesApplier, once per backend. Namespaces stand for the node and its pods, joined by
// veth pairs as a CNI joins them; every namespace is `sy-ipt-<pid>-<random>` and is deleted when
// the test ends, pass or fail. Nothing in the root namespace is touched.
//
// Node mode: namespaces node, pod (meshed, 10.244.1.10 and fd00:244::10, default routes via
// the node) and other (unmeshed, 10.244.2.20). The node holds the listeners; the pods' sockets
// make plain connect() calls, whose packets enter the node through its veth ends (PREROUTING).
//
// Sidecar mode: namespaces pod (the rules and the proxy's listeners) and remote (a peer at
// 10.244.1.1 that also holds the "ClusterIP" 10.96.0.20, so traffic that is not redirected
// really arrives there).
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardInterception
import Testing
import SwitchyardTestSupport

@Suite("redirect rules capture pod traffic: plain connect() lands on the proxy's listeners with the original destination", .dedicatedThread)
struct IPTablesCaptureTests {
    static let prefix = IPTablesNamespaceTests.prefix
    static let ports = IPTablesPorts()
    static let clusterIPv4 = IPEndpoint(IPv4Address(10, 96, 0, 20), port: 9898)
    static let clusterIPv6 = IPEndpoint(IPv6Address("fd00:96::20")!, port: 9898)
    static let podIPv4 = IPv4Address(10, 244, 1, 10)
    static let podIPv6 = IPv6Address("fd00:244::10")!
    static let proxyUID: UInt32 = 2102

    /// A veth pair from `a` (end `aName`, `aAddresses`) to `b` (end `bName`, `bAddresses`), both up.
    static func link(_ a: NetworkNamespace, _ aName: String, _ aAddresses: [String],
                     _ b: NetworkNamespace, _ bName: String, _ bAddresses: [String]) throws {
        try a.ip("link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.name)
        for (namespace, name, addresses) in [(a, aName, aAddresses), (b, bName, bAddresses)] {
            for address in addresses {
                if address.contains(":") {
                    try namespace.ip("-6", "addr", "add", address, "dev", name, "nodad")
                } else {
                    try namespace.ip("addr", "add", address, "dev", name)
                }
            }
            try namespace.ip("link", "set", name, "up")
        }
    }

    /// Accepts the next connection on `listener` and reads what it was.
    static func accepted(on listener: Int32) throws -> (original: OriginalDestination?, client: ClientAddress, local: IPEndpoint) {
        let fd = try TestSocket.accept(listener)
        defer { close(fd) }
        return (try OriginalDestination.of(socket: fd), try ClientAddress.of(socket: fd), try TestSocket.localEndpoint(fd))
    }

    /// Whether a connection is waiting on `listener` (poll, no wait).
    static func pending(_ listener: Int32) -> Bool {
        var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 1
    }

    /// A plain blocking connect() from inside `namespace`; the socket is returned open.
    static func connect(from namespace: NetworkNamespace, to target: IPEndpoint) async throws -> Int32 {
        try await namespace.run { try TestSocket.connect(to: target) }
    }

    @Test("""
        node mode: a meshed pod's connect() to a ClusterIP (IPv4 and IPv6) lands on the outbound listener; an unmeshed \
        pod's connection to it lands on the inbound listener; the admin port and unmeshed egress are left alone
        """,
          arguments: IPTablesBackend.allCases)
    func node(backend: IPTablesBackend) async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { node in
            try await NetworkNamespace.with(prefix: Self.prefix) { pod in
                try await NetworkNamespace.with(prefix: Self.prefix) { other in
                    try await Self.node(backend: backend, node: node, pod: pod, other: other)
                }
            }
        }
    }

    static func node(backend: IPTablesBackend, node: NetworkNamespace, pod: NetworkNamespace, other: NetworkNamespace) async throws {
        try link(node, "sy-n0", ["10.244.1.1/24", "fd00:244::1/64"], pod, "sy-p0", ["\(podIPv4)/24", "\(podIPv6)/64"])
        try pod.ip("route", "add", "default", "via", "10.244.1.1")
        try pod.ip("-6", "route", "add", "default", "via", "fd00:244::1")
        try link(node, "sy-n1", ["10.244.2.1/24"], other, "sy-p1", ["10.244.2.20/24"])
        try other.ip("route", "add", "default", "via", "10.244.2.1")

        let runner = IPTablesCommandRunner(prefix: [NetworkNamespace.ip, "netns", "exec", node.name])
        let ipv6 = IPTablesApplier.ipv6Works(backend: backend, runner: runner)
        if !ipv6 { FileHandle.standardError.write(Data("warning: IPv6 capture SKIPPED (\(backend)): no IPv6 nat\n".utf8)) }
        let plan = IPTablesPlan.node(meshedLocalPodIPs: [.v4(podIPv4), .v6(podIPv6)], ports: ports)
        try IPTablesApplier(backend: backend, families: ipv6 ? [.ipv4, .ipv6] : [.ipv4], runner: runner).install(plan)

        let (outbound4, outbound6, inbound4, admin, plain) = try await node.run {
            (try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.outbound)),
             try TestSocket.listen(on: IPEndpoint(IPv6Address.any, port: ports.outbound)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.inbound)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.admin)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: 9999)))
        }
        defer { for fd in [outbound4, outbound6, inbound4, admin, plain] { close(fd) } }

        // The proof: the app's plain connect() to a ClusterIP, from the meshed pod.
        let app = try await connect(from: pod, to: clusterIPv4)
        defer { close(app) }
        let egress = try accepted(on: outbound4)
        #expect(egress.original == OriginalDestination(clusterIPv4))
        #expect(egress.client.endpoint.address == .v4(podIPv4))
        #expect(egress.local.port == ports.outbound)
        #expect(try TestSocket.peerEndpoint(app) == clusterIPv4, "the app still believes it talks to the ClusterIP")

        if ipv6 {
            let app6 = try await connect(from: pod, to: clusterIPv6)
            defer { close(app6) }
            let egress6 = try accepted(on: outbound6)
            #expect(egress6.original == OriginalDestination(clusterIPv6))
            #expect(egress6.client.endpoint.address == .v6(podIPv6))
        }

        // Plaintext for the meshed pod from an unmeshed one: to the inbound listener.
        let target = IPEndpoint(podIPv4, port: 8080)
        let peer = try await connect(from: other, to: target)
        defer { close(peer) }
        let ingress = try accepted(on: inbound4)
        #expect(ingress.original == OriginalDestination(target))
        #expect(ingress.client.endpoint.address == .v4(IPv4Address(10, 244, 2, 20)))

        // The admin port is never redirected; the unmeshed pod's egress is not captured.
        let adminTarget = IPEndpoint(IPv4Address(10, 244, 1, 1), port: ports.admin)
        let scrape = try await connect(from: pod, to: adminTarget)
        defer { close(scrape) }
        let direct = try accepted(on: admin)
        #expect(direct.original == nil)
        #expect(direct.local == adminTarget)
        let unmeshed = try await connect(from: other, to: IPEndpoint(IPv4Address(10, 244, 2, 1), port: 9999))
        defer { close(unmeshed) }
        #expect(try accepted(on: plain).original == nil)
        #expect(!pending(outbound4) && !pending(inbound4))
    }

    @Test("""
        sidecar mode: the app's connect() to a ClusterIP lands on the outbound port; the proxy uid's, a skipped port's and \
        loopback's are not redirected; inbound lands on the inbound port unless the port is skipped or the admin port
        """,
          arguments: IPTablesBackend.allCases)
    func sidecar(backend: IPTablesBackend) async throws {
        try await NetworkNamespace.with(prefix: Self.prefix) { pod in
            try await NetworkNamespace.with(prefix: Self.prefix) { remote in
                try await Self.sidecar(backend: backend, pod: pod, remote: remote)
            }
        }
    }

    static func sidecar(backend: IPTablesBackend, pod: NetworkNamespace, remote: NetworkNamespace) async throws {
        try link(pod, "sy-p0", ["\(podIPv4)/24"], remote, "sy-r0", ["10.244.1.1/24", "10.96.0.20/32"])
        try pod.ip("route", "add", "10.96.0.0/12", "via", "10.244.1.1")

        let runner = IPTablesCommandRunner(prefix: [NetworkNamespace.ip, "netns", "exec", pod.name])
        let plan = IPTablesPlan.sidecar(proxyUID: proxyUID, ports: ports, skipInboundPorts: [2222...2222],
                                        skipOutboundPorts: [443...443])
        try IPTablesApplier(backend: backend, families: [.ipv4], runner: runner).install(plan)

        let listeners = try await pod.run {
            [try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.outbound)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.inbound)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: ports.admin)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.any, port: 2222)),
             try TestSocket.listen(on: IPEndpoint(IPv4Address.loopback, port: 7777))]
        }
        let remoteListeners = try await remote.run {
            [try TestSocket.listen(on: clusterIPv4), try TestSocket.listen(on: IPEndpoint(IPv4Address(10, 96, 0, 20), port: 443))]
        }
        defer { for fd in listeners + remoteListeners { close(fd) } }
        let (outbound, inbound, admin, skipped, loopback) = (listeners[0], listeners[1], listeners[2], listeners[3], listeners[4])
        let (service, service443) = (remoteListeners[0], remoteListeners[1])

        // The app (root here, not the proxy uid): to the outbound listener, via OUTPUT.
        let app = try await connect(from: pod, to: clusterIPv4)
        defer { close(app) }
        let egress = try accepted(on: outbound)
        #expect(egress.original == OriginalDestination(clusterIPv4))
        #expect(egress.client.endpoint.address == .v4(podIPv4))

        // The proxy's own connection (its uid) goes out as it is, to the real ClusterIP holder.
        let proxy = try pod.exec(["/usr/bin/setpriv", "--reuid", String(proxyUID), "--regid", String(proxyUID), "--clear-groups",
                                  "/bin/bash", "-c", "exec 3<>/dev/tcp/10.96.0.20/9898 && echo connected"])
        #expect(proxy.contains("connected"))
        let upstream = try accepted(on: service)
        #expect(upstream.local == clusterIPv4)
        #expect(upstream.client.endpoint.address == .v4(podIPv4))
        #expect(!pending(outbound), "the proxy uid's connection must not be redirected")

        // A skipped outbound port, and loopback: not redirected.
        let tls = try await connect(from: pod, to: IPEndpoint(IPv4Address(10, 96, 0, 20), port: 443))
        defer { close(tls) }
        #expect(try accepted(on: service443).local.port == 443)
        let local = try await connect(from: pod, to: IPEndpoint(IPv4Address.loopback, port: 7777))
        defer { close(local) }
        #expect(try accepted(on: loopback).original == nil)
        #expect(!pending(outbound))

        // Inbound: to the inbound listener with the pod's address and port as original destination...
        let target = IPEndpoint(podIPv4, port: 8080)
        let peer = try await connect(from: remote, to: target)
        defer { close(peer) }
        let ingress = try accepted(on: inbound)
        #expect(ingress.original == OriginalDestination(target))
        #expect(ingress.client.endpoint.address == .v4(IPv4Address(10, 244, 1, 1)))
        // ...except a skipped inbound port and the admin port.
        let ssh = try await connect(from: remote, to: IPEndpoint(podIPv4, port: 2222))
        defer { close(ssh) }
        #expect(try accepted(on: skipped).original == nil)
        let scrape = try await connect(from: remote, to: IPEndpoint(podIPv4, port: ports.admin))
        defer { close(scrape) }
        #expect(try accepted(on: admin).original == nil)
        #expect(!pending(inbound))
    }
}
