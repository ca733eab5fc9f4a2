import Foundation
import JSON

/// Renders load-test results: a Markdown report (settings, one row per server, level and
/// phase, the head-of-line and throughput-ratio tables, how every number is defined), or one
/// JSON object per line.
public struct LoadTestReport: Sendable {
    public var plan: LoadTestPlan
    public var targets: [LoadTarget]
    public var results: [LevelResult]

    public init(plan: LoadTestPlan, targets: [LoadTarget], results: [LevelResult]) {
        self.plan = plan; self.targets = targets; self.results = results
    }

    /// The aggregate tokens/s of the first target over the second's, per level and phase
    /// (only with two targets).
    public var ratios: [ThroughputRatio] {
        guard targets.count == 2 else { return [] }
        let ours = results.filter { $0.server == targets[0].name }
        let theirs = results.filter { $0.server == targets[1].name }
        return ours.compactMap { mine in
            guard let other = theirs.first(where: { $0.clientCount == mine.clientCount && $0.phase == mine.phase }) else { return nil }
            return ThroughputRatio(clientCount: mine.clientCount, phase: mine.phase, ours: mine.tokensPerSecond,
                                   theirs: other.tokensPerSecond)
        }
    }

    // MARK: Markdown

    public var markdown: String {
        var lines: [String] = ["## Load test", ""]
        for target in targets {
            lines.append("- \(target.name): \(target.client.endpoint) (model \(target.model ?? "unnamed"))")
        }
        lines.append("- " + loadDescription)
        lines.append("")
        let showsPhase = plan.turnCount > 1 || plan.backgroundPromptTokens != nil
        var header = ["server", "clients"] + (showsPhase ? ["phase"] : []) + ["ok/sent", "errors", "gen tok/s", "decode tok/s", "req/s",
            "TTFT p50", "p90", "p99", "ITL p50", "p90", "p99", "E2E p50", "p90", "p99", "prompt tok", "cached tok"]
        if plan.turnCount == 1 && plan.sharedPrefixTokens == 0 { header.removeLast() }
        lines += Self.table(header: header, rows: results.map { result in
            var row = [result.server, "\(result.clientCount)"] + (showsPhase ? [result.phase] : [])
            row += ["\(result.succeededCount)/\(result.requestCount)", Self.failureText(result.failures),
                    Self.format(result.tokensPerSecond, digits: 1), Self.format(result.decodeTokensPerSecond, digits: 1),
                    Self.format(result.requestsPerSecond, digits: 2)]
            for summary in [result.timeToFirstToken, result.interTokenLatency, result.endToEndLatency] {
                row += [summary.p50, summary.p90, summary.p99].map { Self.format($0, digits: 1) }
            }
            row.append(Self.format(result.promptTokens.mean, digits: 0))
            if header.count > row.count { row.append(Self.format(result.cachedTokens.mean, digits: 0)) }
            return row
        })

        let loadRows = results.filter { $0.serverLoad != nil }
        if !loadRows.isEmpty {
            lines += ["", "Server load, from its /metrics sampled every 0.25 s while each level ran:", ""]
            lines += Self.table(
                header: ["server", "clients"] + (showsPhase ? ["phase"] : []) + ["samples", "peak running", "mean running",
                                                                                "peak decoding", "mean decoding", "peak KV MiB", "preemptions"],
                rows: loadRows.map { result in
                    let load = result.serverLoad!
                    return [result.server, "\(result.clientCount)"] + (showsPhase ? [result.phase] : [])
                        + ["\(load.sampleCount)", "\(load.peakRunning)", Self.format(load.meanRunning, digits: 2),
                           load.peakDecoding.map(String.init) ?? "–", Self.format(load.meanDecoding, digits: 2),
                           Self.format(load.peakKVBytes.map { $0 / 1_048_576 }, digits: 1),
                           load.preemptions.map(String.init) ?? "–"]
                })
        }

        let backgroundRows = results.filter { $0.background != nil }
        if !backgroundRows.isEmpty {
            lines += ["", "Head-of-line: short requests started while the background request (\(plan.backgroundPromptTokens ?? 0) "
                          + "prompt tokens) had not yet produced its first token, against the same level unloaded (ms).", ""]
            lines += Self.table(
                header: ["server", "clients", "bg prompt tok", "bg TTFT", "overlapping", "TTFT p50", "p90", "p99", "idle TTFT p50", "idle p90"],
                rows: backgroundRows.map { result in
                    let background = result.background!
                    let idle = results.first { $0.server == result.server && $0.clientCount == result.clientCount && $0.phase == "idle" }
                    return [result.server, "\(result.clientCount)", background.promptTokens.map(String.init) ?? "–",
                            background.failure.map { "failed: \($0)" } ?? Self.format(background.timeToFirstToken, digits: 1),
                            "\(background.overlappingTimeToFirstToken.count)",
                            Self.format(background.overlappingTimeToFirstToken.p50, digits: 1),
                            Self.format(background.overlappingTimeToFirstToken.p90, digits: 1),
                            Self.format(background.overlappingTimeToFirstToken.p99, digits: 1),
                            Self.format(idle?.timeToFirstToken.p50, digits: 1), Self.format(idle?.timeToFirstToken.p90, digits: 1)]
                })
        }

        let ratios = self.ratios
        if !ratios.isEmpty {
            lines += ["", "Aggregate generated tokens/s, \(targets[0].name) / \(targets[1].name):", ""]
            lines += Self.table(
                header: ["clients"] + (showsPhase ? ["phase"] : []) + [targets[0].name, targets[1].name, "ratio"],
                rows: ratios.map { ratio in
                    ["\(ratio.clientCount)"] + (showsPhase ? [ratio.phase] : [])
                        + [Self.format(ratio.ours, digits: 1), Self.format(ratio.theirs, digits: 1), Self.format(ratio.ratio, digits: 2)]
                })
        }

        let examples = results.flatMap { result in result.failureExamples.map { "\(result.server), \(result.clientCount) clients, \($0.key): \($0.value)" } }
        if !examples.isEmpty { lines += ["", "Errors:"] + Set(examples).sorted().map { "- " + $0 } }
        let mismatched = results.reduce(0) { $0 + $1.mismatchedLengthCount }
        if mismatched > 0 {
            lines += ["", "Warning: \(mismatched) succeeded request\(mismatched == 1 ? "" : "s") generated a number of tokens other than "
                          + "max_tokens \(plan.maxTokens) (does the server honour ignore_eos?)."]
        }
        lines += ["", Self.definitions]
        return lines.joined(separator: "\n")
    }

