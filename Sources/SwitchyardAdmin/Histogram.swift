import Atomics
import NIOConcurrencyHelpers

/// One histogram series with bucket bounds fixed at registration. `observe(_:)` is a binary
/// search over the bounds, one relaxed atomic add on the bucket and a compare-and-swap loop on
/// the sum; no allocation, no lock. `_count` is the sum of the buckets, so it always equals the
/// `+Inf` bucket.
public final class Histogram: Sendable {
    /// Linkerd's `response_latency_ms` bucket bounds, in milliseconds.
    public static let linkerdLatencyBucketsMs: [Double] = [
        1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500,
        1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000,
    ]

    /// The upper bounds (inclusive), strictly increasing, without `+Inf`.
    public let bounds: [Double]
    /// Per-bucket (not cumulative) counts; the last one is the `+Inf` bucket.
    private let buckets: [ManagedAtomic<UInt64>]
    private let sumBits = ManagedAtomic<UInt64>(Double(0).bitPattern)

    init(bounds: [Double]) {
        self.bounds = bounds
        self.buckets = (0...bounds.count).map { _ in ManagedAtomic<UInt64>(0) }
    }

    /// Records one observation.
    public func observe(_ value: Double) {
        var low = 0
        var high = bounds.count
        while low < high {
            let mid = (low &+ high) >> 1
            if value <= bounds[mid] { high = mid } else { low = mid &+ 1 }
        }
        buckets[low].wrappingIncrement(ordering: .relaxed)
        var old = sumBits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + value).bitPattern
            let (exchanged, original) = sumBits.weakCompareExchange(
                expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    /// Records one observation given as a duration, in milliseconds.
    public func observe(milliseconds duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    /// The cumulative counts per bound, then the `+Inf` count (which is also `_count`).
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return buckets.map { bucket in
            running &+= bucket.load(ordering: .relaxed)
            return running
        }
    }

    /// The sum of all observations.
    public var sum: Double { Double(bitPattern: sumBits.load(ordering: .relaxed)) }

    /// The number of observations.
    public var count: UInt64 { cumulativeCounts.last ?? 0 }
}

/// A histogram family: every series shares the bucket bounds given at registration.
public final class HistogramFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    /// The bucket upper bounds, strictly increasing, without `+Inf`.
    public let bounds: [Double]
    var type: MetricType { .histogram }
    private let series = NIOLockedValueBox(LabelledHandles<Histogram>())

    init(name: String, help: String, labelNames: [String], bounds: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.bounds = bounds
    }

    /// The histogram for these label values; the same handle every time. Takes a lock: call
    /// it at setup, not per request.
    public func labels(_ values: String...) -> Histogram { labels(values) }

    /// The histogram for these label values.
    public func labels(_ values: [String]) -> Histogram {
        precondition(values.count == labelNames.count,
                     "\(name): \(values.count) label values for \(labelNames.count) label names")
        return series.withLockedValue { state in
            if let existing = state.handles[values] { return existing }
            let histogram = Histogram(bounds: bounds)
            state.handles[values] = histogram
            return histogram
        }
    }

    func renderSamples(into output: inout String) {
        let boundLabels = bounds.map(PrometheusText.format) + ["+Inf"]
        for (values, histogram) in series.withLockedValue({ $0.sorted() }) {
            let counts = histogram.cumulativeCounts
            for (le, count) in zip(boundLabels, counts) {
                output += name
                output += "_bucket"
                output += PrometheusText.labelSet(names: labelNames, values: values, extra: ("le", le))
                output += " "
                output += String(count)
                output += "\n"
            }
            let labels = PrometheusText.labelSet(names: labelNames, values: values)
            output += "\(name)_sum\(labels) \(PrometheusText.format(histogram.sum))\n"
            output += "\(name)_count\(labels) \(counts.last ?? 0)\n"
        }
    }
}
