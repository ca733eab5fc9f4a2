import Foundation
import JSON
import LoadGeneration
import Testing

/// Percentiles, synthetic prompts, URL policy and the aggregation and rendering of results,
/// without sockets.
@Suite("LoadTest statistics")
struct LoadTestStatisticsTests {
    @Test func nearestRankPercentiles() {
        // Rank ⌈p·n/100⌉ of the sorted samples, worked by hand.
        let ten = (1...10).map(Double.init)
        #expect(Percentiles.nearestRank(50, of: ten) == 5)    // ⌈5⌉ = 5
        #expect(Percentiles.nearestRank(90, of: ten) == 9)    // ⌈9⌉ = 9, not 10 (exact rank, no round-up)
        #expect(Percentiles.nearestRank(91, of: ten) == 10)   // ⌈9.1⌉ = 10
        #expect(Percentiles.nearestRank(99, of: ten) == 10)
        #expect(Percentiles.nearestRank(0, of: ten) == 1)
        #expect(Percentiles.nearestRank(100, of: ten) == 10)
        let hundred = (1...100).map(Double.init)
        #expect(Percentiles.nearestRank(99, of: hundred) == 99)
        #expect(Percentiles.nearestRank(29, of: hundred) == 29)  // 0.29·100 is 28.999… in floating point
        #expect(Percentiles.nearestRank(50, of: [3, 7]) == 3)
        #expect(Percentiles.nearestRank(50, of: [42]) == 42)
        #expect(Percentiles.nearestRank(50, of: []) == nil)
        // 15 samples, worked by hand: p50 rank ⌈7.5⌉ = 8, p90 rank ⌈13.5⌉ = 14, p99 rank ⌈14.85⌉ = 15.
        let samples: [Double] = [12, 3, 45, 7, 7, 19, 1, 30, 8, 22, 5, 16, 9, 11, 40]
        let summary = SampleSummary(samples)
        #expect(summary.count == 15 && summary.minimum == 1 && summary.maximum == 45)
        #expect(summary.p50 == 11 && summary.p90 == 40 && summary.p99 == 45)
        #expect(summary.mean == 235.0 / 15)
        let milliseconds = summary.scaled(by: 1000)
        #expect(milliseconds.p50 == 11_000 && milliseconds.count == 15)
    }

    @Test func promptsAreDeterministicAndDistinct() {
        let prompts = SyntheticPrompts(seed: 42, promptTokens: 128)
        let again = SyntheticPrompts(seed: 42, promptTokens: 128)
        #expect(prompts.prompt(stream: 0, index: 3) == again.prompt(stream: 0, index: 3))
        var seen = Set<String>()
        for stream in 0..<3 { for index in 0..<20 { seen.insert(prompts.prompt(stream: stream, index: index)) } }
        #expect(seen.count == 60)
        #expect(SyntheticPrompts(seed: 43, promptTokens: 128).prompt(stream: 0, index: 3) != prompts.prompt(stream: 0, index: 3))
        // Distinct from the first word, so no prefix cache shares more than the chat template.
        let firstWords = Set((0..<20).map { prompts.prompt(stream: 0, index: $0).prefix { $0 != " " } })
        #expect(firstWords.count > 10)
        // Pinned: the generator must not change silently (every machine gets the same text).
        #expect(SyntheticPrompts.text(tokenCount: 8, seed: 1) == Self.pinnedText, "\(SyntheticPrompts.text(tokenCount: 8, seed: 1))")
    }

    static let pinnedText = "for market their from he where city."

    @Test func promptLengthIsAboutTheTokenCount() {
        // Each word and each period is one token in the target vocabularies.
        for count in [1, 7, 64, 128, 1000, 6000] {
            let text = SyntheticPrompts.text(tokenCount: count, seed: UInt64(count))
            let words = text.split(separator: " ").count
            let periods = text.filter { $0 == "." }.count
            #expect((count...(count + 1)).contains(words + periods), "\(count): \(words) words + \(periods) periods")
            #expect(text.hasSuffix("."))
        }
    }