    var loadDescription: String {
        var parts = ["user messages of about \(plan.promptTokens) tokens of synthetic text (seed \(plan.seed))"]
        if plan.sharedPrefixTokens > 0 { parts.append("sharing a \(plan.sharedPrefixTokens)-token prefix") }
        parts.append("max_tokens \(plan.maxTokens) with ignore_eos, temperature 0, streamed with usage")
        if let durationSeconds = plan.durationSeconds {
            parts.append("clients start requests for \(Self.format(durationSeconds, digits: 0)) s per level")
        } else if let requestsPerLevel = plan.requestsPerLevel {
            parts.append("\(requestsPerLevel) \(plan.turnCount > 1 ? "conversations" : "requests") per level")
        } else {
            parts.append("4 \(plan.turnCount > 1 ? "conversations" : "requests") per client per level")
        }
        if plan.turnCount > 1 { parts.append("\(plan.turnCount) turns each (history, answer and a new question resent)") }
        if plan.warmupRequests > 0 { parts.append("\(plan.warmupRequests) warm-up requests per server") }
        return parts.joined(separator: "; ")
    }

    static let definitions = """
        Times in ms. TTFT: from connecting to the first stream event carrying generated text. ITL: gaps between \
        consecutive text-carrying events, pooled over the level's requests. E2E: connecting to `data: [DONE]`. \
        gen tok/s: server-reported completion tokens of the level's succeeded requests (all turns) over the level's \
        wall time (first request start to last request end); req/s likewise. decode tok/s: the rate of the \
        running streams with prefill left out, clients × (text events after each request's first) / (seconds from \
        its first to its last text event), summed over the level's succeeded requests. Percentiles are nearest-rank on the \
        sorted samples (the sample of rank ⌈p·n/100⌉; with fewer than 100 samples p99 is the maximum). One run on a \
        shared machine: treat differences under ~30 % as noise.
        """

