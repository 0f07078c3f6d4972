// SO_ORIGINAL_DST for real: iptables REDIRECT in a network namespace of the test's own, with
// both iptables backends (nft and legacy), IPv4, IPv6 and a dual-stack listener. No mocks.
//
// Each test makes `sy-origdst-<random>` with a pod-like network: `lo` up, and a veth pair
// (both ends inside the namespace) carrying the pod address 10.244.1.10/24 and fd00:244::10/64,
// with the Service ranges 10.96.0.0/12 and fd00:96::/108 routed through it. The ClusterIPs are
// therefore routable but not local, which is what a REDIRECT in OUTPUT needs. (A dummy
// interface would do too, but this CI kernel has no dummy driver; veth is what pods have.)
// The nat OUTPUT rules send ClusterIP:9898 to a listener on loopback; an app socket does a
// plain connect() to the ClusterIP, and the accepted socket must report it.
//
// The namespace is deleted when each test ends, pass or fail. Root is required (CI runs as
// root); without it the tests fail saying so.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardInterception
import Testing
import SwitchyardTestSupport

@Suite("SO_ORIGINAL_DST through iptables REDIRECT in a network namespace", .dedicatedThread)
struct OriginalDestinationNamespaceTests {
    /// The iptables backend that installs the rules; both must work inside a namespace.
    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case nft, legacy
        var iptables: String { "/usr/sbin/iptables-\(rawValue)" }
        var ip6tables: String { "/usr/sbin/ip6tables-\(rawValue)" }
        var testDescription: String { rawValue }
    }

    static let podIPv4 = IPv4Address(10, 244, 1, 10)
    static let podIPv6 = IPv6Address("fd00:244::10")!
    /// A Service redirected to the IPv4 listener (127.0.0.1:15001).
    static let clusterIPv4 = IPEndpoint(IPv4Address(10, 96, 0, 20), port: 9898)
    /// A Service redirected to the IPv6 listener ([::1]:15002).
    static let clusterIPv6 = IPEndpoint(IPv6Address("fd00:96::20")!, port: 9898)
    /// Services redirected to the dual-stack listener ([::]:15003).
    static let dualStackClusterIPv4 = IPEndpoint(IPv4Address(10, 96, 0, 21), port: 9898)
    static let dualStackClusterIPv6 = IPEndpoint(IPv6Address("fd00:96::21")!, port: 9898)

    static let ipv4Listener = IPEndpoint(IPv4Address.loopback, port: 15001)
    static let ipv6Listener = IPEndpoint(IPv6Address.loopback, port: 15002)
    static let dualStackListener = IPEndpoint(IPv6Address.any, port: 15003)

    /// What each side of one connection saw.
    struct Connection: Sendable {
        /// `OriginalDestination.of` on the accepted socket.
        var original: OriginalDestination?
        /// `ClientAddress.of` on the accepted socket.
        var client: ClientAddress
        /// The accepted socket's own address (`getsockname`), as written.
        var acceptedLocal: IPEndpoint
        /// The app socket's own address and its peer, as the app sees them.
        var appLocal: IPEndpoint
        var appPeer: IPEndpoint
    }

    /// Inside the namespace: a plain blocking connect() to `target`, then accept on `listener`.
    static func connect(to target: IPEndpoint, acceptingOn listener: Int32) throws -> Connection {
        let app = try TestSocket.connect(to: target)
        defer { close(app) }
        let accepted = try TestSocket.accept(listener)
        defer { close(accepted) }
        return Connection(
            original: try OriginalDestination.of(socket: accepted),
            client: try ClientAddress.of(socket: accepted),
            acceptedLocal: try TestSocket.localEndpoint(accepted),
            appLocal: try TestSocket.localEndpoint(app),
            appPeer: try TestSocket.peerEndpoint(app))
    }

    /// The pod-like network described at the top of this file. The ClusterIPs must route out of
    /// the veth, not be local addresses.
    static func buildPodNetwork(in namespace: NetworkNamespace) throws {
        try namespace.ip("link", "add", "sy-v0", "type", "veth", "peer", "name", "sy-v1")
        try namespace.ip("link", "set", "sy-v1", "up")
        try namespace.ip("link", "set", "sy-v0", "up")
        try namespace.ip("addr", "add", "\(podIPv4)/24", "dev", "sy-v0")
        try namespace.ip("addr", "add", "\(podIPv6)/64", "dev", "sy-v0", "nodad")
        try namespace.ip("route", "add", "10.96.0.0/12", "dev", "sy-v0")
        try namespace.ip("-6", "route", "add", "fd00:96::/108", "dev", "sy-v0")
        for clusterIP in ["10.96.0.20", "fd00:96::20"] {
            let route = try namespace.exec([NetworkNamespace.ip, "route", "get", clusterIP])
            #expect(route.contains("dev sy-v0") && !route.hasPrefix("local"),
                    "ClusterIP \(clusterIP) must be routed out of sy-v0, not local: \(route)")
        }
    }

    /// `iptables -t nat -A OUTPUT -p tcp -d DEST --dport PORT -j REDIRECT --to-ports TO`, in the namespace.
    static func redirect(_ destination: IPEndpoint, toPort port: UInt16, in namespace: NetworkNamespace, with backend: Backend) throws {
        let (program, address) = switch destination.address {
        case .v4(let v4): (backend.iptables, v4.description)
        case .v6(let v6): (backend.ip6tables, v6.description)
        }
        try namespace.exec([
            program, "-w", "5", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", address, "--dport", "\(destination.port)",
            "-m", "comment", "--comment", "switchyard test: ClusterIP to listener",
            "-j", "REDIRECT", "--to-ports", "\(port)",
        ])
    }

    /// Cancels (skips, with the reason) the running IPv6 test when this kernel has no IPv6 nat
    /// table for `backend` (no ip6table_nat / nft nat for ip6).
    static func requireIPv6NAT(in namespace: NetworkNamespace, with backend: Backend) throws {
        do {
            try namespace.exec([backend.ip6tables, "-w", "5", "-t", "nat", "-S", "OUTPUT"])
        } catch {
            // Swift Testing 6.3 reports a cancelled test case as passed and prints no reason,
            // so say it on standard error too.
            let reason = "IPv6 SO_ORIGINAL_DST test SKIPPED (\(backend)): this kernel has no IPv6 nat table for \(backend.ip6tables): \(error)"
            FileHandle.standardError.write(Data("warning: \(reason)\n".utf8))
            try Test.cancel(Comment(rawValue: reason))
        }
    }

    @Test("IPv4: a plain connect() to a ClusterIP reaches 127.0.0.1 with the ClusterIP as its original destination; a direct connection has none",
          arguments: Backend.allCases)
    func ipv4(backend: Backend) async throws {
        try await NetworkNamespace.with { namespace in
            try Self.buildPodNetwork(in: namespace)
            try Self.redirect(Self.clusterIPv4, toPort: Self.ipv4Listener.port, in: namespace, with: backend)

            let (redirected, direct) = try await namespace.run {
                let listener = try TestSocket.listen(on: Self.ipv4Listener)
                defer { close(listener) }
                return (try Self.connect(to: Self.clusterIPv4, acceptingOn: listener),
                        try Self.connect(to: Self.ipv4Listener, acceptingOn: listener))
            }

            #expect(redirected.original == OriginalDestination(Self.clusterIPv4))
            #expect(redirected.original?.description == "10.96.0.20:9898")
            // REDIRECT in OUTPUT rewrote the destination to the loopback listener.
            #expect(redirected.acceptedLocal == Self.ipv4Listener)
            // The app still believes it is talking to the ClusterIP, from its pod address...
            #expect(redirected.appPeer == Self.clusterIPv4)
            #expect(redirected.appLocal.address == .v4(Self.podIPv4))
            // ...and the accepted socket's peer is that very app socket.
            #expect(redirected.client == ClientAddress(redirected.appLocal))

            // Conntrack tracks this one too (the namespace has a nat table), but did not translate it.
            #expect(direct.original == nil)
            #expect(direct.client == ClientAddress(direct.appLocal))
        }
    }

    @Test("IPv6: a plain connect() to an IPv6 ClusterIP reaches [::1] (and a dual-stack [::]) with the ClusterIP as its original destination",
          arguments: Backend.allCases)
    func ipv6(backend: Backend) async throws {
        try await NetworkNamespace.with { namespace in
            try Self.requireIPv6NAT(in: namespace, with: backend)
            try Self.buildPodNetwork(in: namespace)
            try Self.redirect(Self.clusterIPv6, toPort: Self.ipv6Listener.port, in: namespace, with: backend)
            try Self.redirect(Self.dualStackClusterIPv6, toPort: Self.dualStackListener.port, in: namespace, with: backend)

            let (redirected, direct, dualStack) = try await namespace.run {
                let listener = try TestSocket.listen(on: Self.ipv6Listener)
                defer { close(listener) }
                let dualStackListener = try TestSocket.listen(on: Self.dualStackListener, dualStack: true)
                defer { close(dualStackListener) }
                return (try Self.connect(to: Self.clusterIPv6, acceptingOn: listener),
                        try Self.connect(to: Self.ipv6Listener, acceptingOn: listener),
                        try Self.connect(to: Self.dualStackClusterIPv6, acceptingOn: dualStackListener))
            }

            #expect(redirected.original == OriginalDestination(Self.clusterIPv6))
            #expect(redirected.original?.description == "[fd00:96::20]:9898")
            #expect(redirected.acceptedLocal == Self.ipv6Listener)
            #expect(redirected.appPeer == Self.clusterIPv6)
            #expect(redirected.appLocal.address == .v6(Self.podIPv6))
            #expect(redirected.client == ClientAddress(redirected.appLocal))

            #expect(direct.original == nil)

            #expect(dualStack.original == OriginalDestination(Self.dualStackClusterIPv6))
            #expect(dualStack.client == ClientAddress(dualStack.appLocal))
        }
    }

    @Test("Dual-stack [::] listener, IPv4 client: the socket is IPv6 (::ffff:127.0.0.1) but the original destination is the IPv4 ClusterIP",
          arguments: Backend.allCases)
    func dualStackListenerIPv4Client(backend: Backend) async throws {
        try await NetworkNamespace.with { namespace in
            try Self.buildPodNetwork(in: namespace)
            try Self.redirect(Self.dualStackClusterIPv4, toPort: Self.dualStackListener.port, in: namespace, with: backend)

            let (redirected, directIPv4, directIPv6) = try await namespace.run {
                let listener = try TestSocket.listen(on: Self.dualStackListener, dualStack: true)
                defer { close(listener) }
                return (try Self.connect(to: Self.dualStackClusterIPv4, acceptingOn: listener),
                        try Self.connect(to: IPEndpoint(IPv4Address.loopback, port: Self.dualStackListener.port), acceptingOn: listener),
                        try Self.connect(to: IPEndpoint(IPv6Address.loopback, port: Self.dualStackListener.port), acceptingOn: listener))
            }

            // The IPv4-mapped case: the accepted socket is IPv6 and calls itself ::ffff:127.0.0.1.
            #expect(redirected.acceptedLocal == IPEndpoint(IPv6Address(ipv4Mapped: .loopback), port: Self.dualStackListener.port))
            #expect(redirected.original == OriginalDestination(Self.dualStackClusterIPv4))
            #expect(redirected.original?.description == "10.96.0.21:9898")
            // The client is given as the IPv4 address it is, not ::ffff:10.244.1.10.
            #expect(redirected.client == ClientAddress(redirected.appLocal))
            #expect(redirected.client.endpoint.address == .v4(Self.podIPv4))

            #expect(directIPv4.original == nil)
            #expect(directIPv4.client.endpoint.address == .v4(.loopback))
            #expect(directIPv6.original == nil)
        }
    }

    @Test("Without any nat table conntrack is off in the namespace: the kernel answers ENOENT, which means not redirected")
    func noConntrack() async throws {
        try await NetworkNamespace.with { namespace in
            let (v4, v6) = try await namespace.run {
                let listener4 = try TestSocket.listen(on: Self.ipv4Listener)
                defer { close(listener4) }
                let listener6 = try TestSocket.listen(on: Self.ipv6Listener)
                defer { close(listener6) }
                return (try Self.connect(to: Self.ipv4Listener, acceptingOn: listener4),
                        try Self.connect(to: Self.ipv6Listener, acceptingOn: listener6))
            }
            #expect(v4.original == nil)
            #expect(v6.original == nil)
            #expect(v4.client == ClientAddress(v4.appLocal))
            #expect(v6.client == ClientAddress(v6.appLocal))
        }
    }
}
