#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Chooses the endpoint for each request or connection by the power of two choices over a
/// peak-EWMA of latency, weighted by requests in flight, as Linkerd's proxy (tower's
/// `PeakEwma`) does. One instance per event loop, used only on it; randomness and time are
/// passed in, so it is deterministic under test.
///
/// - cost(endpoint) = latency estimate × (in flight + 1); before its first latency sample an
///   endpoint's estimate is `defaultRTT`.
/// - Between samples the estimate decays toward zero by exp(-elapsed / decay), so an endpoint
///   that was slow or failed (a sample of `failurePenalty`) is tried again once its penalty has
///   decayed below the others' cost.
/// - A sample above the current (decayed) estimate replaces it: the "peak". One below pulls it
///   toward the sample by 1 - exp(-elapsed / decay), `elapsed` being the time since the
///   previous sample. The first sample replaces the default.
/// - Endpoints with nothing in flight and no sample for `idleForget` are dropped by
///   `forgetIdle(now:)`, so the table stays bounded while endpoints come and go.
public final class EndpointBalancer {
    /// What is known of one endpoint.
    private struct Load {
        /// Latency estimate in nanoseconds as of `sampledAt`; meaningless before the first sample.
        var estimate: Double = 0
        /// When the last sample was folded in; nil before the first.
        var sampledAt: NIODeadline?
        var inFlight = 0
    }

    /// The time constant of the moving average and of the decay between samples.
    public let decay: TimeAmount
    /// The estimate of an endpoint without samples.
    public let defaultRTT: TimeAmount
    /// The latency sample recorded for a failed request or connection attempt.
    public let failurePenalty: TimeAmount
    /// How long an endpoint with nothing in flight is remembered after its last sample.
    public let idleForget: TimeAmount

    private var loads: [String: Load] = [:]

    /// - Parameters:
    ///   - decay: time constant of the EWMA (and of the decay toward zero between samples).
    ///   - defaultRTT: latency assumed for an endpoint before its first sample.
    ///   - failurePenalty: latency recorded for a failure, which keeps the endpoint avoided
    ///     until it has decayed.
    ///   - idleForget: how long `forgetIdle(now:)` keeps an idle endpoint.
    public init(
        decay: TimeAmount = .seconds(10),
        defaultRTT: TimeAmount = .milliseconds(30),
        failurePenalty: TimeAmount = .seconds(1),
        idleForget: TimeAmount = .seconds(60)
    ) {
        precondition(decay > .zero, "decay must be positive")
        self.decay = decay
        self.defaultRTT = defaultRTT
        self.failurePenalty = failurePenalty
        self.idleForget = idleForget
    }

    /// How many endpoints have state now.
    public var trackedCount: Int { loads.count }

    /// Picks one of `endpoints` (e.g. `"10.0.0.1:8080"`) by the power of two choices: two
    /// distinct candidates at random, skipping those in `excluding`; the lower cost wins (the
    /// first drawn on a tie). One candidate left: that one; none: nil.
    public func pick<G: RandomNumberGenerator>(
        _ endpoints: [String], excluding: Set<String> = [], now: NIODeadline, using rng: inout G
    ) -> String? {
        let candidates = excluding.isEmpty ? endpoints : endpoints.filter { !excluding.contains($0) }
        switch candidates.count {
        case 0:
            return nil
        case 1:
            return candidates[0]
        default:
            let first = Int.random(in: 0..<candidates.count, using: &rng)
            var second = Int.random(in: 0..<(candidates.count - 1), using: &rng)
            if second >= first { second += 1 }
            let a = candidates[first]
            let b = candidates[second]
            return cost(b, now: now) < cost(a, now: now) ? b : a
        }
    }

    /// A request (or connection) to `endpoint` has started.
    public func started(_ endpoint: String) {
        loads[endpoint, default: Load()].inFlight += 1
    }

    /// A request to `endpoint` has finished after `latency`.
    public func finished(_ endpoint: String, latency: TimeAmount, now: NIODeadline) {
        var load = loads[endpoint, default: Load()]
        load.inFlight = max(0, load.inFlight - 1)
        fold(latency, into: &load, now: now)
        loads[endpoint] = load
    }

    /// A request to `endpoint` has failed: it no longer counts as in flight, and the failure is
    /// a latency sample of `failurePenalty`.
    public func failed(_ endpoint: String, now: NIODeadline) {
        finished(endpoint, latency: failurePenalty, now: now)
    }

    /// Connecting to `endpoint` has failed (nothing was started): a latency sample of
    /// `failurePenalty`.
    public func connectFailed(_ endpoint: String, now: NIODeadline) {
        fold(failurePenalty, into: &loads[endpoint, default: Load()], now: now)
    }

    /// Drops the state of endpoints with nothing in flight and no sample for `idleForget`.
    public func forgetIdle(now: NIODeadline) {
        loads = loads.filter { _, load in
            guard load.inFlight == 0 else { return true }
            guard let sampledAt = load.sampledAt else { return false }
            return now - sampledAt < idleForget
        }
    }

    /// The endpoint's cost now: its decayed estimate × (in flight + 1).
    func cost(_ endpoint: String, now: NIODeadline) -> Double {
        let load = loads[endpoint] ?? Load()
        return estimate(load, now: now) * Double(load.inFlight + 1)
    }

    /// The latency estimate at `now`: the last one decayed toward zero by
    /// exp(-elapsed / decay), or `defaultRTT` before the first sample.
    private func estimate(_ load: Load, now: NIODeadline) -> Double {
        guard let sampledAt = load.sampledAt else { return Double(defaultRTT.nanoseconds) }
        return load.estimate * weight(elapsed: now - sampledAt)
    }

    /// exp(-elapsed / decay): how much of an old value is left after `elapsed`.
    private func weight(elapsed: TimeAmount) -> Double {
        guard elapsed > .zero else { return 1 }
        return exp(-Double(elapsed.nanoseconds) / Double(decay.nanoseconds))
    }

    /// Folds one latency sample in: the first replaces the default, one above the current
    /// estimate replaces it, one below pulls the estimate toward it by 1 - exp(-elapsed / decay).
    private func fold(_ sample: TimeAmount, into load: inout Load, now: NIODeadline) {
        let value = Double(sample.nanoseconds)
        if let sampledAt = load.sampledAt {
            let current = estimate(load, now: now)
            let w = weight(elapsed: now - sampledAt)
            load.estimate = value > current ? value : current * w + value * (1 - w)
        } else {
            load.estimate = value
        }
        load.sampledAt = now
    }
}
