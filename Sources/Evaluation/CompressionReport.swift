import Foundation
import JSON
import KVMemory

/// One line of the KV compression table: a policy at a context length on one task (and haystack).
public struct CompressionRow: Sendable {
    public var policy: KVCompressionPolicy
    public var context: Int
    public var task: CompressionTask
    public var haystack: Haystack.Kind?
    public var outcomes: [CompressionOutcome]

    public var taskLabel: String { haystack.map { "\(task.rawValue)/\($0.rawValue)" } ?? task.rawValue }
    /// Mean answer score (needle tasks).
    public var meanScore: Double? {
        let scores = outcomes.compactMap(\.score)
        return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }
    /// Mean score per depth, depths ascending.
    public var depthScores: [(depth: Double, score: Double)] {
        Dictionary(grouping: outcomes.filter { $0.depth != nil && $0.score != nil }, by: { $0.depth! })
            .map { depth, group in (depth, group.map { $0.score! }.reduce(0, +) / Double(group.count)) }
            .sorted { $0.depth < $1.depth }
    }
    /// decode-kl rows merged over windows.
    public var statistics: NextTokenStatistics? {
        let all = outcomes.compactMap(\.statistics)
        guard !all.isEmpty else { return nil }
        var merged = NextTokenStatistics()
        for statistics in all { merged.merge(statistics) }
        return merged
    }
    /// KV bytes held at the end over the uncompressed bytes of the same positions, over every sample.
    public var heldFraction: Double {
        Double(outcomes.reduce(0) { $0 + $1.heldBytes }) / Double(max(1, outcomes.reduce(0) { $0 + $1.uncompressedBytes }))
    }
}

/// The results of a compression run: rows and every answer.
public struct CompressionReport: Sendable {
    public var modelPath: String
    public var plan: CompressionPlan
    public var outcomes: [CompressionOutcome]
    public var elapsedSeconds: Double

    public init(modelPath: String, plan: CompressionPlan, outcomes: [CompressionOutcome], elapsedSeconds: Double) {
        self.modelPath = modelPath; self.plan = plan; self.outcomes = outcomes; self.elapsedSeconds = elapsedSeconds
    }

