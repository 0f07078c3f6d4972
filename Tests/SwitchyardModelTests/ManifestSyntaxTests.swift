import Testing
@testable import SwitchyardModel

/// The small parsers and checks the loader is built from.
@Suite struct ManifestSyntaxTests {
    @Test(arguments: [
        ("10s", Duration.seconds(10)), ("0s", .zero), ("500ms", .milliseconds(500)), ("1h", .seconds(3600)),
        ("1h30m", .seconds(5400)), ("2s500ms", .milliseconds(2500)), ("1m1s1ms1h", .milliseconds(3_661_001)),
        ("99999s", .seconds(99999)), ("0h0m0s0ms", .zero),
    ] as [(String, Duration)])
    func validDurations(_ text: String, _ expected: Duration) {
        #expect(GatewayDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "s", "10", "1.5s", "-1s", "100000s", "1h1h1h1h1h", "10 s", "1d", "1us", "10S", "1m s", "ms"])
    func invalidDurations(_ text: String) {
        #expect(GatewayDuration.parse(text) == nil)
    }

    @Test(arguments: [
        ("", YAMLScalarValue.null), ("~", .null), ("null", .null), ("NULL", .null),
        ("true", .bool(true)), ("False", .bool(false)), ("yes", .string("yes")), ("on", .string("on")),
        ("80", .int(80)), ("-3", .int(-3)), ("+7", .int(7)), ("0x1F", .int(31)), ("0o17", .int(15)), ("0755", .int(755)),
        ("1_000", .string("1_000")), ("1:20", .string("1:20")), ("1.5", .float("1.5")), ("1e3", .float("1e3")), (".inf", .float(".inf")),
        ("99999999999999999999", .bigInt("99999999999999999999")), ("10.96.0.1", .string("10.96.0.1")), ("0x", .string("0x")),
        ("2024-05-01T12:00:00Z", .string("2024-05-01T12:00:00Z")), ("-", .string("-")), ("+", .string("+")),
    ] as [(String, YAMLScalarValue)])
    func plainScalars(_ text: String, _ expected: YAMLScalarValue) {
        #expect(YAMLScalarValue.classifyPlain(text) == expected)
    }

    @Test(arguments: ["10.0.0.1", "0.0.0.0", "::1", "fd00::7", "2001:db8::ff00:42:8329", "::ffff:10.0.0.1"])
    func ipAddresses(_ text: String) {
        #expect(IPLiteral.isIPAddress(text))
    }

    @Test(arguments: ["", "10.0.0", "10.0.0.256", "010.0.0.1x", "fd00::1::2", "node-1", "10.0.0.1/24", " 10.0.0.1", "[::1]"])
    func notIPAddresses(_ text: String) {
        #expect(!IPLiteral.isIPAddress(text))
    }

    @Test(arguments: ["example.com", "*.example.com", "a", "a-b.c-d", "1.example.com"])
    func hostnames(_ text: String) {
        #expect(ManifestSyntax.hostname(text) == nil)
    }

    @Test(arguments: ["", "Example.com", "*", "*.", "a..b", "-a.com", "a-.com", "foo.*.com", "a_b.com", "10.1.2.3", String(repeating: "a", count: 254)])
    func notHostnames(_ text: String) {
        #expect(ManifestSyntax.hostname(text) != nil)
    }

    @Test(arguments: ["x-request-id", "X-Request-Id", "a!#$%&'*+-.^_`|~z", "0"])
    func headerNames(_ text: String) {
        #expect(ManifestSyntax.headerName(text) == nil)
    }

    @Test(arguments: ["", "a b", "a:b", ":path", "é", "a\tb", "(x)", String(repeating: "a", count: 257)])
    func notHeaderNames(_ text: String) {
        #expect(ManifestSyntax.headerName(text) != nil)
    }

    @Test(arguments: ["http", "grpc", "http-metrics", "h2c", "a1"])
    func ianaServiceNames(_ text: String) {
        #expect(ManifestSyntax.ianaServiceName(text) == nil)
    }

    @Test(arguments: ["", "80", "-http", "http-", "ht--tp", "HTTP", "a-very-long-name-x", "http_alt"])
    func notIANAServiceNames(_ text: String) {
        #expect(ManifestSyntax.ianaServiceName(text) != nil)
    }

    @Test(arguments: [("/", 0), ("/api/v1", 0), ("/a%20b", 0), ("/~user/it's(1)", 0), ("a", 1), ("/a//b", 1), ("/a/./b", 1),
                      ("/a/../b", 1), ("/a%2fb", 1), ("/a%2Fb", 1), ("/a#b", 2), ("/a/.", 1), ("/a/..", 1), ("/a%zz", 1),
                      ("/a b", 1), ("/a?b", 1)])
    func pathProblems(_ path: String, _ count: Int) {
        #expect(ManifestSyntax.pathProblems(path).count == count, "\(ManifestSyntax.pathProblems(path))")
    }

    @Test func fieldPathsQuoteKeysThatAreNotIdentifiers() {
        #expect(YAMLCursor.join("", "spec") == "spec")
        #expect(YAMLCursor.join("spec", "rules") == "spec.rules")
        #expect(YAMLCursor.join("metadata.labels", "app.kubernetes.io/name") == "metadata.labels[\"app.kubernetes.io/name\"]")
        #expect(YAMLCursor.join("a", "say \"hi\"") == "a[\"say \\\"hi\\\"\"]")
    }
}
