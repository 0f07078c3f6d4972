import Foundation
import Yams

/// `gateway-api-httproute-cases.yaml`: the upstream HTTPRoute conformance tests, each with its
/// manifests (verbatim) and its request -> expected response cases.
struct CaseFile {
    var tests: [ConformanceTest]
    /// `unmerged_proposals`: tests from open upstream pull requests, not part of the suite.
    var proposals: [ConformanceTest]
    /// `meta.commit`.
    var commit: String

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text) else {
            throw CaseFileError(message: "\(path): empty document")
        }
        commit = root[key: "meta"]?[key: "commit"]?.text ?? "?"
        tests = try root[key: "tests"]?.items.map(ConformanceTest.init) ?? []
        proposals = try root[key: "unmerged_proposals"]?.items.map(ConformanceTest.init) ?? []
        if tests.isEmpty { throw CaseFileError(message: "\(path): no tests") }
    }
}

struct CaseFileError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Which upstream harness runs a test, and so how its results are compared.
enum Profile: String {
    /// A Gateway is the parent; requests go to the Gateway address (conformance/utils/http).
    case gateway
    /// GAMMA: a Service is the parent; requests go from a mesh pod (conformance/utils/echo).
    case mesh
}

/// One upstream `suite.ConformanceTest`.
struct ConformanceTest {
    var name: String
    var profile: Profile
    var description: String
    var features: [String]
    var harnessCalls: [String]
    var manifests: [(path: String, yaml: String)]
    var cases: [ConformanceCase]
    /// `notes` (weighted distributions, extra assertions, quirks).
    var notes: Yams.Node?

    init(_ node: Yams.Node) throws {
        guard let name = node[key: "test"]?.text else { throw CaseFileError(message: "a test without a name") }
        self.name = name
        profile = (node[key: "profile"]?.text ?? "").hasPrefix("mesh") ? .mesh : .gateway
        description = node[key: "description"]?.text ?? ""
        features = node[key: "features"]?.stringList ?? []
        harnessCalls = node[key: "harness_calls"]?.stringList ?? []
        manifests = node[key: "manifests"]?.items.compactMap { m in
            guard let path = m[key: "path"]?.text, let yaml = m[key: "yaml"]?.scalar?.string else { return nil }
            return (path, yaml)
        } ?? []
        notes = node[key: "notes"]
        cases = node[key: "cases"]?.items.enumerated().map { ConformanceCase($1, index: $0) } ?? []
    }
}

/// One request and what upstream expects of its answer.
struct ConformanceCase {
    /// Position in the test's case list (what upstream's generated case names count).
    var index: Int
    var name: String?
    var subtest: String?
    var request: CaseRequest
    var expect: CaseExpectation
    /// The Go call(s) that ran the case; names the gateway address or the mesh client used.
    var invokedBy: [String]

    init(_ node: Yams.Node, index: Int) {
        self.index = index
        name = node[key: "name"]?.text
        subtest = node[key: "subtest"]?.text
        request = CaseRequest(node[key: "request"])
        expect = CaseExpectation(node[key: "expect"])
        invokedBy = node[key: "invoked_by"]?.stringList ?? []
    }

    /// Upstream's name for the case (`ExpectedResponse.GetTestCaseName`), behind the subtest.
    var label: String {
        var s = ""
        if let subtest { s = subtest + " / " }
        if let name { return s + name }
        let headers = request.headers.isEmpty ? "" : " with headers"
        s += "\(index) request to '\(request.host ?? "")\(request.path)'\(headers)"
        if let backend = expect.backend, !backend.isEmpty { return s + " should go to \(backend)" }
        return s + " should receive a \(expect.statuses.map(String.init).joined(separator: "|"))"
    }
}

struct CaseRequest {
    var method: String
    var host: String?
    var path: String
    var headers: [(name: String, value: String)]
    var backendSetResponseHeaders: [(name: String, value: String)]
    var `protocol`: String?
    var queryParams: [(name: String, value: String)]

