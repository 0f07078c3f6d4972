import NIOConcurrencyHelpers

/// The daemon's metric families, by name, rendered as Prometheus text.
///
/// Registration and label resolution take a lock and happen at setup (start-up, connection or
/// route setup); the handles they return (`Counter`, `Gauge`, `Histogram`) are updated with
/// atomics only. Registering a name again with the same type, help, label names (and buckets)
/// returns the existing family; with a different shape it is a programming error (trap).
public final class MetricsRegistry: Sendable {
    private let families = NIOLockedValueBox<[String: any MetricFamily]>([:])

    public init() {}

    /// Registers (or finds) a counter family.
    public func counterFamily(_ name: String, help: String, labelNames: [String] = []) -> CounterFamily {
        register(name: name, help: help, type: .counter, labelNames: labelNames) {
            CounterFamily(name: name, help: help, labelNames: labelNames)
        }
    }

    /// Registers (or finds) a counter without labels and returns its handle.
    public func counter(_ name: String, help: String) -> Counter {
        counterFamily(name, help: help).labels([])
    }

    /// Registers (or finds) a gauge family.
    public func gaugeFamily(_ name: String, help: String, labelNames: [String] = []) -> GaugeFamily {
        register(name: name, help: help, type: .gauge, labelNames: labelNames) {
            GaugeFamily(name: name, help: help, labelNames: labelNames)
        }
    }

    /// Registers (or finds) a gauge without labels and returns its handle.
    public func gauge(_ name: String, help: String) -> Gauge {
        gaugeFamily(name, help: help).labels([])
    }

    /// Registers (or finds) a gauge without labels whose value is `read()` at scrape time.
    public func gauge(_ name: String, help: String, _ read: @escaping @Sendable () -> Double) {
        gaugeFamily(name, help: help).observe([], read)
    }

    /// Registers (or finds) a histogram family with these bucket upper bounds (finite,
    /// strictly increasing; `+Inf` is implied).
    public func histogramFamily(
        _ name: String, help: String, labelNames: [String] = [],
        buckets: [Double] = Histogram.linkerdLatencyBucketsMs
    ) -> HistogramFamily {
        precondition(!labelNames.contains("le"), "\(name): a histogram cannot have an `le` label")
        precondition(buckets.allSatisfy(\.isFinite), "\(name): bucket bounds must be finite")
        precondition(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 },
                     "\(name): bucket bounds must be strictly increasing")
        let family = register(name: name, help: help, type: .histogram, labelNames: labelNames) {
            HistogramFamily(name: name, help: help, labelNames: labelNames, bounds: buckets)
        }
        precondition(family.bounds == buckets, "\(name): registered again with other buckets")
        return family
    }

    /// Registers (or finds) a histogram without labels and returns its handle.
    public func histogram(
        _ name: String, help: String, buckets: [Double] = Histogram.linkerdLatencyBucketsMs
    ) -> Histogram {
        histogramFamily(name, help: help, buckets: buckets).labels([])
    }

    /// The names of the registered families, sorted.
    public var familyNames: [String] {
        families.withLockedValue { $0.keys.sorted() }
    }

    /// Every family in Prometheus text format 0.0.4, families sorted by name and series by
    /// their label values. A family with no series yet still has its `# HELP` and `# TYPE`.
    public func render() -> String {
        let sorted = families.withLockedValue { $0.values.sorted { $0.name < $1.name } }
        var output = ""
        for family in sorted {
            output += "# HELP \(family.name) \(PrometheusText.escapeHelp(family.help))\n"
            output += "# TYPE \(family.name) \(family.type.rawValue)\n"
            family.renderSamples(into: &output)
        }
        return output
    }

    private func register<Family: MetricFamily>(
        name: String, help: String, type: MetricType, labelNames: [String],
        make: () -> Family
    ) -> Family {
        precondition(PrometheusText.isValidMetricName(name), "invalid metric name \(name)")
        for label in labelNames {
            precondition(PrometheusText.isValidLabelName(label), "\(name): invalid label name \(label)")
        }
        precondition(Set(labelNames).count == labelNames.count, "\(name): repeated label name")
        return families.withLockedValue { families in
            if let existing = families[name] {
                guard let same = existing as? Family, existing.help == help,
                      existing.labelNames == labelNames
                else { preconditionFailure("metric \(name) registered again with another shape") }
                return same
            }
            let family = make()
            families[name] = family
            return family
        }
    }
}
