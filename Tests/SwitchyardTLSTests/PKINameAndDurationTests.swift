import Foundation
import Testing
import SwitchyardTLS

@Suite("PKI identity names")
struct PKIIdentityNameTests {
    @Test("well-formed DNS names are accepted", arguments: [
        "default.test.serviceaccount.identity.linkerd.cluster.local",
        "backend-a.test-1.serviceaccount.identity.linkerd.example.org",
        "web.prod.serviceaccount.identity.linkerd.cluster.local",
        "localhost",
        "nginx.test.svc.cluster.local",
        "0a.b",
        String(repeating: "a", count: 63) + ".b",
    ])
    func accepted(name: String) throws {
        try PKIIdentityName.validate(name)
    }

    @Test("malformed names are refused, saying why", arguments: [
        ("", "empty"),
        ("*.test.serviceaccount.identity.linkerd.cluster.local", "wildcards are not allowed"),
        ("default.*.serviceaccount.identity.linkerd.cluster.local", "wildcards are not allowed"),
        ("default..serviceaccount.identity.linkerd.cluster.local", "empty label"),
        (".default.test", "empty label"),
        ("default.test.", "trailing dot"),
        ("Default.test.serviceaccount.identity.linkerd.cluster.local", "upper case"),
        ("my_sa.test.serviceaccount.identity.linkerd.cluster.local", "other than a-z, 0-9 and '-'"),
        ("default test.x", "other than a-z, 0-9 and '-'"),
        ("-sa.test.x", "starts or ends with '-'"),
        ("sa-.test.x", "starts or ends with '-'"),
        (String(repeating: "a", count: 64) + ".b", "at most 63"),
        (Array(repeating: String(repeating: "a", count: 50), count: 5).joined(separator: ".") + ".abcd", "at most 253"),
        ("10.0.0.1", "IP address"),
        ("dns:default.test", "other than a-z"),
        ("default.test/x", "other than a-z"),
    ])
    func refused(name: String, reason: String) {
        do {
            try PKIIdentityName.validate(name)
            Issue.record("\"\(name)\" was accepted")
        } catch let error as PKIError {
            guard case let .invalidIdentity(refusedName, why) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(refusedName == name)
            #expect(why.contains(reason), "\(why)")
            #expect("\(error)".contains("<serviceaccount>.<namespace>.serviceaccount.identity.linkerd.<trust domain>"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a mesh identity's parts")
    func meshIdentity() {
        let parts = PKIIdentityName.meshIdentity("default.test.serviceaccount.identity.linkerd.cluster.local")
        #expect(parts == PKIIdentityName.MeshIdentity(serviceAccount: "default", namespace: "test", trustDomain: "cluster.local"))
        #expect(PKIIdentityName.meshIdentity("web.prod.serviceaccount.identity.linkerd.example.org")?.trustDomain == "example.org")
        #expect(PKIIdentityName.meshIdentity("nginx.test.svc.cluster.local") == nil)
        #expect(PKIIdentityName.meshIdentity("default.test.serviceaccount.identity.linkerd") == nil)
        #expect(PKIIdentityName.meshIdentity("localhost") == nil)
    }
}

@Suite("PKI durations")
struct PKIDurationTests {
    @Test("Go-style durations", arguments: [
        ("24h", 86_400.0), ("90m", 5400), ("1h30m", 5400), ("3600s", 3600), ("1.5h", 5400),
        ("1h0m10s", 3610), ("87600h", 315_360_000), ("500ms", 0.5), ("2m30.5s", 150.5), ("1500us", 0.0015),
        ("1500µs", 0.0015), ("10ns", 0.00000001), (".5h", 1800),
    ])
    func parses(text: String, seconds: Double) throws {
        let duration = try PKIDuration.parse(text)
        let (whole, atto) = duration.components
        #expect(abs(Double(whole) + Double(atto) / 1e18 - seconds) < 1e-9, "\(text) -> \(duration)")
    }

    @Test("anything else is refused, saying why", arguments: [
        ("", "empty"), ("1d", "no unit d"), ("24", "no unit"), ("h", "expected a number"), ("-1h", "negative"),
        ("1x", "unknown unit \"x\""), ("1..5h", "expected a number"), ("1 h", "unknown unit"), ("99999999999h", "too long"),
        ("24H", "unknown unit \"H\""),
    ])
    func refused(text: String, reason: String) {
        do {
            let duration = try PKIDuration.parse(text)
            Issue.record("\"\(text)\" parsed as \(duration)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect("\(error)".contains("24h, 90m, 1h30m or 3600s"))
        }
    }

    @Test("formatting, the way Go prints whole seconds")
    func format() {
        #expect(PKIDuration.format(.seconds(86_400)) == "24h")
        #expect(PKIDuration.format(.seconds(5400)) == "1h30m")
        #expect(PKIDuration.format(.seconds(3610)) == "1h10s")
        #expect(PKIDuration.format(.seconds(59)) == "59s")
        #expect(PKIDuration.format(.zero) == "0s")
    }
}
