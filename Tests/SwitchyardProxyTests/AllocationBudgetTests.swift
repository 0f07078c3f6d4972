// The allocation budget of one proxied HTTP/1.1 request, as swift-nio's allocation-counter
// tests keep theirs: runs `SwitchyardAllocBench` (bench/alloc, built with the tests into the same
// products directory) and fails when a scenario allocates more per request than its budget.
//
// The bench counts, with a malloc interposer that cannot live in this test bundle (it would
// replace malloc for every test), the heap allocations made on the daemon's event loop thread
// per request on kept-alive connections: `mesh` is outbound -> mTLS (the request an HTTP/2
// stream between the proxies) -> inbound -> backend,
// `plaintext` is outbound -> an unmeshed backend. docs/performance.md says what is counted.
//
// A debug build allocates far more than a release build (nothing is specialized or inlined), so
// each configuration has its own budget. The release budget is also what `make alloc-budget`
// enforces on the release binary. When a change lowers the counts, lower the budgets with it;
// when one raises them, find the allocation (docs/performance.md: how) before raising a budget.
import Foundation
import SwitchyardSubprocess
import Testing

@Suite("Allocation budget: one proxied HTTP/1.1 request")
struct AllocationBudgetTests {
    #if DEBUG
    static let budgets = (mesh: 252.5, plaintext: 87.5)
    #else
    static let budgets = (mesh: 82.5, plaintext: 13.5)
    #endif

    /// `SwitchyardAllocBench` in the directory of the running test bundle.
    static func benchBinary() throws -> URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let bench = executable.deletingLastPathComponent().appendingPathComponent("SwitchyardAllocBench")
        guard FileManager.default.isExecutableFile(atPath: bench.path) else {
            throw ProxyTestError("\(bench.path) is missing: build it with the tests (swift build --build-tests builds every target)")
        }
        return bench
    }

    @Test("allocations per request stay within budget (mesh and plaintext)")
    func withinBudget() async throws {
        let result = try await SpawnedProcess.run(
            [try Self.benchBinary().path, "--requests", "300", "--warmup", "100", "--runs", "2",
             "--budget-mesh", String(Self.budgets.mesh), "--budget-plaintext", String(Self.budgets.plaintext)],
            timeout: 120)
        #expect(result.status == 0, "SwitchyardAllocBench:\n\(result.stdout)")
        for scenario in ["mesh", "plaintext"] {
            let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("\(scenario): ") }
            let measured = line.flatMap { Double($0.dropFirst(scenario.count + 2).prefix { $0 != " " }) }
            #expect(measured != nil, "no figure for \(scenario) in:\n\(result)")
        }
    }
}
