import SwitchyardModel
import SwitchyardRouting
import Testing

@Suite("The tutorial's header route")
struct TutorialRoutingTests {
    let router = Router(snapshot: Fixtures.snapshot())

    @Test("x-request-id: alternative reaches B, everything else A", arguments: [
        ([("x-request-id", "alternative")], "backend-b-podinfo"),
        ([("X-Request-ID", "alternative")], "backend-b-podinfo"),  // names are case-insensitive
        ([("x-request-id", "Alternative")], "backend-a-podinfo"),  // values are not
        ([("x-request-id", "alternative2")], "backend-a-podinfo"), // exact, not prefix
        ([("x-request-id", "other")], "backend-a-podinfo"),
        ([], "backend-a-podinfo"),
    ])
    func headerRoute(headers: [(String, String)], backend: String) {
        let d = Fixtures.decide(router, method: "POST", path: "/echo", headers: headers)
        #expect(d.status == 200)
        #expect(d.backend?.service.name == backend)
        #expect(d.route?.name == "backend-router")
        #expect(d.route?.group == "policy.linkerd.io")
        #expect(d.route?.rule == (backend == "backend-b-podinfo" ? 0 : 1))
    }

    @Test func endpointsAreTheChosenServicePods() {
        let d = Fixtures.decide(router, headers: [("x-request-id", "alternative")])
        #expect(d.endpoints.map(\.description) == ["10.244.2.30:9898"])
        #expect(d.endpoints.first?.meshed == true)
        #expect(d.endpoints.first?.identity?.name == "default.test.serviceaccount.identity.linkerd.cluster.local")
    }

    @Test func serviceWithoutRoutesGoesToItself() {
        let parent = ParentKey(service: ResourceID(namespace: "test", name: "backend-b-podinfo"), port: 9898)
        let d = Fixtures.decide(router, headers: [("x-request-id", "alternative")], parent: parent)
        #expect(d.status == 200)
        #expect(d.route == nil)
        #expect(d.backend?.service.name == "backend-b-podinfo")
        #expect(d.candidates.map(\.name) == ["backend-b-podinfo"])
    }

    @Test func unknownParentIs500() {
        let parent = ParentKey(service: ResourceID(namespace: "test", name: "nope"), port: 9898)
        let d = Fixtures.decide(router, parent: parent)
        #expect(d.status == 500)
        #expect(d.reason?.contains("not found") == true)
    }

    @Test func requestIsForwardedUnchangedWithoutFilters() {
        let d = Fixtures.decide(router, method: "POST", path: "/echo?a=1", headers: [("x-request-id", "alternative"), ("Accept", "*/*")])
        #expect(d.request.method == "POST")
        #expect(d.request.path == "/echo?a=1")
        #expect(d.request.headers == [HTTPHeader(name: "x-request-id", value: "alternative"), HTTPHeader(name: "Accept", value: "*/*")])
        #expect(d.responseHeaders == nil)
        #expect(d.redirect == nil)
    }
}
