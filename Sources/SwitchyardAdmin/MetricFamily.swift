/// The kind of a metric family, as written on its `# TYPE` line.
public enum MetricType: String, Sendable {
    case counter
    case gauge
    case histogram
}

/// What the registry holds: a named family that renders itself as Prometheus text.
protocol MetricFamily: AnyObject, Sendable {
    var name: String { get }
    var help: String { get }
    var type: MetricType { get }
    var labelNames: [String] { get }
    /// The samples of this family, without the `# HELP` / `# TYPE` header.
    func renderSamples(into output: inout String)
}

/// Label values resolved to one handle per distinct set, looked up only at setup time.
struct LabelledHandles<Handle: Sendable>: Sendable {
    var handles: [[String]: Handle] = [:]

    /// The handles ordered by their label values (element by element), for stable output.
    func sorted() -> [(labelValues: [String], handle: Handle)] {
        handles.map { (labelValues: $0.key, handle: $0.value) }
            .sorted { $0.labelValues.lexicographicallyPrecedes($1.labelValues) }
    }
}
