// EndpointBalancer: P2C over a peak-EWMA with in-flight counts, driven by a seeded generator
// and an explicit clock, so every count below is deterministic.
import NIOCore
@testable import SwitchyardProxy
import Testing

/// xorshift64*: a small seeded generator for reproducible picks.
struct BalancerRNG: RandomNumberGenerator {
    private var state: UInt64

    /// Any seed; zero (a fixed point of xorshift) is replaced.
    init(seed: UInt64) { state = seed == 0 ? 0x2545_F491_4F6C_DD1D : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

@Suite("EndpointBalancer: power of two choices over peak-EWMA latency")
struct EndpointBalancerTests {
    static let fast = "10.0.0.1:8080"
    static let slow = "10.0.0.2:8080"
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    /// Picks `count` times at `now` (nothing started), returning how often each endpoint won.
    static func tally(
        _ balancer: EndpointBalancer, _ endpoints: [String], excluding: Set<String> = [],
        count: Int = 1000, now: NIODeadline = start, seed: UInt64 = 42
    ) -> [String: Int] {
        var rng = BalancerRNG(seed: seed)
        var wins: [String: Int] = [:]
        for _ in 0..<count {
            if let chosen = balancer.pick(endpoints, excluding: excluding, now: now, using: &rng) {
                wins[chosen, default: 0] += 1
            }
        }
        return wins
    }

    /// Records one finished request of `latency` to `endpoint` at `now`.
    static func sample(_ balancer: EndpointBalancer, _ endpoint: String, _ latency: TimeAmount, at now: NIODeadline = start) {
        balancer.started(endpoint)
        balancer.finished(endpoint, latency: latency, now: now)
    }

    @Test("no endpoints, or all excluded: nil; one: that one")
    func emptyAndSingle() {
        let balancer = EndpointBalancer()
        var rng = BalancerRNG(seed: 1)
        #expect(balancer.pick([], now: Self.start, using: &rng) == nil)
        #expect(balancer.pick([Self.fast], excluding: [Self.fast], now: Self.start, using: &rng) == nil)
        #expect(balancer.pick([Self.fast], now: Self.start, using: &rng) == Self.fast)
        #expect(balancer.pick([Self.fast, Self.slow], excluding: [Self.fast], now: Self.start, using: &rng) == Self.slow)
        #expect(balancer.trackedCount == 0, "picking alone tracks nothing")
    }

    @Test("two equal endpoints share the picks")
    func equalShare() {
        let balancer = EndpointBalancer()
        let endpoints = [Self.fast, Self.slow]
        let unknown = Self.tally(balancer, endpoints, count: 10_000)
        #expect((4_000...6_000).contains(unknown[Self.fast] ?? 0), "\(unknown)")

        for endpoint in endpoints { Self.sample(balancer, endpoint, .milliseconds(10)) }
        let sampled = Self.tally(balancer, endpoints, count: 10_000)
        #expect((4_000...6_000).contains(sampled[Self.fast] ?? 0), "\(sampled)")
    }

    @Test("among ten equal endpoints every one gets a share")
    func equalShareOfTen() {
        let endpoints = (1...10).map { "10.0.1.\($0):80" }
        let wins = Self.tally(EndpointBalancer(), endpoints, count: 10_000)
        #expect(wins.count == 10)
        for endpoint in endpoints {
            #expect((700...1_300).contains(wins[endpoint] ?? 0), "\(endpoint): \(wins)")
        }
    }

    @Test("a slow endpoint is picked much less than a fast one")
    func slowAvoided() {
        let balancer = EndpointBalancer()
        let endpoints = [Self.fast, Self.slow] + (1...3).map { "10.0.2.\($0):80" }
        var rng = BalancerRNG(seed: 7)
        var now = Self.start
        var wins: [String: Int] = [:]
        // Requests finish at once; the slow endpoint takes 200 ms, the others 5 ms.
        for _ in 0..<2_000 {
            guard let chosen = balancer.pick(endpoints, now: now, using: &rng) else {
                Issue.record("no pick")
                return
            }
            wins[chosen, default: 0] += 1
            balancer.started(chosen)
            now = now + .milliseconds(10)
            balancer.finished(chosen, latency: chosen == Self.slow ? .milliseconds(200) : .milliseconds(5), now: now)
        }
        let slowWins = wins[Self.slow] ?? 0
        let fastWins = wins[Self.fast] ?? 0
        #expect(slowWins > 0, "the slow endpoint was tried")
        #expect(slowWins * 10 < fastWins, "\(wins)")
    }

    @Test("load in flight shifts picks away from an endpoint")
    func inFlightShifts() {
        let balancer = EndpointBalancer()
        let endpoints = [Self.fast, Self.slow]
        for endpoint in endpoints { Self.sample(balancer, endpoint, .milliseconds(10)) }
        for _ in 0..<5 { balancer.started(Self.fast) }
        #expect(balancer.cost(Self.fast, now: Self.start) == 6 * balancer.cost(Self.slow, now: Self.start))
        let busy = Self.tally(balancer, endpoints)
        #expect(busy[Self.fast] == nil, "\(busy)")

        // As they finish (each after 10 ms) the picks come back.
        for _ in 0..<5 { balancer.finished(Self.fast, latency: .milliseconds(10), now: Self.start) }
        let idle = Self.tally(balancer, endpoints)
        #expect((400...600).contains(idle[Self.fast] ?? 0), "\(idle)")
    }

    @Test("in flight outweighs a faster estimate once there is enough of it")
    func inFlightAgainstLatency() {
        let balancer = EndpointBalancer()
        Self.sample(balancer, Self.fast, .milliseconds(10))
        Self.sample(balancer, Self.slow, .milliseconds(40))
        #expect(Self.tally(balancer, [Self.fast, Self.slow])[Self.slow] == nil)
        for _ in 0..<4 { balancer.started(Self.fast) }  // 10 ms × 5 > 40 ms × 1
        #expect(Self.tally(balancer, [Self.fast, Self.slow])[Self.fast] == nil)
    }

    @Test("excluded endpoints are never picked")
    func excluding() {
        let endpoints = (1...5).map { "10.0.3.\($0):80" }
        let excluded: Set = [endpoints[0], endpoints[3]]
        let wins = Self.tally(EndpointBalancer(), endpoints, excluding: excluded)
        #expect(Set(wins.keys) == Set(endpoints).subtracting(excluded))
        #expect(wins.values.reduce(0, +) == 1000)
    }

    @Test("a failed endpoint is avoided until its penalty has decayed")
    func failurePenaltyDecays() {
        let balancer = EndpointBalancer(decay: .seconds(10), failurePenalty: .seconds(1))
        let endpoints = [Self.fast, Self.slow]
        Self.sample(balancer, Self.fast, .milliseconds(20))
        balancer.started(Self.slow)
        balancer.failed(Self.slow, now: Self.start)
        #expect(balancer.cost(Self.slow, now: Self.start) == Double(TimeAmount.seconds(1).nanoseconds))

        // The fast endpoint keeps answering in 20 ms; the failed one is not tried for a while.
        func picks(at now: NIODeadline) -> [String: Int] {
            Self.sample(balancer, Self.fast, .milliseconds(20), at: now)
            return Self.tally(balancer, endpoints, now: now)
        }
        #expect(picks(at: Self.start + .seconds(5))[Self.slow] == nil)
        #expect(picks(at: Self.start + .seconds(20))[Self.slow] == nil)  // 1 s × e^-2 ≈ 135 ms
        // 1 s × e^-5 ≈ 6.7 ms: below the other's 20 ms, so it is tried again.
        #expect((picks(at: Self.start + .seconds(50))[Self.slow] ?? 0) > 0)
    }

    @Test("a failed connection attempt counts as a penalty without touching in-flight")
    func connectFailure() {
        let balancer = EndpointBalancer(failurePenalty: .milliseconds(500))
        balancer.connectFailed(Self.slow, now: Self.start)
        #expect(balancer.cost(Self.slow, now: Self.start) == Double(TimeAmount.milliseconds(500).nanoseconds))
        #expect(Self.tally(balancer, [Self.fast, Self.slow])[Self.slow] == nil)
        // A failure without a start does not push in-flight below zero.
        balancer.failed(Self.slow, now: Self.start)
        #expect(balancer.cost(Self.slow, now: Self.start) == Double(TimeAmount.milliseconds(500).nanoseconds))
    }

    @Test("peak: a slower sample replaces the estimate; faster ones pull it down gradually")
    func peakEWMA() {
        let balancer = EndpointBalancer(decay: .seconds(10), defaultRTT: .milliseconds(30))
        #expect(balancer.cost(Self.fast, now: Self.start) == 30_000_000, "default before any sample")
        Self.sample(balancer, Self.fast, .milliseconds(5))
        #expect(balancer.cost(Self.fast, now: Self.start) == 5_000_000, "the first sample replaces the default")
        Self.sample(balancer, Self.fast, .milliseconds(100), at: Self.start + .milliseconds(1))
        #expect(balancer.cost(Self.fast, now: Self.start + .milliseconds(1)) == 100_000_000, "peak")

        // 10 ms samples every 100 ms: the estimate falls toward them, neither at once nor never.
        var now = Self.start + .milliseconds(1)
        var previous = 100_000_000.0
        for _ in 0..<20 {
            now = now + .milliseconds(100)
            Self.sample(balancer, Self.fast, .milliseconds(10), at: now)
            let cost = balancer.cost(Self.fast, now: now)
            #expect(cost < previous && cost > 10_000_000)
            previous = cost
        }
        #expect(previous > 30_000_000 && previous < 90_000_000, "\(previous)")
    }

    @Test("forgetIdle drops endpoints idle for idleForget and keeps those in flight")
    func forgetIdle() {
        let balancer = EndpointBalancer(idleForget: .seconds(60))
        // Endpoints churn: a thousand, each used once, a second apart.
        for i in 0..<1_000 {
            Self.sample(balancer, "10.1.\(i / 256).\(i % 256):80", .milliseconds(5), at: Self.start + .seconds(Int64(i)))
        }
        balancer.started("10.9.9.9:80")  // in flight, never sampled
        #expect(balancer.trackedCount == 1_001)

        balancer.forgetIdle(now: Self.start + .seconds(1_000))
        // Sampled within the last 60 s: seconds 941...999, plus the one in flight.
        #expect(balancer.trackedCount == 59 + 1)

        balancer.forgetIdle(now: Self.start + .seconds(10_000))
        #expect(balancer.trackedCount == 1, "only the endpoint in flight is left")
        balancer.finished("10.9.9.9:80", latency: .milliseconds(5), now: Self.start + .seconds(10_000))
        balancer.forgetIdle(now: Self.start + .seconds(10_060))
        #expect(balancer.trackedCount == 0)
    }
}
