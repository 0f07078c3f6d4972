// --ingress-mode: the destination from l5d-dst-override, the absolute target, or Host.
import NIOHTTP1
import SwitchyardModel
import SwitchyardProxy
import SwitchyardRouting
import Testing

@Suite("Ingress destination")
struct IngressDestinationTests {
    static let router = HeadMappingWorld.router()
    static let a = Destination.service(HeadMappingWorld.parentA)

    static func resolve(_ headers: [(String, String)], uri: String = "/") -> Result<Destination, ProxyError> {
        IngressDestination.resolve(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers)),
                                   router: router)
    }

    @Test("forms of a destination", arguments: [
        ([("Host", "backend-a-podinfo.test.svc.cluster.local:9898")], "/"),
        ([("Host", "backend-a-podinfo.test.svc:9898")], "/"),
        ([("Host", "backend-a-podinfo.test:9898")], "/"),
        ([("Host", "Backend-A-Podinfo.TEST.svc.cluster.local.:9898")], "/"),
        ([("Host", "10.96.0.20:9898")], "/"),
        ([("Host", "  backend-a-podinfo.test:9898\t")], "/"),
        ([("Host", "elsewhere:80"), ("l5d-dst-override", "backend-a-podinfo.test.svc.cluster.local:9898")], "/"),
        ([("Host", "elsewhere:80"), ("L5D-DST-OVERRIDE", "10.96.0.20:9898")], "/"),
        ([("Host", "elsewhere:80")], "http://backend-a-podinfo.test:9898/path"),
    ] as [([(String, String)], String)])
    func forms(_ headers: [(String, String)], _ uri: String) throws {
        #expect(try Self.resolve(headers, uri: uri).get() == Self.a)
    }

    @Test("pods and unknown addresses pass through; no port means 80")
    func addresses() throws {
        #expect(try Self.resolve([("Host", "10.244.2.99:8080")]).get()
            == .pod(ResourceID(namespace: "test", name: "loner"), ip: "10.244.2.99", port: 8080))
        #expect(try Self.resolve([("Host", "192.0.2.7")]).get() == .address(ip: "192.0.2.7", port: 80))
        #expect(try Self.resolve([("l5d-dst-override", "[fd00::9]:81")]).get() == .address(ip: "fd00::9", port: 81))
        #expect(try Self.resolve([("Host", "[fd00::9]")]).get() == .address(ip: "fd00::9", port: 80))
        #expect(try Self.resolve([], uri: "https://192.0.2.7/").get() == .address(ip: "192.0.2.7", port: 443))
    }

    @Test("unusable values: 400 naming the header", arguments: [
        ([("Host", "backend-a-podinfo.test")], "Host \"backend-a-podinfo.test\": Service test/backend-a-podinfo has no port 80"),
        ([("Host", "frontend.test:9898")], "Host \"frontend.test:9898\": Service test/frontend not found"),
        ([("Host", "backend-a-podinfo:9898")], "Host \"backend-a-podinfo:9898\": expected name.namespace:port"),
        ([("l5d-dst-override", "a.b.c.d.e:1")], "l5d-dst-override \"a.b.c.d.e:1\": expected name.namespace:port"),
        ([("l5d-dst-override", "backend-a-podinfo.test:0")], "l5d-dst-override \"backend-a-podinfo.test:0\": expected HOST:PORT"),
        ([("l5d-dst-override", "backend-a-podinfo.test:http")], "l5d-dst-override \"backend-a-podinfo.test:http\": expected HOST:PORT"),
        ([("Host", "fd00::1")], "Host \"fd00::1\": expected HOST:PORT"),
        ([("l5d-dst-override", " ")], "empty l5d-dst-override header"),
        ([("l5d-dst-override", "a.test:1"), ("l5d-dst-override", "b.test:1")], "several l5d-dst-override headers"),
        ([("Host", "a.test:1"), ("host", "b.test:1")], "several Host headers"),
        ([], "no l5d-dst-override or Host header"),
    ] as [([(String, String)], String)])
    func unusable(_ headers: [(String, String)], _ words: String) {
        let result = Self.resolve(headers)
        guard case .failure(let error) = result, case .malformedRequest(let reason) = error else {
            Issue.record("expected malformedRequest, got \(result)")
            return
        }
        #expect(reason.contains(words), "\(reason)")
        #expect(error.status == .badRequest)
    }
}
