import Foundation
import Testing
@testable import SwitchyardModel

extension BadManifest {
    /// A GRPCRoute (gateway v1) whose `spec.rules` is `rules`.
    static func grpc(_ label: String, rules: String, field: String?, message: String) -> BadManifest {
        BadManifest(label: label, yaml: """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: greeter, namespace: test}
            spec:
              parentRefs: [{name: greeter, kind: Service, group: core, port: 50051}]
              rules:
            \(rules.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            """, field: field, message: message)
    }

    /// A GRPCRoute whose `spec` is `spec`.
    static func grpcSpec(_ label: String, spec: String, field: String?, message: String) -> BadManifest {
        BadManifest(label: label, yaml: """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: greeter, namespace: test}
            spec:
            \(spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
            """, field: field, message: message)
    }
}

/// GRPCRoute validation: the Gateway API v1 CRD schema and its CEL rules. Each case names the
/// field of the first error and part of its message.
@Suite struct GRPCRouteValidationTests {
    static let cases: [BadManifest] = [
        // method: the CEL rules
        .grpc("method match without service or method", rules: "- matches: [{method: {type: Exact}}]",
              field: "spec.rules[0].matches[0].method", message: "one or both of 'service' or 'method' must be specified"),
        .grpc("empty method match (type defaults to Exact)", rules: "- matches: [{method: {}}]",
              field: "spec.rules[0].matches[0].method", message: "one or both of 'service' or 'method' must be specified"),
        .grpc("regex method match without service or method", rules: "- matches: [{method: {type: RegularExpression}}]",
              field: "spec.rules[0].matches[0].method", message: "one or both of 'service' or 'method' must be specified"),
        .grpc("Exact service with a slash", rules: "- matches: [{method: {service: helloworld/Greeter}}]",
              field: "spec.rules[0].matches[0].method.service",
              message: "\"helloworld/Greeter\" is not a valid gRPC service name for an Exact match (must match ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)"),
        .grpc("Exact service with a dash", rules: "- matches: [{method: {service: my-svc.Greeter, method: Get}}]",
              field: "spec.rules[0].matches[0].method.service", message: "is not a valid gRPC service name"),
        .grpc("Exact service with an empty label", rules: "- matches: [{method: {service: a..B}}]",
              field: "spec.rules[0].matches[0].method.service", message: "is not a valid gRPC service name"),
        .grpc("Exact service that is empty", rules: "- matches: [{method: {service: \"\", method: Get}}]",
              field: "spec.rules[0].matches[0].method.service", message: "is not a valid gRPC service name"),
        .grpc("Exact method starting with a digit", rules: "- matches: [{method: {service: a.B, method: 2Get}}]",
              field: "spec.rules[0].matches[0].method.method",
              message: "\"2Get\" is not a valid gRPC method name for an Exact match (must match ^[A-Za-z_][A-Za-z_0-9]*$)"),
        .grpc("Exact method with a dot", rules: "- matches: [{method: {method: Say.Hello}}]",
              field: "spec.rules[0].matches[0].method.method", message: "is not a valid gRPC method name"),
        .grpc("Exact method given as a path", rules: "- matches: [{method: {method: /a.B/Get}}]",
              field: "spec.rules[0].matches[0].method.method", message: "use type RegularExpression for a pattern"),
        .grpc("invalid service regex", rules: "- matches: [{method: {type: RegularExpression, service: \"a(\"}}]",
              field: "spec.rules[0].matches[0].method.service", message: "invalid regular expression \"a(\""),
        .grpc("invalid method regex", rules: "- matches: [{method: {type: RegularExpression, service: a, method: \"[x\"}}]",
              field: "spec.rules[0].matches[0].method.method", message: "invalid regular expression \"[x\""),
        .grpc("unknown method match type", rules: "- matches: [{method: {type: Prefix, service: a.B}}]",
              field: "spec.rules[0].matches[0].method.type",
              message: "unknown method match type \"Prefix\"; allowed: Exact, RegularExpression"),
        .grpc("service too long", rules: "- matches: [{method: {service: a\(String(repeating: "b", count: 1024))}}]",
              field: "spec.rules[0].matches[0].method.service", message: "must be at most 1024 characters"),
        .grpc("method too long (regex)", rules: "- matches: [{method: {type: RegularExpression, method: a\(String(repeating: "b", count: 1024))}}]",
              field: "spec.rules[0].matches[0].method.method", message: "must be at most 1024 characters"),
        .grpc("method match as a string", rules: "- matches: [{method: helloworld.Greeter/SayHello}]",
              field: "spec.rules[0].matches[0].method", message: "expected a mapping"),
        .grpc("service as a number", rules: "- matches: [{method: {service: 42}}]",
              field: "spec.rules[0].matches[0].method.service", message: "expected a string"),
        .grpc("more than 8 matches in a rule", rules: "- matches: [\((0..<9).map { "{method: {method: M\($0)}}" }.joined(separator: ", "))]",
              field: "spec.rules[0].matches", message: "must have at most 8 items (has 9)"),
        // headers
        .grpc("bad header name", rules: "- matches: [{headers: [{name: \"x request\", value: v}]}]",
              field: "spec.rules[0].matches[0].headers[0].name", message: "HTTP header name"),
        .grpc("duplicate header name", rules: "- matches: [{headers: [{name: X-A, value: v}, {name: x-a, value: w}]}]",
              field: "spec.rules[0].matches[0].headers[1].name", message: "duplicate header name \"x-a\" (also headers[0]"),
        .grpc("empty header value", rules: "- matches: [{headers: [{name: x, value: \"\"}]}]",
              field: "spec.rules[0].matches[0].headers[0].value", message: "must not be empty"),
        .grpc("header without value", rules: "- matches: [{headers: [{name: x}]}]",
              field: "spec.rules[0].matches[0].headers[0].value", message: "required field is missing"),
        .grpc("invalid header regex", rules: "- matches: [{headers: [{type: RegularExpression, name: x, value: \"(a\"}]}]",
              field: "spec.rules[0].matches[0].headers[0].value", message: "invalid regular expression"),
        .grpc("unknown header match type", rules: "- matches: [{headers: [{type: Prefix, name: x, value: v}]}]",
              field: "spec.rules[0].matches[0].headers[0].type", message: "unknown match type \"Prefix\"; allowed: Exact, RegularExpression"),
        .grpc("too many headers", rules: "- matches: [{headers: [\((0..<17).map { "{name: h\($0), value: v}" }.joined(separator: ", "))]}]",
              field: "spec.rules[0].matches[0].headers", message: "must have at most 16 items (has 17)"),
        .grpc("header value too long", rules: "- matches: [{headers: [{name: x, value: \(String(repeating: "v", count: 4097))}]}]",
              field: "spec.rules[0].matches[0].headers[0].value", message: "must be at most 4096 characters"),
        // filters
        .grpc("URLRewrite is not a GRPCRoute filter", rules: "- filters: [{type: URLRewrite, urlRewrite: {hostname: a.example.com}}]",
              field: "spec.rules[0].filters[0].type",
              message: "unsupported filter type \"URLRewrite\" in a GRPCRoute; supported: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror"),
        .grpc("RequestRedirect is not a GRPCRoute filter", rules: "- filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301}}]",
              field: "spec.rules[0].filters[0].type", message: "unsupported filter type \"RequestRedirect\" in a GRPCRoute"),
        .grpc("ExtensionRef is refused", rules: "- filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: F, name: f}}]",
              field: "spec.rules[0].filters[0].type", message: "unsupported filter type \"ExtensionRef\" in a GRPCRoute"),
        .grpc("RequestHeaderModifier repeated", rules: """
            - filters:
              - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: "1"}]}}
              - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: b, value: "2"}]}}
            """, field: "spec.rules[0].filters[1]", message: "RequestHeaderModifier filter cannot be repeated (also filters[0])"),
        .grpc("ResponseHeaderModifier repeated on a backend", rules: """
            - backendRefs:
              - name: b
                port: 50051
                filters:
                - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [a]}}
                - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [b]}}
            """, field: "spec.rules[0].backendRefs[0].filters[1]", message: "ResponseHeaderModifier filter cannot be repeated"),
        .grpc("filter without its configuration", rules: "- filters: [{type: RequestHeaderModifier}]",
              field: "spec.rules[0].filters[0].requestHeaderModifier", message: "required when the filter type is \"RequestHeaderModifier\""),
        .grpc("configuration of another filter type", rules: """
            - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {remove: [a]}, requestMirror: {backendRef: {name: m, port: 1}}}]
            """, field: "spec.rules[0].filters[0].requestMirror", message: "must not be set when the filter type is \"RequestHeaderModifier\""),
        .grpc("header modifier value with a newline", rules: "- filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: \"x\\ny\"}]}}]",
              field: "spec.rules[0].filters[0].requestHeaderModifier.set[0].value", message: "must not contain CR, LF or NUL"),
        .grpc("mirror without a backendRef", rules: "- filters: [{type: RequestMirror, requestMirror: {percent: 10}}]",
              field: "spec.rules[0].filters[0].requestMirror.backendRef", message: "required field is missing"),
        .grpc("unsupported filter on a backend", rules: "- backendRefs: [{name: b, port: 50051, filters: [{type: URLRewrite, urlRewrite: {}}]}]",
              field: "spec.rules[0].backendRefs[0].filters[0].type", message: "unsupported filter type \"URLRewrite\" in a GRPCRoute"),
        // backendRefs
        .grpc("backendRef without port", rules: "- backendRefs: [{name: b}]",
              field: "spec.rules[0].backendRefs[0].port", message: "port is required for a Service backendRef"),
        .grpc("backendRef without name", rules: "- backendRefs: [{port: 50051}]",
              field: "spec.rules[0].backendRefs[0].name", message: "required field is missing"),
        .grpc("weight too large", rules: "- backendRefs: [{name: b, port: 50051, weight: 1000001}]",
              field: "spec.rules[0].backendRefs[0].weight", message: "must be between 0 and 1000000, got 1000001"),
        .grpc("too many backendRefs", rules: "- backendRefs: [\((0..<17).map { "{name: b\($0), port: 1}" }.joined(separator: ", "))]",
              field: "spec.rules[0].backendRefs", message: "must have at most 16 items (has 17)"),
        .grpc("too many filters", rules: "- filters: [\((0..<17).map { "{type: RequestMirror, requestMirror: {backendRef: {name: m\($0), port: 1}}}" }.joined(separator: ", "))]",
              field: "spec.rules[0].filters", message: "must have at most 16 items (has 17)"),
        // rules
        .grpc("duplicate rule names", rules: "- {name: a}\n- {name: a}",
              field: "spec.rules[1].name", message: "rule name \"a\" must be unique within the route (also spec.rules[0])"),
        .grpc("rule as a string", rules: "- everything", field: "spec.rules[0]", message: "expected a mapping"),
        .grpcSpec("too many rules", spec: "rules: [\((0..<17).map { _ in "{}" }.joined(separator: ", "))]",
                  field: "spec.rules", message: "must have at most 16 items (has 17)"),
        // spec, parents, hostnames
        .grpcSpec("no spec", spec: "", field: "spec", message: "required field is missing"),
        .grpcSpec("two references to one parent without ports", spec: """
            parentRefs: [{name: svc, kind: Service, group: ""}, {name: svc, kind: Service, group: ""}]
            """, field: "spec.parentRefs[1]", message: "sectionName or port must be unique"),
        .grpcSpec("parent port out of range", spec: "parentRefs: [{name: svc, kind: Service, group: \"\", port: 70000}]",
                  field: "spec.parentRefs[0].port", message: "must be between 1 and 65535"),
        .grpcSpec("uppercase hostname", spec: "hostnames: [Greeter.example.com]",
                  field: "spec.hostnames[0]", message: "lowercase RFC 1123 hostname"),
        .grpcSpec("too many parentRefs", spec: "parentRefs: [\((0..<33).map { "{name: s\($0), kind: Service, group: \"\"}" }.joined(separator: ", "))]",
                  field: "spec.parentRefs", message: "must have at most 32 items (has 33)"),
    ]

    @Test(arguments: cases)
    func grpcRouteIsRefused(_ bad: BadManifest) throws {
        let errors = manifestErrors(bad.yaml, file: "dir/bad.yaml")
        let error = try #require(errors.first)
        #expect(error.file == "dir/bad.yaml")
        #expect(error.document == 0)
        #expect(error.object == "GRPCRoute test/greeter")
        #expect(error.field == bad.field, "\(errors)")
        #expect(error.message.contains(bad.message), "\(error.message)")
    }

    @Test func errorDescriptionNamesFileDocumentObjectAndField() throws {
        let errors = manifestErrors("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: test}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: greeter, namespace: test}
            spec:
              rules:
              - matches: [{method: {service: helloworld.Greeter, method: Say-Hello}}]
                backendRefs: [{name: greeter, port: 50051}]
            """, file: "routes/greeter.yaml")
        #expect(errors.map(\.description) == [
            "routes/greeter.yaml: document 1 (GRPCRoute test/greeter): spec.rules[0].matches[0].method.method: "
                + "\"Say-Hello\" is not a valid gRPC method name for an Exact match (must match ^[A-Za-z_][A-Za-z_0-9]*$); "
                + "use type RegularExpression for a pattern",
        ])
    }

    @Test func everyErrorInAGRPCRouteIsReported() throws {
        let errors = manifestErrors("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: r}
            spec:
              hostnames: ["10.0.0.1"]
              rules:
              - matches: [{method: {}}, {method: {service: "a b"}, headers: [{name: "", value: v}]}]
                filters: [{type: URLRewrite}]
                backendRefs: [{name: b}, {name: c, port: 1, weight: -1}]
              - backendRefs: [{name: d, port: 1, filters: [{type: RequestHeaderModifier}]}]
            """)
        #expect(errors.map { $0.field ?? "-" } == [
            "spec.hostnames[0]",
            "spec.rules[0].matches[0].method",
            "spec.rules[0].matches[1].method.service",
            "spec.rules[0].matches[1].headers[0].name",
            "spec.rules[0].filters[0].type",
            "spec.rules[0].backendRefs[0].port",
            "spec.rules[0].backendRefs[1].weight",
            "spec.rules[1].backendRefs[0].filters[0].requestHeaderModifier",
        ])
        #expect(errors.allSatisfy { $0.object == "GRPCRoute default/r" })
    }

    @Test func grpcServiceAndMethodNameRules() {
        for valid in ["a", "_", "a.b", ".a.b", "A_1.b_2", "grpc.health.v1.Health"] {
            #expect(ManifestObjectDecoder.isGRPCServiceName(valid), "\(valid)")
        }
        for invalid in ["", ".", "a.", "a..b", "1a", "a-b", "a/b", "a b", "..a", "é"] {
            #expect(!ManifestObjectDecoder.isGRPCServiceName(invalid), "\(invalid)")
        }
        for valid in ["a", "_", "Get", "get_2", "X9"] {
            #expect(ManifestObjectDecoder.isGRPCIdentifier(valid), "\(valid)")
        }
        for invalid in ["", "9a", "a.b", "a-b", "a/b", "a b"] {
            #expect(!ManifestObjectDecoder.isGRPCIdentifier(invalid), "\(invalid)")
        }
    }
}
