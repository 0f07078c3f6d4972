import Foundation
import Yams

/// Decodes one Kubernetes object (a mapping with `apiVersion` and `kind`) into a model type,
/// validating it on the way. Problems go to `diagnostics`; the object is returned only when
/// there were none. The kind-specific parts live in extensions in the files named
/// `ManifestObjectDecoder+<Kind>.swift`.
struct ManifestObjectDecoder {
    /// What became of one object.
    enum Outcome {
        /// Decoded and valid; `identity` is unique per API group, kind, namespace and name.
        case object(DecodedObject, identity: String)
        /// A kind Switchyard does not read, with the reason.
        case skipped(name: String?, reason: String)
        /// Invalid; the errors are in the diagnostics.
        case failed
    }

    let root: YAMLCursor
    let apiVersion: String
    let kind: String
    let source: ManifestSource
    let diagnostics: DocumentDiagnostics

    init(root: YAMLCursor, apiVersion: String, kind: String, source: ManifestSource) {
        self.root = root
        self.apiVersion = apiVersion
        self.kind = kind
        self.source = source
        self.diagnostics = root.diagnostics
    }

    /// The Gateway API group.
    static let gatewayGroup = "gateway.networking.k8s.io"
    /// The Linkerd policy API group.
    static let linkerdPolicyGroup = "policy.linkerd.io"

    /// The API group of `apiVersion` (`""` for the core group, `v1`).
    var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    func decode() -> Outcome {
        switch (apiVersion, kind) {
        case ("v1", "Namespace"): return finish(decodeNamespace())
        case ("v1", "Service"): return finish(decodeService())
        case ("v1", "Pod"): return finish(decodePod())
        case ("v1", "Node"): return finish(decodeNode())
        case (_, "HTTPRoute"):
            guard let version = RouteAPIVersion(rawValue: apiVersion) else { return skip(Self.skipReason(apiVersion, kind)) }
            return finish(decodeHTTPRoute(version: version))
        case (_, "GRPCRoute"):
            guard let version = GRPCRouteAPIVersion(rawValue: apiVersion) else { return skip(Self.skipReason(apiVersion, kind)) }
            return finish(decodeGRPCRoute(version: version))
        case ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"), ("gateway.networking.k8s.io/v1", "ReferenceGrant"):
            return finish(decodeReferenceGrant())
        case ("discovery.k8s.io/v1", "EndpointSlice"):
            let slice = decodeEndpointSlice()
            if case .endpointSlice(let value)? = slice, value.addressType == .fqdn, !diagnostics.hasErrors {
                return skip("FQDN EndpointSlices are not used (the proxy dials IP endpoints only), skipped")
            }
            return finish(slice)
        default:
            return skip(Self.skipReason(apiVersion, kind))
        }
    }

    private func finish(_ object: DecodedObject?) -> Outcome {
        guard let object, !diagnostics.hasErrors else { return .failed }
        return .object(object, identity: identity(of: object))
    }

    private func identity(of object: DecodedObject) -> String {
        let name: String
        switch object {
        case .namespace(let value): name = value.name
        case .node(let value): name = value.name
        case .service(let value): name = value.id.description
        case .pod(let value): name = value.id.description
        case .httpRoute(let value): name = value.id.description
        case .grpcRoute(let value): name = value.id.description
        case .referenceGrant(let value): name = value.id.description
        case .endpointSlice(let value): name = value.id.description
        }
        return "\(group)/\(kind) \(name)"
    }

    private func skip(_ reason: String) -> Outcome {
        var name: String?
        if case .scalar(let scalar)? = root["metadata"]["name"].node, case .string(let value) = YAMLScalarValue(scalar) {
            name = value
        }
        return .skipped(name: name, reason: reason)
    }

