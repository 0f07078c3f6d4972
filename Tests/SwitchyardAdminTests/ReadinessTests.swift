import Testing
import SwitchyardAdmin

@Suite("Readiness")
struct ReadinessTests {
    @Test func readyOnlyOnceEveryConditionIs() {
        let readiness = Readiness(conditions: ["manifests loaded", "identities loaded"])
        #expect(!readiness.isReady)
        #expect(readiness.pending == ["manifests loaded", "identities loaded"])
        readiness.markReady("identities loaded")
        #expect(readiness.pending == ["manifests loaded"])
        readiness.register("listeners bound")
        readiness.register("manifests loaded")
        #expect(readiness.pending == ["manifests loaded", "listeners bound"])
        readiness.markReady("manifests loaded")
        readiness.markReady("listeners bound")
        #expect(readiness.isReady)
        readiness.markNotReady("listeners bound")
        #expect(readiness.pending == ["listeners bound"])
        #expect(Readiness().isReady)
    }
}
