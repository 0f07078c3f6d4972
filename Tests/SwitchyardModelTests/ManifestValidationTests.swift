import Foundation
import Testing
@testable import SwitchyardModel

@Suite struct ManifestValidationTests {
    static let routeCases: [BadManifest] = [
        .route("path not starting with /", rules: """
            - matches: [{path: {type: PathPrefix, value: /ok}}, {path: {value: api}}]
              backendRefs: [{name: b, port: 80}]
            """, field: "spec.rules[0].matches[1].path.value", message: "must begin with \"/\""),
        .route("path with //", rules: "- matches: [{path: {type: Exact, value: /a//b}}]",
               field: "spec.rules[0].matches[0].path.value", message: "must not contain \"//\""),
        .route("path ending /..", rules: "- matches: [{path: {value: /a/..}}]",
               field: "spec.rules[0].matches[0].path.value", message: "must not end with \"/..\""),
        .route("path with %2F", rules: "- matches: [{path: {value: /a%2Fb}}]",
               field: "spec.rules[0].matches[0].path.value", message: "must not contain \"%2F\""),
        .route("path with #", rules: "- matches: [{path: {value: \"/a#b\"}}]",
               field: "spec.rules[0].matches[0].path.value", message: "must not contain \"#\""),
        .route("path with a space", rules: "- matches: [{path: {value: \"/a b\"}}]",
               field: "spec.rules[0].matches[0].path.value", message: "must only contain the characters"),
        .route("path too long", rules: "- matches: [{path: {value: /\(String(repeating: "a", count: 1024))}}]",
               field: "spec.rules[0].matches[0].path.value", message: "at most 1024 characters"),
        .route("unknown path match type", rules: "- matches: [{path: {type: Prefix, value: /a}}]",
               field: "spec.rules[0].matches[0].path.type",
               message: "unknown path match type \"Prefix\"; allowed: Exact, PathPrefix, RegularExpression"),
        .route("invalid path regex", rules: "- matches: [{path: {type: RegularExpression, value: \"/a(\"}}]",
               field: "spec.rules[0].matches[0].path.value", message: "invalid regular expression \"/a(\""),
        .route("bad header name", rules: "- matches: [{headers: [{name: \"x request\", value: v}]}]",
               field: "spec.rules[0].matches[0].headers[0].name", message: "not a valid HTTP header name"),
        .route("header name with colon", rules: "- matches: [{headers: [{name: \":authority\", value: v}]}]",
               field: "spec.rules[0].matches[0].headers[0].name", message: "not a valid HTTP header name"),
        .route("duplicate header name", rules: "- matches: [{headers: [{name: X-A, value: v}, {name: x-a, value: w}]}]",
               field: "spec.rules[0].matches[0].headers[1].name", message: "duplicate header name \"x-a\""),
        .route("unknown header match type", rules: "- matches: [{headers: [{type: Prefix, name: x, value: v}]}]",
               field: "spec.rules[0].matches[0].headers[0].type",
               message: "unknown match type \"Prefix\"; allowed: Exact, RegularExpression"),
        .route("invalid header regex", rules: "- matches: [{headers: [{type: RegularExpression, name: x, value: \"[a-\"}]}]",
               field: "spec.rules[0].matches[0].headers[0].value", message: "invalid regular expression"),
        .route("empty header value", rules: "- matches: [{headers: [{name: x, value: \"\"}]}]",
               field: "spec.rules[0].matches[0].headers[0].value", message: "must not be empty"),
        .route("header without value", rules: "- matches: [{headers: [{name: x}]}]",
               field: "spec.rules[0].matches[0].headers[0].value", message: "required field is missing"),
        .route("too many headers", rules: "- matches: [{headers: [\((0..<17).map { "{name: h\($0), value: v}" }.joined(separator: ", "))]}]",
               field: "spec.rules[0].matches[0].headers", message: "at most 16 items (has 17)"),
        .route("bad query param name", rules: "- matches: [{queryParams: [{name: \"a=b\", value: v}]}]",
               field: "spec.rules[0].matches[0].queryParams[0].name", message: "not a valid HTTP header name"),
        .route("invalid query regex", rules: "- matches: [{queryParams: [{type: RegularExpression, name: q, value: \"(?<\"}]}]",
               field: "spec.rules[0].matches[0].queryParams[0].value", message: "invalid regular expression"),
        .route("unknown method", rules: "- matches: [{method: get}]",
               field: "spec.rules[0].matches[0].method", message: "unknown method \"get\"; allowed: GET, HEAD, POST"),
        .route("missing backendRef port", rules: "- backendRefs: [{name: a, port: 80}, {name: b}]",
               field: "spec.rules[0].backendRefs[1].port", message: "port is required for a Service backendRef"),
        .route("missing backendRef port, core group", rules: "- backendRefs: [{group: core, kind: Service, name: b}]",
               field: "spec.rules[0].backendRefs[0].port", message: "port is required for a Service backendRef"),
        .route("missing backendRef name", rules: "- backendRefs: [{port: 80}]",
               field: "spec.rules[0].backendRefs[0].name", message: "required field is missing"),
        .route("backendRef port out of range", rules: "- backendRefs: [{name: b, port: 0}]",
               field: "spec.rules[0].backendRefs[0].port", message: "must be between 1 and 65535, got 0"),
        .route("weight too large", rules: "- backendRefs: [{name: b, port: 80, weight: 1000001}]",
               field: "spec.rules[0].backendRefs[0].weight", message: "must be between 0 and 1000000, got 1000001"),
        .route("negative weight", rules: "- backendRefs: [{name: b, port: 80, weight: -1}]",
               field: "spec.rules[0].backendRefs[0].weight", message: "must be between 0 and 1000000, got -1"),
        .route("weight as a string", rules: "- backendRefs: [{name: b, port: 80, weight: \"50\"}]",
               field: "spec.rules[0].backendRefs[0].weight", message: "expected an integer, got a string \"50\""),
        .route("port as a word", rules: "- backendRefs: [{name: b, port: http}]",
               field: "spec.rules[0].backendRefs[0].port", message: "expected an integer, got a string \"http\""),
        .route("name as a number", rules: "- backendRefs: [{name: 42, port: 80}]",
               field: "spec.rules[0].backendRefs[0].name", message: "expected a string, got an integer 42"),
        .route("backendRefs as a mapping", rules: "- backendRefs: {name: b, port: 80}",
               field: "spec.rules[0].backendRefs", message: "expected a sequence, got a mapping"),
        .route("bad duration", rules: "- timeouts: {request: 1.5s}",
               field: "spec.rules[0].timeouts.request", message: "invalid duration \"1.5s\""),
        .route("duration with too many digits", rules: "- timeouts: {backendRequest: 100000ms}",
               field: "spec.rules[0].timeouts.backendRequest", message: "invalid duration"),
        .route("backendRequest longer than request", rules: "- timeouts: {request: 1s, backendRequest: 2s}",
               field: "spec.rules[0].timeouts.backendRequest", message: "cannot be longer than request timeout"),
        .route("timeouts in v1beta2", version: "policy.linkerd.io/v1beta2", rules: "- timeouts: {request: 10s}",
               field: "spec.rules[0].timeouts", message: "timeouts is not part of policy.linkerd.io/v1beta2; use v1beta3"),
        .route("unsupported filter type", rules: "- filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Filter, name: f}}]",
               field: "spec.rules[0].filters[0].type", message: "unsupported filter type \"ExtensionRef\""),
        .route("unknown filter type", rules: "- filters: [{type: Rewrite}]",
               field: "spec.rules[0].filters[0].type", message: "unsupported filter type \"Rewrite\"; supported: RequestHeaderModifier"),
        .route("filter config missing", rules: "- filters: [{type: RequestHeaderModifier}]",
               field: "spec.rules[0].filters[0].requestHeaderModifier", message: "required when the filter type is \"RequestHeaderModifier\""),
        .route("filter config for another type", rules: "- filters: [{type: RequestHeaderModifier, requestHeaderModifier: {}, urlRewrite: {}}]",
               field: "spec.rules[0].filters[0].urlRewrite", message: "must not be set when the filter type is \"RequestHeaderModifier\""),
        .route("ReplacePrefixMatch with Exact path", rules: """
            - matches: [{path: {type: Exact, value: /old}}]
              filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
            """, field: "spec.rules[0].filters[0].urlRewrite.path", message: "ReplacePrefixMatch requires the rule to have exactly one match, with a PathPrefix path"),
        .route("ReplacePrefixMatch with two matches", rules: """
            - matches: [{path: {value: /a}}, {path: {value: /b}}]
              filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
            """, field: "spec.rules[0].filters[0].requestRedirect.path", message: "exactly one match"),
        .route("ReplacePrefixMatch in a backend filter", rules: """
            - matches: [{path: {type: RegularExpression, value: /a.*}}]
              backendRefs:
              - name: b
                port: 80
                filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
            """, field: "spec.rules[0].backendRefs[0].filters[0].urlRewrite.path", message: "exactly one match"),
        .route("path modifier value for the other type", rules: """
            - filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replacePrefixMatch: /x}}}]
            """, field: "spec.rules[0].filters[0].urlRewrite.path.replaceFullPath", message: "required when type is \"ReplaceFullPath\""),
        .route("unknown path modifier type", rules: """
            - filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceSuffix}}}]
            """, field: "spec.rules[0].filters[0].urlRewrite.path.type",
            message: "unknown path modifier type \"ReplaceSuffix\"; allowed: ReplaceFullPath, ReplacePrefixMatch"),
        .route("redirect and rewrite together", rules: """
            - filters:
              - {type: URLRewrite, urlRewrite: {hostname: a.example.com}}
              - {type: RequestRedirect, requestRedirect: {hostname: b.example.com}}
            """, field: "spec.rules[0].filters[1]", message: "RequestRedirect and URLRewrite filters cannot be used together"),
        .route("repeated header modifier", rules: """
            - filters:
              - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: "1"}]}}
              - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: b, value: "2"}]}}
            """, field: "spec.rules[0].filters[1]", message: "RequestHeaderModifier filter cannot be repeated"),
        .route("redirect with backendRefs", rules: """
            - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
              backendRefs: [{name: b, port: 80}]
            """, field: "spec.rules[0].filters[0]", message: "RequestRedirect filter must not be used together with backendRefs"),
        .route("bad redirect status", rules: "- filters: [{type: RequestRedirect, requestRedirect: {statusCode: 304}}]",
               field: "spec.rules[0].filters[0].requestRedirect.statusCode",
               message: "unsupported statusCode 304; allowed: 301, 302, 303, 307, 308"),
        .route("bad redirect scheme", rules: "- filters: [{type: RequestRedirect, requestRedirect: {scheme: ftp}}]",
               field: "spec.rules[0].filters[0].requestRedirect.scheme", message: "unknown scheme \"ftp\"; allowed: http, https"),
        .route("redirect hostname with wildcard", rules: "- filters: [{type: RequestRedirect, requestRedirect: {hostname: \"*.example.com\"}}]",
               field: "spec.rules[0].filters[0].requestRedirect.hostname", message: "hostname (no wildcard)"),
        .route("duplicate header modifier name", rules: """
            - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-A, value: "1"}], add: [{name: x-a, value: "2"}]}}]
            """, field: "spec.rules[0].filters[0].requestHeaderModifier.add[0].name", message: "already has an action in this filter (set[0])"),
        .route("bad header modifier name", rules: """
            - filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: "a b", value: "1"}]}}]
            """, field: "spec.rules[0].filters[0].responseHeaderModifier.set[0].name", message: "not a valid HTTP header name"),
        .route("too many header modifier entries", rules: """
            - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {remove: [\((0..<17).map { "h\($0)" }.joined(separator: ", "))]}}]
            """, field: "spec.rules[0].filters[0].requestHeaderModifier.remove", message: "at most 16 items"),
        .route("mirror percent and fraction", rules: """
            - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}}]
            """, field: "spec.rules[0].filters[0].requestMirror.fraction", message: "only one of percent or fraction"),
        .route("mirror fraction over one", rules: """
            - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, fraction: {numerator: 5, denominator: 4}}}]
            """, field: "spec.rules[0].filters[0].requestMirror.fraction.numerator", message: "less than or equal to denominator"),
        .route("mirror without port", rules: "- filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m}}}]",
               field: "spec.rules[0].filters[0].requestMirror.backendRef.port", message: "port is required for a Service backendRef"),
        .route("duplicate rule names", rules: "- name: a\n- name: a",
               field: "spec.rules[1].name", message: "must be unique within the route"),
        .route("rules empty", rules: "[]", field: "spec.rules", message: "must have at least 1 item"),
        .route("too many rules", rules: (0...16).map { "- backendRefs: [{name: b\($0), port: 80}]" }.joined(separator: "\n"),
               field: "spec.rules", message: "must have at most 16 items (has 17)"),
        .route("too many matches in a rule", rules: "- matches: [\((0...64).map { "{path: {value: /p\($0)}}" }.joined(separator: ", "))]",
               field: "spec.rules[0].matches", message: "must have at most 64 items (has 65)"),
        .route("too many matches in a route", rules: (0..<3).map { rule in
            "- matches: [\((0..<50).map { "{path: {value: /r\(rule)/p\($0)}}" }.joined(separator: ", "))]"
        }.joined(separator: "\n"), field: "spec.rules", message: "at most 128 matches across all rules (has 150)"),
        .routeSpec("too many hostnames", spec: "hostnames: [\((0...16).map { "h\($0).example.com" }.joined(separator: ", "))]",
                   field: "spec.hostnames", message: "at most 16 items (has 17)"),
        .routeSpec("bad hostname", spec: "hostnames: [Example.COM]",
                   field: "spec.hostnames[0]", message: "RFC 1123 hostname"),
        .routeSpec("wildcard not first", spec: "hostnames: [\"foo.*.example.com\"]",
                   field: "spec.hostnames[0]", message: "RFC 1123 hostname"),
        .routeSpec("IP as hostname", spec: "hostnames: [10.0.0.1]",
                   field: "spec.hostnames[0]", message: "not an IP address"),
        .routeSpec("too many parentRefs", spec: "parentRefs: [\((0...32).map { "{name: gw\($0)}" }.joined(separator: ", "))]",
                   field: "spec.parentRefs", message: "at most 32 items (has 33)"),
        .routeSpec("parentRef without name", spec: "parentRefs: [{kind: Service, port: 80}]",
                   field: "spec.parentRefs[0].name", message: "required field is missing"),
        .routeSpec("duplicate parentRef", spec: "parentRefs: [{name: s, kind: Service, port: 80}, {name: s, kind: Service, port: 80}]",
                   field: "spec.parentRefs[1]", message: "sectionName or port must be unique"),
        .routeSpec("same parent with and without port", spec: "parentRefs: [{name: s, kind: Service}, {name: s, kind: Service, port: 80}]",
                   field: "spec.parentRefs[1]", message: "sectionName or port must be specified"),
        .routeSpec("parentRef port out of range", spec: "parentRefs: [{name: s, kind: Service, port: 65536}]",
                   field: "spec.parentRefs[0].port", message: "must be between 1 and 65535, got 65536"),
        .routeSpec("spec as a list", spec: "- a", field: "spec", message: "expected a mapping, got a sequence"),
    ]