    /// Why a document of this kind is not read.
    static func skipReason(_ apiVersion: String, _ kind: String) -> String {
        let group = apiVersion.split(separator: "/", maxSplits: 1).count == 2
            ? String(apiVersion.split(separator: "/", maxSplits: 1)[0]) : ""
        switch (group, kind) {
        case (_, "HTTPRoute") where group == gatewayGroup || group == linkerdPolicyGroup:
            return "HTTPRoute \(apiVersion) is not read (Switchyard reads "
                + RouteAPIVersion.allCases.map(\.rawValue).joined(separator: ", ") + "), skipped"
        case (_, "GRPCRoute") where group == gatewayGroup || group == linkerdPolicyGroup:
            return "GRPCRoute \(apiVersion) is not read (Switchyard reads "
                + GRPCRouteAPIVersion.allCases.map(\.rawValue).joined(separator: ", ") + "), skipped"
        case (gatewayGroup, "ReferenceGrant"):
            return "ReferenceGrant \(apiVersion) is not read (Switchyard reads gateway.networking.k8s.io/v1beta1 and v1), skipped"
        case (gatewayGroup, "Gateway"), (gatewayGroup, "GatewayClass"), (gatewayGroup, "ListenerSet"):
            return "\(kind) is not used: Switchyard attaches HTTPRoutes and GRPCRoutes to Services (GAMMA), skipped"
        case (gatewayGroup, _):
            return "\(kind) is not supported (only HTTPRoute and GRPCRoute are routed), skipped"
        case (linkerdPolicyGroup, _):
            return "Linkerd policy kind \(kind) is not enforced by Switchyard, skipped"
        case ("", "Endpoints"):
            return "v1 Endpoints is not read (Switchyard reads discovery.k8s.io/v1 EndpointSlices for Services without a selector), skipped"
        case ("discovery.k8s.io", "EndpointSlice"):
            return "EndpointSlice \(apiVersion) is not read (Switchyard reads discovery.k8s.io/v1), skipped"
        default:
            return "unknown kind, skipped"
        }
    }

    // MARK: - Metadata

    /// `metadata` of an object.
    struct Metadata {
        var name: String
        var namespace: String
        var labels: [String: String]
        var annotations: [String: String]
        var creationTimestamp: Date?
    }

    /// Reads `metadata`: `name` (required, checked by `nameRule`), `namespace` (namespaced
    /// kinds; default `default`), labels and annotations. Names the object in diagnostics.
    func metadata(namespaced: Bool, nameRule: (String) -> String? = ManifestSyntax.dnsSubdomain) -> Metadata? {
        let meta = root["metadata"]
        guard meta.mapping(required: true) != nil else { return nil }
        let name = meta["name"].string(required: true)
        var namespace = "default"
        if namespaced, let given = meta["namespace"].string(), !given.isEmpty {
            if let problem = ManifestSyntax.dnsLabel(given) {
                meta["namespace"].error(problem)
            }
            namespace = given
        }
        if let name {
            diagnostics.object = namespaced ? "\(kind) \(namespace)/\(name)" : "\(kind) \(name)"
            if let problem = nameRule(name) { meta["name"].error(problem) }
        }
        let labels = meta["labels"].stringMap() ?? [:]
        let annotations = meta["annotations"].stringMap() ?? [:]
        var created: Date?
        if let text = meta["creationTimestamp"].string() {
            created = Self.parseTimestamp(text)
            if created == nil { meta["creationTimestamp"].error("expected an RFC 3339 timestamp, got \(YAMLCursor.quote(text))") }
        }
        guard let name else { return nil }
        return Metadata(name: name, namespace: namespace, labels: labels, annotations: annotations, creationTimestamp: created)
    }

    /// RFC 3339 (`2024-05-01T12:00:00Z`, optionally with fractional seconds or an offset).
    static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    // MARK: - Shared checks

    /// Reports `problem` (if any) at `cursor`.
    func check(_ cursor: YAMLCursor, _ problem: String?) {
        if let problem { cursor.error(problem) }
    }

    /// A string that must satisfy `rule`.
    func string(_ cursor: YAMLCursor, required: Bool = false, _ rule: (String) -> String?) -> String? {
        guard let value = cursor.string(required: required) else { return nil }
        check(cursor, rule(value))
        return value
    }

    /// A string that must be one of `allowed`; unknown values are listed with the allowed ones.
    func enumString(_ cursor: YAMLCursor, required: Bool = false, allowed: [String], what: String = "value") -> String? {
        guard let value = cursor.string(required: required) else { return nil }
        guard allowed.contains(value) else {
            cursor.error("unknown \(what) \(YAMLCursor.quote(value)); allowed: \(allowed.joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// An IP address string.
    func ipAddress(_ cursor: YAMLCursor, required: Bool = false) -> String? {
        guard let value = cursor.string(required: required) else { return nil }
        guard IPLiteral.isIPAddress(value) else {
            cursor.error("\(YAMLCursor.quote(value)) is not an IPv4 or IPv6 address")
            return nil
        }
        return value
    }
}
