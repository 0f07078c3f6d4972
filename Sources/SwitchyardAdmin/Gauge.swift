import Atomics
import NIOConcurrencyHelpers

/// One gauge series holding an integer (open connections, in-flight requests). Every
/// operation is one relaxed atomic; no allocation, no lock.
public final class Gauge: Sendable {
    private let storage = ManagedAtomic<Int64>(0)

    init() {}

    /// Sets the value.
    public func set(_ value: Int64) { storage.store(value, ordering: .relaxed) }
    /// Adds `amount`.
    public func increment(by amount: Int64 = 1) { storage.wrappingIncrement(by: amount, ordering: .relaxed) }
    /// Subtracts `amount`.
    public func decrement(by amount: Int64 = 1) { storage.wrappingDecrement(by: amount, ordering: .relaxed) }
    /// The current value.
    public var value: Int64 { storage.load(ordering: .relaxed) }
}

/// A gauge family. A series is either a stored `Gauge` (`labels(...)`) or a closure that is
/// evaluated at scrape time (`observe(...)`, e.g. a certificate's expiry timestamp).
public final class GaugeFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    var type: MetricType { .gauge }

    private enum Series: Sendable {
        case stored(Gauge)
        case computed(@Sendable () -> Double)
    }
    private let series = NIOLockedValueBox(LabelledHandles<Series>())

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// The stored gauge for these label values; the same handle every time. Takes a lock:
    /// call it at setup. Replaces a closure registered for the same values.
    public func labels(_ values: String...) -> Gauge { labels(values) }

    /// The stored gauge for these label values.
    public func labels(_ values: [String]) -> Gauge {
        checkArity(values)
        return series.withLockedValue { state in
            if case .stored(let gauge)? = state.handles[values] { return gauge }
            let gauge = Gauge()
            state.handles[values] = .stored(gauge)
            return gauge
        }
    }

    /// Makes the series for these label values the result of `read`, called at each scrape
    /// (on the admin server's event loop: keep it cheap and non-blocking). Replaces whatever
    /// was registered for the same values.
    public func observe(_ values: [String] = [], _ read: @escaping @Sendable () -> Double) {
        checkArity(values)
        series.withLockedValue { $0.handles[values] = .computed(read) }
    }

    /// Removes the series for these label values (e.g. a certificate no longer served).
    public func remove(_ values: [String]) {
        _ = series.withLockedValue { $0.handles.removeValue(forKey: values) }
    }

    private func checkArity(_ values: [String]) {
        precondition(values.count == labelNames.count,
                     "\(name): \(values.count) label values for \(labelNames.count) label names")
    }

    func renderSamples(into output: inout String) {
        for (values, entry) in series.withLockedValue({ $0.sorted() }) {
            output += name
            output += PrometheusText.labelSet(names: labelNames, values: values)
            output += " "
            switch entry {
            case .stored(let gauge): output += String(gauge.value)
            case .computed(let read): output += PrometheusText.format(read())
            }
            output += "\n"
        }
    }
}