    @Test(arguments: routeCases)
    func routeIsRefused(_ bad: BadManifest) throws {
        try expectRefused(bad)
    }

    static let objectCases: [BadManifest] = [
        BadManifest(label: "document without kind", yaml: "apiVersion: v1\nmetadata: {name: x}",
                    field: "kind", message: "required field is missing"),
        BadManifest(label: "document without apiVersion", yaml: "kind: Service\nmetadata: {name: x}",
                    field: "apiVersion", message: "required field is missing"),
        BadManifest(label: "document that is a list", yaml: "- a\n- b",
                    field: nil, message: "must be a mapping (a Kubernetes object), got a sequence"),
        BadManifest(label: "document that is a word", yaml: "hello",
                    field: nil, message: "got a string \"hello\""),
        BadManifest(label: "missing name", yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}",
                    field: "metadata.name", message: "required field is missing"),
        BadManifest(label: "missing metadata", yaml: "apiVersion: v1\nkind: Namespace",
                    field: "metadata", message: "required field is missing"),
        BadManifest(label: "uppercase namespace name", yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {name: Test}",
                    field: "metadata.name", message: "RFC 1123 label"),
        BadManifest(label: "service name starting with a digit", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: 1web}",
                    field: "metadata.name", message: "RFC 1035 label"),
        BadManifest(label: "label value that is a number", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {version: 1.0}}",
                    field: "metadata.labels.version", message: "expected a string, got a number 1.0 (quote it"),
        BadManifest(label: "annotation key with dots", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {linkerd.io/inject: true}}",
                    field: "metadata.annotations[\"linkerd.io/inject\"]", message: "expected a string, got a boolean true"),
        BadManifest(label: "service port out of range", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 65536}]}",
                    field: "spec.ports[0].port", message: "must be between 1 and 65535"),
        BadManifest(label: "service port missing", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{name: http}]}",
                    field: "spec.ports[0].port", message: "required field is missing"),
        BadManifest(label: "duplicate service port", yaml: """
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            spec: {ports: [{name: a, port: 80}, {name: b, port: 80}]}
            """, field: "spec.ports[1].port", message: "duplicate port 80/TCP (also spec.ports[0])"),
        BadManifest(label: "duplicate service port name", yaml: """
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            spec: {ports: [{name: a, port: 80}, {name: a, port: 81}]}
            """, field: "spec.ports[1].name", message: "duplicate port name \"a\""),
        BadManifest(label: "unnamed port of several", yaml: """
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            spec: {ports: [{name: a, port: 80}, {port: 81}]}
            """, field: "spec.ports[1].name", message: "required when a Service has more than one port"),
        BadManifest(label: "targetPort out of range", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: 0}]}",
                    field: "spec.ports[0].targetPort", message: "must be between 1 and 65535, got 0"),
        BadManifest(label: "targetPort name too long", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: a-very-long-port-name}]}",
                    field: "spec.ports[0].targetPort", message: "at most 15 characters"),
        BadManifest(label: "targetPort name with uppercase", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: HTTP}]}",
                    field: "spec.ports[0].targetPort", message: "a-z, 0-9 and '-'"),
        BadManifest(label: "unknown protocol", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, protocol: tcp}]}",
                    field: "spec.ports[0].protocol", message: "unknown protocol \"tcp\"; allowed: TCP, UDP, SCTP"),
        BadManifest(label: "bad clusterIP", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.300}",
                    field: "spec.clusterIP", message: "\"10.96.0.300\" is not an IPv4 or IPv6 address"),
        BadManifest(label: "clusterIPs disagree", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, clusterIPs: [10.96.0.2]}",
                    field: "spec.clusterIPs[0]", message: "must equal spec.clusterIP"),
        BadManifest(label: "bad pod IP", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.0.0}",
                    field: "status.podIP", message: "not an IPv4 or IPv6 address"),
        BadManifest(label: "bad pod IPs entry", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIPs: [{ip: \"fd00::1::2\"}]}",
                    field: "status.podIPs[0].ip", message: "not an IPv4 or IPv6 address"),
        BadManifest(label: "bad container port", yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: 99999}]}]}",
                    field: "spec.containers[0].ports[0].containerPort", message: "must be between 1 and 65535"),
        BadManifest(label: "bad node InternalIP", yaml: "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP, address: node-1}]}",
                    field: "status.addresses[0].address", message: "\"node-1\" is not an IPv4 or IPv6 address"),
        BadManifest(label: "creationTimestamp not RFC 3339", yaml: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, creationTimestamp: yesterday}\nspec: {}",
                    field: "metadata.creationTimestamp", message: "expected an RFC 3339 timestamp"),
        BadManifest(label: "reference grant without to", yaml: """
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: g, namespace: b}
            spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}]}
            """, field: "spec.to", message: "required field is missing"),
        BadManifest(label: "List without items", yaml: "apiVersion: v1\nkind: List",
                    field: "items", message: "required field is missing"),
        BadManifest(label: "List in a List", yaml: "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List, items: []}]",
                    field: "items[0].kind", message: "a List inside a List"),
        BadManifest(label: "malformed YAML", yaml: "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\n  namespace: test\n",
                    field: nil, message: "YAML syntax error at line 5, column 12: did not find expected ',' or ']' (while parsing a flow sequence at line 4, column 9)"),
        BadManifest(label: "tab indentation", yaml: "apiVersion: v1\nkind: Service\nmetadata:\n\tname: web\n",
                    field: nil, message: "YAML syntax error at line 4, column 1: found character that cannot start any token"),
        BadManifest(label: "mapping value in a plain scalar", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: a: b\n",
                    field: nil, message: "YAML syntax error at line 4, column 8: mapping values are not allowed in this context"),
        BadManifest(label: "duplicate YAML key", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nkind: Pod\n",
                    field: nil, message: "duplicate key \"kind\""),
        BadManifest(label: "control character", yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {name: \u{1}}\n",
                    field: nil, message: "at line 3, column 18: control characters are not allowed"),
    ]

    @Test(arguments: objectCases)
    func objectIsRefused(_ bad: BadManifest) throws {
        try expectRefused(bad)
    }

    private func expectRefused(_ bad: BadManifest, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let errors = manifestErrors(bad.yaml, file: "dir/bad.yaml", sourceLocation: sourceLocation)
        let error = try #require(errors.first, sourceLocation: sourceLocation)
        #expect(error.file == "dir/bad.yaml", sourceLocation: sourceLocation)
        #expect(error.field == bad.field, "\(errors)", sourceLocation: sourceLocation)
        #expect(error.message.contains(bad.message), "\(error.message)", sourceLocation: sourceLocation)
    }

    @Test func errorDescriptionNamesFileDocumentObjectAndField() throws {
        let errors = manifestErrors("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: test}
            ---
            apiVersion: policy.linkerd.io/v1beta2
            kind: HTTPRoute
            metadata: {name: backend-router, namespace: test}
            spec:
              rules:
              - matches: [{path: {value: /a}}, {path: {value: b}}]
            """, file: "examples/podinfo/routes.yaml")
        #expect(errors.map(\.description) == [
            "examples/podinfo/routes.yaml: document 1 (HTTPRoute test/backend-router): spec.rules[0].matches[1].path.value: must begin with \"/\"",
        ])
    }

    @Test func everyErrorIsReported() throws {
        let errors = manifestErrors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIP: nonsense
              ports: [{name: a, port: 0}, {name: b, port: 80, targetPort: -5}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              hostnames: ["UPPER"]
              rules:
              - matches: [{path: {value: x}}, {method: FETCH}]
                backendRefs: [{name: b}, {name: c, port: 80, weight: 2000000}]
              - timeouts: {request: soon}
            ---
            kind: Pod
            """)
        #expect(errors.map { "\($0.document ?? -1) \($0.field ?? "-")" } == [
            "0 spec.clusterIP",
            "0 spec.ports[0].port",
            "0 spec.ports[1].targetPort",
            "1 spec.hostnames[0]",
            "1 spec.rules[0].matches[0].path.value",
            "1 spec.rules[0].matches[1].method",
            "1 spec.rules[0].backendRefs[0].port",
            "1 spec.rules[0].backendRefs[1].weight",
            "1 spec.rules[1].timeouts.request",
            "2 apiVersion",
        ])
        #expect(errors[0].object == "Service default/web")
        #expect(errors[3].object == "HTTPRoute default/r")
        #expect(errors.last?.object == nil)
    }

    @Test func errorsAcrossFilesAreAllReported() throws {
        do {
            _ = try ManifestLoader().load(files: [
                ("a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: x}"),
                ("b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n"),
                ("c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}"),
                ("d.yaml", "apiVersion: v1\nkind: Node\nmetadata: {}"),
            ])
            Issue.record("expected errors")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.map(\.file) == ["a.yaml", "b.yaml", "d.yaml"])
            #expect(errors.description.split(separator: "\n").count == 3)
        }
    }

    @Test func duplicatesNameBothPlaces() throws {
        do {
            _ = try ManifestLoader().load(files: [
                ("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}"),
                ("b.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}"),
            ])
            Issue.record("expected errors")
        } catch let errors as ManifestErrors {
            #expect(errors.errors.map(\.description) == [
                "b.yaml: document 1 (Service shop/web): metadata.name: duplicate Service shop/web: also defined in a.yaml: document 0",
            ])
        }
    }

    @Test func aRouteMayNameMissingParentsAndBackends() throws {
        let snapshot = try loadManifest("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r, namespace: nowhere}
            spec:
              parentRefs: [{name: no-such-service, kind: Service, group: "", port: 80}]
              rules: [{backendRefs: [{name: no-such-backend, namespace: elsewhere, port: 80}]}]
            """)
        #expect(snapshot.httpRoutes.count == 1)
    }
}