    // MARK: JSON lines

    /// One JSON object per result (`"type": "level"`), then one per ratio (`"type": "ratio"`).
    public var jsonLines: [String] {
        results.map { Self.json($0).jsonText } + ratios.map { Self.json($0).jsonText }
    }

    public static func json(_ result: LevelResult) -> JSONValue {
        var object: JSONObject = [
            "type": "level", "server": .string(result.server), "model": result.model.map(JSONValue.string) ?? .null,
            "clients": .int(result.clientCount), "phase": .string(result.phase),
            "requests": .int(result.requestCount), "succeeded": .int(result.succeededCount),
            "failures": .object(JSONObject(result.failures.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })),
            "wall_s": .double(result.wallSeconds), "generated_tokens": .int(result.generatedTokens),
            "content_events": .int(result.contentEventCount), "mismatched_length": .int(result.mismatchedLengthCount),
            "tokens_per_s": .double(result.tokensPerSecond),
            "decode_tokens_per_s": .double(result.decodeTokensPerSecond), "requests_per_s": .double(result.requestsPerSecond),
            "ttft_ms": json(result.timeToFirstToken), "itl_ms": json(result.interTokenLatency),
            "e2e_ms": json(result.endToEndLatency), "prompt_tokens": json(result.promptTokens),
            "cached_tokens": json(result.cachedTokens), "percentiles": "nearest-rank",
        ]
        if let load = result.serverLoad {
            object["server_load"] = [
                "samples": .int(load.sampleCount), "peak_running": .int(load.peakRunning),
                "mean_running": .double(load.meanRunning),
                "peak_decoding": load.peakDecoding.map(JSONValue.int) ?? .null,
                "mean_decoding": load.meanDecoding.map(JSONValue.double) ?? .null,
                "peak_kv_bytes": load.peakKVBytes.map(JSONValue.double) ?? .null,
                "preemptions": load.preemptions.map(JSONValue.int) ?? .null,
            ]
        }
        if let background = result.background {
            object["background"] = [
                "prompt_tokens": background.promptTokens.map(JSONValue.int) ?? .null,
                "ttft_ms": background.timeToFirstToken.map(JSONValue.double) ?? .null,
                "failure": background.failure.map(JSONValue.string) ?? .null,
                "overlapping_ttft_ms": json(background.overlappingTimeToFirstToken),
            ]
        }
        return .object(object)
    }

    public static func json(_ ratio: ThroughputRatio) -> JSONValue {
        ["type": "ratio", "clients": .int(ratio.clientCount), "phase": .string(ratio.phase),
         "ours_tokens_per_s": .double(ratio.ours), "theirs_tokens_per_s": .double(ratio.theirs),
         "ratio": ratio.ratio.map(JSONValue.double) ?? .null]
    }

    static func json(_ summary: SampleSummary) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
        return ["count": .int(summary.count), "mean": number(summary.mean), "min": number(summary.minimum),
                "p50": number(summary.p50), "p90": number(summary.p90), "p99": number(summary.p99), "max": number(summary.maximum)]
    }

    // MARK: Formatting

    static func table(header: [String], rows: [[String]]) -> [String] {
        func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        return [line(header), line(header.map { _ in "---" })] + rows.map(line)
    }

    static func format(_ value: Double?, digits: Int) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    static func failureText(_ failures: [String: Int]) -> String {
        failures.isEmpty ? "0" : failures.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}

/// Aggregate tokens/s of two servers at one level and phase.
public struct ThroughputRatio: Sendable {
    public var clientCount: Int
    public var phase: String
    public var ours: Double
    public var theirs: Double
    /// ours / theirs; nil when the second server produced nothing.
    public var ratio: Double? { theirs > 0 ? ours / theirs : nil }
}