    @Test func sharedPrefixIsShared() {
        let prompts = SyntheticPrompts(seed: 5, promptTokens: 200, sharedPrefixTokens: 120)
        let a = prompts.prompt(stream: 0, index: 0), b = prompts.prompt(stream: 1, index: 9)
        let shared = SyntheticPrompts(seed: 5, promptTokens: 120, sharedPrefixTokens: 120).prompt(stream: 0, index: 0)
        #expect(a.hasPrefix(shared + " ") && b.hasPrefix(shared + " "))
        #expect(a != b)
        let common = zip(a, b).prefix { $0 == $1 }.count
        #expect(common <= shared.count + 1 + 20)
        #expect(prompts.question(stream: 0, index: 0, turn: 1) != prompts.question(stream: 0, index: 0, turn: 2))
        #expect(prompts.question(stream: 0, index: 0, turn: 1).hasSuffix("?"))
    }

    @Test func onlyLoopbackURLsAreAccepted() throws {
        let accepted: [(String, String, Int, String)] = [
            ("http://127.0.0.1:8080", "127.0.0.1", 8080, ""),
            ("http://localhost:9000/v1/", "127.0.0.1", 9000, "/v1"),
            ("http://127.1.2.3", "127.1.2.3", 80, ""),
            ("http://[::1]:8081/api", "::1", 8081, "/api"),
        ]
        for (url, address, port, base) in accepted {
            let endpoint = try LoopbackEndpoint(url: url)
            #expect(endpoint.address == address && endpoint.port == port && endpoint.basePath == base, "\(url)")
        }
        #expect(try LoopbackEndpoint(url: "http://localhost:1/v1").target("/v1/chat/completions") == "/v1/chat/completions")
        #expect(try LoopbackEndpoint(url: "http://localhost:1/proxy").target("/v1/models") == "/proxy/v1/models")
        #expect(try LoopbackEndpoint(url: "http://[::1]:5").hostHeader == "[::1]:5")
        for url in ["http://10.0.0.1:8080", "http://example.com", "http://0.0.0.0:8080", "https://127.0.0.1", "http://[::2]:1",
                    "127.0.0.1:8080", "http://128.0.0.1"] {
            #expect(throws: LoadTestError.self, "\(url)") { try LoopbackEndpoint(url: url) }
        }
        do {
            _ = try LoopbackEndpoint(url: "http://192.168.1.5:8080")
        } catch {
            #expect(error.message.contains("refusing") && error.message.contains("loopback"))
        }
    }

    @Test func planProblemsNameTheOption() {
        var plan = LoadTestPlan(clientCounts: [1, 0])
        plan.requestsPerLevel = 4
        plan.durationSeconds = 10
        plan.sharedPrefixTokens = 500
        let problems = plan.problems()
        #expect(problems.contains { $0.contains("--clients") })
        #expect(problems.contains { $0.contains("either --requests or --duration") })
        #expect(problems.contains { $0.contains("--shared-prefix") })
        #expect(LoadTestPlan(clientCounts: [1, 4]).problems().isEmpty)
        #expect(LoadTestPlan(clientCounts: [8]).requestLimit(clientCount: 8) == 32)
    }

    /// Two requests of 4 tokens over a 2-second level, one failure.
    static func measurements() -> [RequestMeasurement] {
        var a = RequestMeasurement(startTime: 10)
        a.contentTimes = [10.5, 10.6, 10.8, 11.1]
        a.endTime = 11.2
        a.completionTokens = 4; a.promptTokens = 20; a.cachedTokens = 0
        var b = RequestMeasurement(startTime: 10.5)
        b.contentTimes = [11.5, 11.6, 11.7, 11.8]
        b.endTime = 12.0
        b.completionTokens = 4; b.promptTokens = 22; b.cachedTokens = 16
        var failed = RequestMeasurement(startTime: 11)
        failed.endTime = 11.01
        failed.failure = RequestFailure(.http, status: 503, "queue full")
        return [a, b, failed]
    }

