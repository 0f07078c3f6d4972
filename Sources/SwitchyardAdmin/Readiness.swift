import NIOConcurrencyHelpers

/// A small thread-safe set of named conditions (e.g. "manifests not loaded", "identities not
/// loaded") that must all be marked ready before `/ready` answers 200; `/ready` lists the pending ones.
public final class Readiness: Sendable {
    private struct State {
        var order: [String] = []
        var ready: [String: Bool] = [:]
    }
    private let state = NIOLockedValueBox(State())

    /// Starts with these conditions, none of them ready yet.
    public init(conditions: [String] = []) {
        for condition in conditions { register(condition) }
    }

    /// Adds a condition, not ready; nothing happens if it is already known.
    public func register(_ condition: String) {
        state.withLockedValue { state in
            guard state.ready[condition] == nil else { return }
            state.order.append(condition)
            state.ready[condition] = false
        }
    }

    /// Marks a condition ready (registering it if it was unknown).
    public func markReady(_ condition: String) { set(condition, ready: true) }

    /// Marks a condition not ready again (registering it if it was unknown).
    public func markNotReady(_ condition: String) { set(condition, ready: false) }

    /// Whether every condition is ready (true when there are none).
    public var isReady: Bool { pending.isEmpty }

    /// The conditions not ready yet, in the order they were registered.
    public var pending: [String] {
        state.withLockedValue { state in state.order.filter { state.ready[$0] == false } }
    }

    private func set(_ condition: String, ready: Bool) {
        state.withLockedValue { state in
            if state.ready[condition] == nil { state.order.append(condition) }
            state.ready[condition] = ready
        }
    }
}
