import Atomics
import NIOConcurrencyHelpers

/// One counter series (a family plus one set of label values). Resolve it once, at connection
/// or route setup, and keep it: `increment(by:)` is a single relaxed atomic add.
public final class Counter: Sendable {
    @usableFromInline
    let storage = ManagedAtomic<UInt64>(0)

    init() {}

    /// Adds `amount` (one relaxed atomic add; no allocation, no lock).
    @inlinable
    public func increment(by amount: UInt64 = 1) {
        storage.wrappingIncrement(by: amount, ordering: .relaxed)
    }

    /// The current value.
    public var value: UInt64 { storage.load(ordering: .relaxed) }
}

/// A counter family: a name, help text and label names; `labels(...)` resolves a handle.
public final class CounterFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    var type: MetricType { .counter }
    private let series = NIOLockedValueBox(LabelledHandles<Counter>())

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// The handle for these label values, in the order of `labelNames`; the same handle every
    /// time for the same values. Takes a lock: call it at setup, not per request.
    public func labels(_ values: String...) -> Counter { labels(values) }

    /// The handle for these label values, in the order of `labelNames`.
    public func labels(_ values: [String]) -> Counter {
        precondition(values.count == labelNames.count,
                     "\(name): \(values.count) label values for \(labelNames.count) label names")
        return series.withLockedValue { state in
            if let existing = state.handles[values] { return existing }
            let counter = Counter()
            state.handles[values] = counter
            return counter
        }
    }

    func renderSamples(into output: inout String) {
        for (values, counter) in series.withLockedValue({ $0.sorted() }) {
            output += name
            output += PrometheusText.labelSet(names: labelNames, values: values)
            output += " "
            output += String(counter.value)
            output += "\n"
        }
    }
}