    @Test func levelAggregation() throws {
        let results = try Self.report().results
        let ours = results[0]
        #expect(ours.requestCount == 3 && ours.succeededCount == 2 && ours.failures == ["HTTP 503": 1])
        #expect(ours.wallSeconds == 2)
        #expect(ours.generatedTokens == 8 && ours.tokensPerSecond == 4 && ours.requestsPerSecond == 1)
        // Streams run 3 gaps in 0.6 s and 3 in 0.3 s: 6 / 0.9 per stream-second, times 2 clients.
        #expect(abs(ours.decodeTokensPerSecond - 2 * 6 / 0.9) < 1e-9)
        #expect(ours.mismatchedLengthCount == 0)
        // TTFT 500 and 1000 ms; ITL gaps 100, 200, 300, 100, 100, 100 ms; E2E 1200 and 1500 ms.
        #expect(ours.timeToFirstToken.p50.map { abs($0 - 500) < 1e-6 } == true)
        #expect(ours.timeToFirstToken.p99.map { abs($0 - 1000) < 1e-6 } == true)
        #expect(ours.interTokenLatency.count == 6)
        #expect(ours.interTokenLatency.p50.map { abs($0 - 100) < 1e-6 } == true)
        #expect(ours.interTokenLatency.p90.map { abs($0 - 300) < 1e-6 } == true)
        #expect(ours.endToEndLatency.p90.map { abs($0 - 1500) < 1e-6 } == true)
        #expect(ours.promptTokens.mean == 21 && ours.cachedTokens.mean == 8)
    }

    static func report() throws -> LoadTestReport {
        var plan = LoadTestPlan(clientCounts: [2])
        plan.maxTokens = 4
        let ours = LoadTarget(name: "entropyinfer", client: LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:1")), model: "m")
        let theirs = LoadTarget(name: "llama.cpp", client: LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:2")))
        var slower = measurements().filter(\.succeeded)
        slower[1].endTime = 14  // the level takes 4 s: 2 tokens/s
        let results = [
            LevelResult(server: "entropyinfer", model: "m", clientCount: 2, phase: "steady", maxTokens: 4,
                        measurements: measurements(), levelMeasurements: measurements()),
            LevelResult(server: "llama.cpp", model: nil, clientCount: 2, phase: "steady", maxTokens: 4,
                        measurements: slower, levelMeasurements: slower),
        ]
        return LoadTestReport(plan: plan, targets: [ours, theirs], results: results)
    }

    @Test func metricsExpositionsAreReadWithoutTheirNamespace() {
        let text = """
        # HELP entropyinfer:num_requests_running Number of requests in model execution batches.
        # TYPE entropyinfer:num_requests_running gauge
        entropyinfer:num_requests_running{model_name="m",engine="0"} 3
        entropyinfer:kv_cache_bytes_used 1.5e+06
        entropyinfer:request_success_total{finished_reason="stop"} 7
        entropyinfer:request_success_total{finished_reason="length"} 2
        llamacpp:requests_processing 2
        not a sample
        """
        let values = MetricsSampler.parse(text)
        #expect(values["num_requests_running"] == 3)
        #expect(values["kv_cache_bytes_used"] == 1_500_000)
        #expect(values["requests_processing"] == 2)
        #expect(values["request_success_total"] == 9)  // label sets summed
        #expect(values.count == 4)
    }

    @Test func reportRendersTablesRatiosAndJSONLines() throws {
        let report = try Self.report()
        #expect(report.ratios.count == 1 && report.ratios[0].ratio == 2)
        let markdown = report.markdown
        #expect(markdown.contains("| entropyinfer | 2 | 2/3 | HTTP 503 ×1 | 4.0 | 13.3 | 1.00 | 500.0 | 1000.0 | 1000.0 | 100.0 |"))
        #expect(markdown.contains("| 2 | 4.0 | 2.0 | 2.00 |"))
        #expect(markdown.contains("nearest-rank"))
        #expect(markdown.contains("queue full"))
        let lines = report.jsonLines
        #expect(lines.count == 3)
        let first = try JSONValue.parse(lines[0])
        #expect(first["type"] == "level" && first["clients"] == 2 && first["failures"]?["HTTP 503"] == 1)
        #expect(first["ttft_ms"]?["p50"]?.doubleValue.map { abs($0 - 500) < 1e-6 } == true)
        #expect(first["percentiles"] == "nearest-rank")
        #expect(first["decode_tokens_per_s"]?.doubleValue.map { abs($0 - 2 * 6 / 0.9) < 1e-9 } == true)
        let ratio = try JSONValue.parse(lines[2])
        #expect(ratio["type"] == "ratio" && ratio["ratio"] == 2.0)
    }
}
