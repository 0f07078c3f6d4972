import Testing

/// A manifest that must be refused, the field the error names and part of its message.
struct BadManifest: Sendable, CustomTestStringConvertible {
    var label: String
    var yaml: String
    /// Field path of the (first) error; nil for errors about the whole file or document.
    var field: String?
    var message: String

    var testDescription: String { label }

    /// An HTTPRoute in `version` (default gateway v1) whose `spec.rules` is `rules`.
    static func route(_ label: String, version: String = "gateway.networking.k8s.io/v1", rules: String,
                      field: String?, message: String) -> BadManifest {
        BadManifest(label: label, yaml: """
            apiVersion: \(version)
            kind: HTTPRoute
            metadata: {name: backend-router, namespace: test}
            spec:
              parentRefs: [{name: backend-a-podinfo, kind: Service, group: core, port: 9898}]
              rules:
            \(rules.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            """, field: field, message: message)
    }

    /// An HTTPRoute whose `spec` is `spec`.
    static func routeSpec(_ label: String, spec: String, field: String?, message: String) -> BadManifest {
        BadManifest(label: label, yaml: """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: backend-router, namespace: test}
            spec:
            \(spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
            """, field: field, message: message)
    }
}