    init(_ node: Yams.Node?) {
        method = node?[key: "method"]?.text ?? "GET"
        host = node?[key: "host"]?.text
        path = node?[key: "path"]?.text ?? "/"
        headers = node?[key: "headers"]?.stringPairs ?? []
        backendSetResponseHeaders = node?[key: "backend_set_response_headers"]?.stringPairs ?? []
        `protocol` = node?[key: "protocol"]?.text
        queryParams = node?[key: "query_params"]?.stringPairs ?? []
    }

    /// The path without its query.
    var pathOnly: String { String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }

    /// The raw query, if any.
    var query: String? {
        guard let q = path.firstIndex(of: "?") else { return nil }
        return String(path[path.index(after: q)...])
    }
}

struct CaseExpectation {
    /// Acceptable status codes (upstream: one code, or a list); 200 when absent.
    var statuses: [Int]
    /// Pod-name prefix of the backend that must answer.
    var backend: String?
    var backendNamespace: String?
    var requestSeen: SeenRequest?
    var response: ExpectedResponseHeaders?
    var redirect: ExpectedRedirect?
    var mirroredTo: [ExpectedMirror]

    init(_ node: Yams.Node?) {
        let status = node?[key: "status"]
        let codes = (status?.items.isEmpty == false ? status!.items : status.map { [$0] } ?? []).compactMap(\.integer)
        statuses = codes.isEmpty ? [200] : codes
        backend = node?[key: "backend"]?.text
        backendNamespace = node?[key: "backend_namespace"]?.text
        requestSeen = node?[key: "request_seen_by_backend"].map(SeenRequest.init)
        response = node?[key: "response"].map(ExpectedResponseHeaders.init)
        redirect = node?[key: "redirect"].map(ExpectedRedirect.init)
        mirroredTo = node?[key: "mirrored_to"]?.items.map(ExpectedMirror.init) ?? []
    }
}

/// `ExpectedRequest`: what the backend must observe.
struct SeenRequest {
    /// Nil when the key is absent (not the same as an empty value).
    var path: String?
    var host: String?
    var method: String?
    var headers: [(name: String, value: String)]
    var absentHeaders: [String]

    init(_ node: Yams.Node) {
        path = node[key: "path"]?.scalar?.string
        host = node[key: "host"]?.scalar?.string
        method = node[key: "method"]?.text
        headers = node[key: "headers"]?.stringPairs ?? []
        absentHeaders = node[key: "absent_headers"]?.stringList ?? []
    }
}

/// `Response`: headers on the answer to the client.
struct ExpectedResponseHeaders {
    var headers: [(name: String, value: String)]
    var oneOfValues: [(name: String, values: [String])]
    var absentHeaders: [String]
    var ignoreWhitespace: Bool

    init(_ node: Yams.Node) {
        headers = node[key: "headers"]?.stringPairs ?? []
        oneOfValues = node[key: "one_of_values"]?.pairs.map { ($0.key, $0.value.stringList) } ?? []
        absentHeaders = node[key: "absent_headers"]?.stringList ?? []
        ignoreWhitespace = node[key: "ignore_whitespace"]?.text == "true"
    }
}

/// `RedirectRequest`: components of the expected Location.
struct ExpectedRedirect {
    var scheme: String?
    var host: String?
    var port: String?
    var path: String?

    init(_ node: Yams.Node) {
        scheme = node[key: "scheme"]?.text
        host = node[key: "host"]?.text
        port = node[key: "port"]?.text
        path = node[key: "path"]?.text
    }
}

/// `MirroredTo[]`: a backend that must also receive the request (a share of it with `Percent`).
struct ExpectedMirror {
    var name: String
    var namespace: String?
    var percent: Double?

    init(_ node: Yams.Node) {
        let ref = node[key: "BackendRef"] ?? node
        name = ref[key: "Name"]?.text ?? ""
        namespace = ref[key: "Namespace"]?.text
        percent = node[key: "Percent"]?.text.flatMap(Double.init)
    }
}