    /// Rows ordered by context, task, haystack, then policy in run order.
    public var rows: [CompressionRow] {
        var rows: [CompressionRow] = []
        for outcome in outcomes {
            if let index = rows.firstIndex(where: {
                $0.policy == outcome.policy && $0.context == outcome.context && $0.task == outcome.task && $0.haystack == outcome.haystack
            }) {
                rows[index].outcomes.append(outcome)
            } else {
                rows.append(CompressionRow(policy: outcome.policy, context: outcome.context, task: outcome.task,
                                           haystack: outcome.haystack, outcomes: [outcome]))
            }
        }
        let policyOrder = plan.runPolicies
        return rows.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if x.context != y.context { return x.context < y.context }
            if x.task != y.task { return x.task < y.task }
            if x.haystack != y.haystack { return (x.haystack?.rawValue ?? "") < (y.haystack?.rawValue ?? "") }
            let px = policyOrder.firstIndex(of: x.policy) ?? 0, py = policyOrder.firstIndex(of: y.policy) ?? 0
            return px != py ? px < py : a.offset < b.offset
        }.map(\.element)
    }

    public func table() -> String {
        let header = ["policy", "context", "task", "samples", "score", "by depth", "compressed before / during answer",
                      "KV held", "NLL", "KL(none‖p)", "top-1 ="]
        var lines: [[String]] = [header]
        for row in rows {
            var cells = [row.policy.label, String(row.context), row.taskLabel, String(row.outcomes.count)]
            if let statistics = row.statistics {
                cells += ["-", "-", compressedCounts(row), String(format: "%.1f%%", row.heldFraction * 100),
                          String(format: "%.4f", statistics.meanNLL), String(format: "%.5f", statistics.meanKL),
                          String(format: "%.1f%%", statistics.topAgreement * 100)]
            } else {
                cells.append(String(format: "%.1f%%", (row.meanScore ?? 0) * 100))
                cells.append(row.depthScores.map { String(format: "%.0f%%:%.2f", $0.depth * 100, $0.score) }.joined(separator: " "))
                cells += [compressedCounts(row), String(format: "%.1f%%", row.heldFraction * 100), "-", "-", "-"]
            }
            lines.append(cells)
        }
        return TextTable.render(lines)
    }

    private func compressedCounts(_ row: CompressionRow) -> String {
        if row.policy.isNone { return "-" }
        let count = row.outcomes.count
        return "\(row.outcomes.filter(\.compressedBeforeAnswer).count)/\(count) / \(row.outcomes.filter(\.compressedDuringAnswer).count)/\(count)"
    }

    public func sampleNote() -> String {
        var notes: [String] = []
        if plan.tasks.contains(where: \.isNeedle) {
            notes.append("needle tasks: \(plan.samples) sample(s) per context × haystack × depth (depths \(TextTable.percentages(plan.depths))); score = fraction of the listed numbers or variables in a greedy answer (niah-multivalue, niah-multiquery: ≤ 64 tokens; vt: ≤ 32), second-turn = exact first number after a \(CompressionTask.summaryTokens)-token summary turn")
        }
        if plan.tasks.contains(.decodeKL) {
            notes.append("decode-kl: \(plan.continuationTokens) tokens of the text in \(plan.corpusDirectory) after a window of context − \(plan.continuationTokens) tokens, teacher-forced; NLL in nats/token; KL(none‖policy) against the uncompressed cache at every step")
        }
        notes.append("compressed before / during answer: samples whose cache had been compressed before the answer's first token (second-turn: before the question) / before its last; KV held = bytes held at the end over the uncompressed bytes of the same positions")
        notes.append(String(format: "seed %llu; total %.0f s", plan.seed, elapsedSeconds))
        return notes.joined(separator: "\n")
    }

    public func json() -> JSONValue {
        let rowValues: [JSONValue] = rows.map { row in
            var object: JSONObject = [
                "policy": .string(row.policy.label), "policy_config": .string(row.policy.description),
                "context": .int(row.context), "task": .string(row.task.rawValue), "samples": .int(row.outcomes.count),
                "kv_held_fraction": jsonNumber(row.heldFraction),
                "compressed_before_answer": .int(row.outcomes.filter(\.compressedBeforeAnswer).count),
                "compressed_during_answer": .int(row.outcomes.filter(\.compressedDuringAnswer).count),
            ]
            if let haystack = row.haystack { object["haystack"] = .string(haystack.rawValue) }
            if let score = row.meanScore { object["score"] = jsonNumber(score) }
            if let statistics = row.statistics {
                object["scored_tokens"] = .int(statistics.count)
                object["mean_nll"] = jsonNumber(statistics.meanNLL)
                object["uncompressed_mean_nll"] = jsonNumber(statistics.denseMeanNLL)
                object["mean_kl_vs_uncompressed"] = jsonNumber(statistics.meanKL)
                object["top1_agreement"] = jsonNumber(statistics.topAgreement)
            }
            return .object(object)
        }
        let answers: [JSONValue] = outcomes.filter { $0.score != nil }.map { outcome in
            .object([
                "policy": .string(outcome.policy.label), "context": .int(outcome.context), "task": .string(outcome.task.rawValue),
                "haystack": .string(outcome.haystack?.rawValue ?? ""), "depth": jsonNumber(outcome.depth ?? 0),
                "sample": .int(outcome.sampleIndex), "prompt_tokens": .int(outcome.promptTokens),
                "expected": .array(outcome.expected.map { .string($0) }), "answer": .string(outcome.answer),
                "score": jsonNumber(outcome.score ?? 0), "compressions": .int(outcome.compressions),
                "longest_round_seconds": jsonNumber(outcome.longestRoundSeconds),
                "first_compression_step": outcome.firstCompressionStep.map { .int($0) } ?? .null,
                "answer_start_step": .int(outcome.answerStartStep),
                "kv_held_bytes": .int(outcome.heldBytes), "kv_uncompressed_bytes": .int(outcome.uncompressedBytes),
                "needle_tokens": .int(outcome.needleTokens),
                "needle_tokens_held": .array(outcome.needleTokensHeld.map { .array($0.map { .int($0) }) }),
            ])
        }
        return .object(["model": .string(modelPath), "rows": .array(rowValues), "answers": .array(answers),
                        "elapsed_seconds": jsonNumber(elapsedSeconds)])
    }
}

extension KVCompressionPolicy {
    /// The policy's name as evaluation tables and progress lines print it: `policy:budget` when
    /// its other knobs are the defaults, else every knob.
    public var label: String {
        var defaults = KVCompressionPolicy(kind: kind)
        defaults.budget = budget
        return isNone || self == defaults ? shortDescription : description
    }
}
