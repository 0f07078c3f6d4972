// switchyard-conformance: runs the upstream Gateway API HTTPRoute conformance cases
// (conformance/gateway-api-httproute-cases.yaml) through Switchyard's manifest loader and router.
//
//   swift run -c debug switchyard-conformance conformance/gateway-api-httproute-cases.yaml [--verbose] [--only NAME]... [--dump-manifests DIR]
//
// Prints every failure and every skip (with its reason), then exactly
// `conformance: N passed, M failed, K skipped`; exits 1 when anything failed.
// K counts skipped cases, plus one for each test that has no request cases at all.
// See conformance/README.md.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Prints `message` on standard error and exits with `code`.
func die(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

var path: String?
var verbose = false
var only: Set<String> = []
var dump: String?
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--verbose", "-v": verbose = true
    case "--only":
        guard let name = arguments.popFirst() else { die("--only needs a test name") }
        only.insert(name)
    case "--dump-manifests":
        guard let dir = arguments.popFirst() else { die("--dump-manifests needs a directory") }
        dump = dir
    case "--help", "-h":
        print("usage: switchyard-conformance CASES.yaml [--verbose] [--only TEST]... [--dump-manifests DIR]")
        exit(0)
    default:
        if arg.hasPrefix("-") || path != nil { die("unexpected argument \(arg)") }
        path = arg
    }
}
guard let path else {
    die("usage: switchyard-conformance CASES.yaml [--verbose] [--only TEST]... [--dump-manifests DIR]")
}

let file: CaseFile
do { file = try CaseFile(path: path) } catch {
    die("switchyard-conformance: \(error)")
}

let started = Date()
var passed = 0, failed = 0, skipped = 0
print("Gateway API HTTPRoute conformance (kubernetes-sigs/gateway-api@\(file.commit.prefix(12))), \(file.tests.count) tests")

@MainActor func report(_ results: [CaseResult], counted: Bool, prefix: String = "") {
    // A whole-test skip is printed once.
    var skipReasons: [String: (count: Int, reason: String)] = [:]
    var order: [String] = []
    for r in results {
        switch r.outcome {
        case .pass:
            if counted { passed += 1 }
            if verbose { print("\(prefix)PASS \(r.test) > \(r.label)") }
        case .fail(let message):
            if counted { failed += 1 }
            print("\(prefix)FAIL \(r.test)\(r.label.isEmpty ? "" : " > \(r.label)"): \(message)")
            for d in r.details { print("       \(d)") }
        case .skip(let reason):
            if counted { skipped += 1 }
            let key = r.test + "\u{0}" + reason
            if skipReasons[key] == nil { order.append(key) }
            skipReasons[key, default: (0, reason)].count += 1
            if verbose, !r.label.isEmpty { print("\(prefix)skip \(r.test) > \(r.label)") }
        }
        for n in r.notes where verbose { print("\(prefix)note \(r.test) > \(r.label): \(n)") }
    }
    for key in order {
        let (count, reason) = skipReasons[key]!
        let test = String(key.split(separator: "\u{0}", maxSplits: 1)[0])
        let total = results.filter { $0.test == test }.count
        let what = results.first { $0.test == test }?.label.isEmpty == true ? "no cases"
            : count == total ? "all \(count) case\(count == 1 ? "" : "s")" : "\(count) of \(total) cases"
        print("\(prefix)SKIP \(test) (\(what)): \(reason)")
    }
}

for test in file.tests where only.isEmpty || only.contains(test.name) {
    var runner = TestRunner(test: test, dump: dump)
    let results = runner.run()
    if verbose { for n in runner.notes { print("note \(test.name): \(n)") } }
    report(results, counted: true)
}
// Unmerged upstream proposals: run for information, never counted.
for test in file.proposals where only.isEmpty || only.contains(test.name) {
    var runner = TestRunner(test: test, dump: dump)
    let results = runner.run()
    let ok = results.allSatisfy { if case .pass = $0.outcome { return true } else { return false } }
    print("proposal \(test.name) (unmerged upstream, not counted): \(ok ? "passes" : "does not pass")")
    if !ok || verbose { report(results, counted: false, prefix: "  ") }
}
if verbose { print(String(format: "(%.2f s)", Date().timeIntervalSince(started))) }
print("conformance: \(passed) passed, \(failed) failed, \(skipped) skipped")
exit(failed > 0 ? 1 : 0)
