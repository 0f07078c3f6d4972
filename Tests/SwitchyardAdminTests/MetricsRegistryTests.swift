import Dispatch
import Testing
@testable import SwitchyardAdmin

@Suite("Metrics registry and Prometheus text")
struct MetricsRegistryTests {
    @Test func countersGaugesAndHistogramsRenderAsGoldenText() {
        let registry = MetricsRegistry()
        let requests = registry.counterFamily(
            "request_total", help: "Total requests.", labelNames: ["direction", "tls"])
        let inbound = requests.labels("inbound", "true")
        let outbound = requests.labels("outbound", "false")
        inbound.increment()
        inbound.increment(by: 4)
        outbound.increment()
        #expect(requests.labels("inbound", "true") === inbound)

        let open = registry.gauge("tcp_open_connections", help: "Open connections.")
        open.increment(by: 3)
        open.decrement()
        registry.gauge("identity_cert_expiration_timestamp_seconds", help: "Expiry of the certificate.") {
            1_767_225_600
        }

        let latency = registry.histogramFamily(
            "response_latency_ms", help: "Response latency.", labelNames: ["direction"],
            buckets: [1, 10, 100])
        let inboundLatency = latency.labels("inbound")
        for value in [0.5, 1, 7, 100, 250] { inboundLatency.observe(value) }
        _ = registry.counterFamily("tcp_open_total", help: "Opened connections.")

        let expected = """
            # HELP identity_cert_expiration_timestamp_seconds Expiry of the certificate.
            # TYPE identity_cert_expiration_timestamp_seconds gauge
            identity_cert_expiration_timestamp_seconds 1767225600
            # HELP request_total Total requests.
            # TYPE request_total counter
            request_total{direction="inbound",tls="true"} 5
            request_total{direction="outbound",tls="false"} 1
            # HELP response_latency_ms Response latency.
            # TYPE response_latency_ms histogram
            response_latency_ms_bucket{direction="inbound",le="1"} 2
            response_latency_ms_bucket{direction="inbound",le="10"} 3
            response_latency_ms_bucket{direction="inbound",le="100"} 4
            response_latency_ms_bucket{direction="inbound",le="+Inf"} 5
            response_latency_ms_sum{direction="inbound"} 358.5
            response_latency_ms_count{direction="inbound"} 5
            # HELP tcp_open_connections Open connections.
            # TYPE tcp_open_connections gauge
            tcp_open_connections 2
            # HELP tcp_open_total Opened connections.
            # TYPE tcp_open_total counter

            """
        #expect(registry.render() == expected)
    }

    @Test func valuesAreReadableFromHandles() {
        let registry = MetricsRegistry()
        let counter = registry.counter("reloads_total", help: "Reloads.")
        counter.increment(by: 7)
        #expect(counter.value == 7)
        let gauge = registry.gauge("in_flight", help: "In flight.")
        gauge.set(10)
        gauge.decrement(by: 4)
        gauge.increment()
        #expect(gauge.value == 7)
        let histogram = registry.histogram("latency_ms", help: "Latency.")
        #expect(histogram.bounds == Histogram.linkerdLatencyBucketsMs)
        histogram.observe(milliseconds: .microseconds(1500))
        histogram.observe(50_001)
        #expect(histogram.count == 2)
        #expect(histogram.sum == 50_002.5)
        #expect(histogram.cumulativeCounts[0] == 0)   // le=1
        #expect(histogram.cumulativeCounts[1] == 1)   // le=2
        #expect(histogram.cumulativeCounts[24] == 1)  // le=50000
        #expect(histogram.cumulativeCounts[25] == 2)  // +Inf
    }

    @Test func registeringTheSameFamilyAgainReturnsIt() {
        let registry = MetricsRegistry()
        let first = registry.counterFamily("response_total", help: "Responses.", labelNames: ["status_code"])
        let second = registry.counterFamily("response_total", help: "Responses.", labelNames: ["status_code"])
        #expect(first === second)
        #expect(first.labels("200") === second.labels("200"))
        #expect(registry.familyNames == ["response_total"])
    }

    @Test func labelValuesAndHelpAreEscaped() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(
            "escaped_total", help: #"Back\slash and"# + "\n" + #"newline "quotes stay"."#,
            labelNames: ["path"])
        family.labels("a\\b\"c\nd").increment()
        let expected = #"""
            # HELP escaped_total Back\\slash and\nnewline "quotes stay".
            # TYPE escaped_total counter
            escaped_total{path="a\\b\"c\nd"} 1

            """#
        #expect(registry.render() == expected)
    }

    @Test func numbersAreFormattedForPrometheus() {
        #expect(PrometheusText.format(1) == "1")
        #expect(PrometheusText.format(-3) == "-3")
        #expect(PrometheusText.format(0.25) == "0.25")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(-.infinity) == "-Inf")
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.isValidMetricName("outbound_http_route_request_total"))
        #expect(!PrometheusText.isValidMetricName("1abc"))
        #expect(!PrometheusText.isValidLabelName("__reserved"))
        #expect(!PrometheusText.isValidLabelName("a:b"))
    }

    @Test func seriesAreOrderedByLabelValuesWhateverTheOrderOfCreation() {
        let registry = MetricsRegistry()
        let family = registry.gaugeFamily("g", help: "G.", labelNames: ["k"])
        for key in ["b", "c", "a"] { family.labels(key).set(1) }
        family.observe(["d"]) { 2.5 }
        family.remove(["c"])
        #expect(registry.render() == """
            # HELP g G.
            # TYPE g gauge
            g{k="a"} 1
            g{k="b"} 1
            g{k="d"} 2.5

            """)
    }

    @Test func concurrentUpdatesFromSeveralThreadsSumCorrectly() {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily("c_total", help: "C.", labelNames: ["x"]).labels("y")
        let gauge = registry.gauge("open", help: "Open.")
        let histogram = registry.histogram("h_ms", help: "H.", buckets: [1, 10])
        let threads = 8
        let perThread = 50_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                counter.increment()
                gauge.increment()
                gauge.decrement()
                histogram.observe(Double((i + thread) % 3) * 5)  // 0, 5 or 10
            }
        }
        let total = UInt64(threads * perThread)
        #expect(counter.value == total)
        #expect(gauge.value == 0)
        #expect(histogram.count == total)
        // Sums of small integers are exact in Double, whatever the order of the additions.
        var expectedSum = 0.0
        for thread in 0..<threads { for i in 0..<perThread { expectedSum += Double((i + thread) % 3) * 5 } }
        #expect(histogram.sum == expectedSum)
        let counts = histogram.cumulativeCounts
        #expect(counts[0] == UInt64(expectedSumCount(threads, perThread, value: 0)))
        #expect(counts[1] == total)  // 0, 5 and 10 are all <= 10
        #expect(counts[2] == total)
    }

    private func expectedSumCount(_ threads: Int, _ perThread: Int, value: Int) -> Int {
        var n = 0
        for thread in 0..<threads { for i in 0..<perThread where (i + thread) % 3 * 5 == value { n += 1 } }
        return n
    }
}
