// Hop-by-hop fields (RFC 9110 §7.6.1) and the mesh's own fields on each side.
import NIOHTTP1
import SwitchyardProxy
import Testing

@Suite("Hop-by-hop header stripping")
struct HopByHopTests {
    static func fields(_ headers: HTTPHeaders) -> [String] { headers.map { "\($0.name): \($0.value)" } }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: [(String, String)]
        var expected: [String]
        var keepingUpgrade = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Connection: close, foo removes foo", input: [
            ("Host", "a.test:80"), ("Connection", "close, foo"), ("Foo", "1"), ("Bar", "2"),
        ], expected: ["Host: a.test:80", "Bar: 2"]),
        Case(name: "options with odd spacing and case, several Connection fields, before and after", input: [
            ("X-A", "1"), ("connection", "  X-a ,\tKEEP-ALIVE,,x-b  "), ("X-B", "2"), ("x-c", "3"), ("CONNECTION", "X-C"),
            ("Keep-Alive", "timeout=5"), ("x-d", "4"),
        ], expected: ["x-d: 4"]),
        Case(name: "an option is a name, not a prefix", input: [
            ("Connection", "x-foo"), ("x-foobar", "1"), ("x-fo", "2"),
        ], expected: ["x-foobar: 1", "x-fo: 2"]),
        Case(name: "TE is dropped, trailers or not; Trailer stays", input: [
            ("TE", "trailers"), ("te", "gzip"), ("Trailer", "x-checksum"), ("Accept", "*/*"),
        ], expected: ["Trailer: x-checksum", "Accept: */*"]),
        Case(name: "Transfer-Encoding is dropped, Content-Length stays", input: [
            ("Transfer-Encoding", "chunked"), ("Content-Length", "5"),
        ], expected: ["Content-Length: 5"]),
        Case(name: "Proxy-Connection and Keep-Alive go; Proxy-Authorization and Proxy-Authenticate stay", input: [
            ("Proxy-Connection", "keep-alive"), ("keep-alive", "max=3"), ("Proxy-Authorization", "Basic eA=="),
            ("Proxy-Authenticate", "Basic"),
        ], expected: ["Proxy-Authorization: Basic eA==", "Proxy-Authenticate: Basic"]),
        Case(name: "Upgrade dropped without the flag", input: [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k"),
        ], expected: ["Sec-WebSocket-Key: k"]),
        Case(name: "Upgrade kept with the flag, with one connection: upgrade", input: [
            ("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k"),
        ], expected: ["Upgrade: websocket", "Sec-WebSocket-Key: k", "connection: upgrade"], keepingUpgrade: true),
        Case(name: "Connection cannot remove Host", input: [
            ("Host", "a.test"), ("Connection", "host, x-h"), ("x-h", "1"),
        ], expected: ["Host: a.test"]),
        Case(name: "mesh fields stay unless asked", input: [
            ("l5d-client-id", "forged"), ("l5d-dst-override", "a.test:80"),
        ], expected: ["l5d-client-id: forged", "l5d-dst-override: a.test:80"]),
        Case(name: "nothing to remove", input: [("Host", "a"), ("Accept", "*/*")], expected: ["Host: a", "Accept: */*"]),
    ]

    @Test("strip", arguments: cases)
    func strip(_ c: Case) {
        var headers = HTTPHeaders(c.input)
        HopByHop.strip(&headers, keepingUpgrade: c.keepingUpgrade)
        #expect(Self.fields(headers) == c.expected)
        #expect(Self.fields(HopByHop.stripped(HTTPHeaders(c.input), keepingUpgrade: c.keepingUpgrade)) == c.expected)
    }

    @Test("headers with nothing to remove are left as they were, storage and all")
    func untouched() {
        var headers = HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Content-Length", "0")])
        headers.reserveCapacity(64)
        let capacity = headers.capacity
        HopByHop.strip(&headers, meshFields: [.clientID, .destinationOverride])
        #expect(headers.capacity == capacity)  // a rebuilt block would have capacity 3
        #expect(Self.fields(headers) == ["Host: a", "Accept: */*", "Content-Length: 0"])
    }

    @Test("classification and upgrade requests")
    func classification() {
        for name in ["Connection", "KEEP-ALIVE", "proxy-connection", "Te", "Transfer-Encoding", "upgrade"] {
            #expect(HopByHop.isHopByHop(name), "\(name)")
        }
        for name in ["Proxy-Authorization", "Proxy-Authenticate", "Trailer", "Content-Length", "l5d-client-id", "tex"] {
            #expect(!HopByHop.isHopByHop(name), "\(name)")
        }
        #expect(HopByHop.requestsUpgrade(HTTPHeaders([("Connection", "keep-alive, UPGRADE"), ("Upgrade", "websocket")])))
        #expect(!HopByHop.requestsUpgrade(HTTPHeaders([("Upgrade", "websocket")])))
        #expect(!HopByHop.requestsUpgrade(HTTPHeaders([("Connection", "upgrade")])))
    }

    @Test("inbound: every client-supplied l5d-client-id goes, the verified identity is set once")
    func inboundClientID() {
        let identity = "web.test.serviceaccount.identity.linkerd.cluster.local"
        var headers = HTTPHeaders([
            ("L5D-Client-ID", "admin.kube-system.serviceaccount.identity.linkerd.cluster.local"), ("Host", "b.test:9898"),
            ("l5d-client-id", "forged"), ("Connection", "keep-alive"), ("l5D-cLiEnT-iD", "again"), ("Accept", "*/*"),
        ])
        InboundHeaders.prepare(&headers, clientIdentity: identity)
        #expect(Self.fields(headers) == ["Host: b.test:9898", "Accept: */*", "l5d-client-id: \(identity)"])
        #expect(headers["l5d-client-id"] == [identity])
    }

    @Test("inbound without an identity (plaintext): forged ones removed, none set")
    func inboundPlaintext() {
        var headers = HTTPHeaders([("l5d-client-id", "forged"), ("Host", "b")])
        InboundHeaders.prepare(&headers, clientIdentity: nil)
        #expect(Self.fields(headers) == ["Host: b"])

        var clean = HTTPHeaders([("Host", "b")])
        InboundHeaders.prepare(&clean, clientIdentity: "web.test.serviceaccount.identity.linkerd.cluster.local")
        #expect(clean["l5d-client-id"] == ["web.test.serviceaccount.identity.linkerd.cluster.local"])
    }

    @Test("inbound never writes an identity that is not a field value")
    func inboundBadIdentity() {
        for bad in ["", "a b", "a\r\nx-evil: 1", "é.test"] {
            var headers = HTTPHeaders([("Host", "b"), ("l5d-client-id", "forged")])
            InboundHeaders.prepare(&headers, clientIdentity: bad)
            #expect(Self.fields(headers) == ["Host: b"])
        }
    }

    @Test("outbound: l5d-dst-override and l5d-client-id go with the hop-by-hop fields")
    func outbound() {
        var headers = HTTPHeaders([
            ("Host", "x"), ("L5d-Dst-Override", "backend-a-podinfo.test.svc.cluster.local:9898"), ("l5d-client-id", "forged"),
            ("Transfer-Encoding", "chunked"), ("x-request-id", "alternative"),
        ])
        OutboundHeaders.prepare(&headers)
        #expect(Self.fields(headers) == ["Host: x", "x-request-id: alternative"])
    }
}
