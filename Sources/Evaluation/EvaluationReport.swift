import Attention
import Foundation
import JSON

/// One line of the result table: a policy at a context length on one task.
public struct EvaluationRow: Sendable {
    public var policy: AttentionPolicy
    public var context: Int
    public var task: EvaluationTask
    /// Needle tasks: the haystack; nil for ppl.
    public var haystack: Haystack.Kind?
    /// Needle tasks: prompts answered. ppl: windows run.
    public var sampleCount: Int
    /// ppl: positions scored over all windows.
    public var scoredTokenCount: Int = 0
    /// Needle tasks: (depth, correct, total), depths ascending.
    public var depthScores: [(depth: Double, correct: Int, total: Int)] = []
    public var statistics: NextTokenStatistics?
    /// Mean prefill wall time per sample (needle: time to first token; ppl: window forward).
    public var meanPrefillSeconds: Double
    /// Attention query-key pairs computed over what dense attention computes, over every
    /// prefill of the row (nil when nothing was counted).
    public var attentionComputedFraction: Double? = nil

    public var taskLabel: String { haystack.map { "\(task.rawValue)/\($0.rawValue)" } ?? task.rawValue }

    public var correctCount: Int { depthScores.reduce(0) { $0 + $1.correct } }
    public var accuracy: Double? {
        task.isNeedle && sampleCount > 0 ? Double(correctCount) / Double(sampleCount) : nil
    }
}

/// The results of a run: the table rows and every needle answer.
public struct EvaluationReport: Sendable {
    public var modelPath: String
    public var plan: EvaluationPlan
    public var rows: [EvaluationRow]
    public var outcomes: [NeedleOutcome]
    public var elapsedSeconds: Double

    public init(modelPath: String, plan: EvaluationPlan, rows: [EvaluationRow], outcomes: [NeedleOutcome],
                elapsedSeconds: Double) {
        self.modelPath = modelPath; self.plan = plan; self.rows = rows; self.outcomes = outcomes
        self.elapsedSeconds = elapsedSeconds
    }

    /// Rows from outcomes (needle tasks) and ppl results, ordered policy, context, task.
    public static func rows(needles outcomes: [NeedleOutcome], perplexity: [PerplexityEvaluator.PolicyResult],
                            policies: [AttentionPolicy]) -> [EvaluationRow] {
        var rows: [EvaluationRow] = []
        var groups: [String: [NeedleOutcome]] = [:]
        var order: [String] = []
        for outcome in outcomes {
            let key = "\(outcome.policy.cacheKey)|\(outcome.context)|\(outcome.task.rawValue)|\(outcome.haystack.rawValue)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(outcome)
        }
        for key in order {
            let group = groups[key]!
            let first = group[0]
            let depths = Array(Set(group.map(\.depth))).sorted()
            let scores = depths.map { depth in
                let atDepth = group.filter { $0.depth == depth }
                return (depth: depth, correct: atDepth.filter { $0.score == 1 }.count, total: atDepth.count)
            }
            let densePairs = group.reduce(0) { $0 + $1.attentionPairsDense }
            rows.append(EvaluationRow(policy: first.policy, context: first.context, task: first.task, haystack: first.haystack,
                                      sampleCount: group.count, depthScores: scores,
                                      meanPrefillSeconds: group.map(\.prefillSeconds).reduce(0, +) / Double(group.count),
                                      attentionComputedFraction: densePairs == 0 ? nil
                                          : Double(group.reduce(0) { $0 + $1.attentionPairsComputed }) / Double(densePairs)))
        }
        for result in perplexity {
            rows.append(EvaluationRow(policy: result.policy, context: result.context, task: result.task, haystack: nil,
                                      sampleCount: result.windowSeconds.count, scoredTokenCount: result.statistics.count,
                                      statistics: result.statistics,
                                      meanPrefillSeconds: result.windowSeconds.reduce(0, +) / Double(max(1, result.windowSeconds.count)),
                                      attentionComputedFraction: result.attention.pairsDense == 0 ? nil
                                          : Double(result.attention.pairsComputed) / Double(result.attention.pairsDense)))
        }
        let policyOrder = policies.map(\.cacheKey)
        return rows.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let px = policyOrder.firstIndex(of: x.policy.cacheKey) ?? 0, py = policyOrder.firstIndex(of: y.policy.cacheKey) ?? 0
            if px != py { return px < py }
            if x.context != y.context { return x.context < y.context }
            if x.task != y.task { return x.task < y.task }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// The table people read: one line per policy × context × task.
    public func table() -> String {
        let header = ["policy", "context", "task", "samples", "accuracy", "by depth", "NLL", "ΔNLL % ± SE", "PPL", "KL(dense‖p)", "top-1 =", "attn %", "prefill s"]
        var lines: [[String]] = [header]
        for row in rows {
            var cells = [row.policy.label, String(row.context), row.taskLabel]
            if let statistics = row.statistics {
                cells.append("\(row.sampleCount) win / \(row.scoredTokenCount) pos")
                cells += ["-", "-", String(format: "%.4f", statistics.meanNLL), Self.relativeDifference(statistics),
                          String(format: "%.3f", statistics.perplexity),
                          String(format: "%.5f", statistics.meanKL), String(format: "%.1f%%", statistics.topAgreement * 100)]
            } else {
                cells.append(String(row.sampleCount))
                cells.append(String(format: "%d/%d (%.0f%%)", row.correctCount, row.sampleCount, (row.accuracy ?? 0) * 100))
                cells.append(row.depthScores.map { String(format: "%.0f%%:%d/%d", $0.depth * 100, $0.correct, $0.total) }
                    .joined(separator: " "))
                cells += ["-", "-", "-", "-", "-"]
            }
            cells.append(row.attentionComputedFraction.map { String(format: "%.1f", $0 * 100) } ?? "-")
            cells.append(String(format: "%.2f", row.meanPrefillSeconds))
            lines.append(cells)
        }
        return TextTable.render(lines)
    }

    /// The policy's NLL against dense's in percent, ± one paired standard error: "-3.41 ± 1.20".
    static func relativeDifference(_ statistics: NextTokenStatistics) -> String {
        let dense = statistics.denseMeanNLL
        guard dense > 0, statistics.count > 1 else { return "-" }
        return String(format: "%+.2f ± %.2f", statistics.meanNLLDifference / dense * 100,
                      statistics.nllDifferenceStandardError / dense * 100)
    }

    /// A note on what the numbers mean and how many samples stand behind them.
    public func sampleNote() -> String {
        var notes: [String] = []
        if plan.tasks.contains(where: \.isNeedle) {
            notes.append("needle tasks: \(plan.samples) sample(s) per context × haystack × depth (depths \(TextTable.percentages(plan.depths))); accuracy = exact match of the first number of a greedy answer (≤ \(plan.maxAnswerTokens) tokens); prefill s = time to first token")
        }
        if plan.tasks.contains(where: \.isPerplexity) {
            notes.append("ppl: consecutive windows of the license text (up to \(plan.windows) per context), one unchunked prefill per window and policy; \(plan.scoredPositions) positions per window scored, evenly spaced over the window's second half; NLL in nats/token; ΔNLL % = (NLL − dense NLL) / dense NLL ± one standard error of the paired per-position difference (positions of one text are correlated: a lower bound of the uncertainty); KL(dense‖policy) in nats/token on the same positions; top-1 = same argmax as dense; prefill s = window forward time")
            if plan.tasks.contains(.perplexityAtPromptEnd) {
                notes.append("ppl-end: the same positions, each predicted as the last token of a prompt that stops just before its target, as the engine prefills that prompt (the window's cache before the position's segment is shared, the segment runs again on a fork); ppl's positions sit inside a longer prompt, where a sparse segment's blocks are chosen with the segment's later queries; attn % and prefill s are the window prefill's")
            }
            notes.append("attn % = attention query-key pairs computed as a share of dense causal attention over the same prefills")
        }
        notes.append(String(format: "seed %llu; total %.0f s", plan.seed, elapsedSeconds))
        return notes.joined(separator: "\n")
    }

    public func json() -> JSONValue {
        let planObject: JSONObject = [
            "policies": .array(plan.policies.map { .string($0.cacheKey) }),
            "contexts": .array(plan.contexts.map { .int($0) }),
            "tasks": .array(plan.tasks.map { .string($0.rawValue) }),
            "haystacks": .array(plan.haystacks.map { .string($0.rawValue) }),
            "depths": .array(plan.depths.map { .double($0) }),
            "samples": .int(plan.samples),
            "windows": .int(plan.windows),
            "scored_positions_per_window": .int(plan.scoredPositions),
            "seed": .string(String(plan.seed)),
            "max_answer_tokens": .int(plan.maxAnswerTokens),
        ]
        let rowValues: [JSONValue] = rows.map { row in
            var object: JSONObject = [
                "policy": .string(row.policy.label),
                "policy_config": .string(row.policy.cacheKey),
                "context": .int(row.context),
                "task": .string(row.task.rawValue),
                "samples": .int(row.sampleCount),
                "mean_prefill_seconds": jsonNumber(row.meanPrefillSeconds),
            ]
            if let fraction = row.attentionComputedFraction { object["attention_pairs_computed_fraction"] = jsonNumber(fraction) }
            if let haystack = row.haystack { object["haystack"] = .string(haystack.rawValue) }
            if let accuracy = row.accuracy {
                object["accuracy"] = jsonNumber(accuracy)
                object["by_depth"] = .array(row.depthScores.map {
                    .object(["depth": .double($0.depth), "correct": .int($0.correct), "total": .int($0.total)])
                })
            }
            if let statistics = row.statistics {
                object["scored_tokens"] = .int(statistics.count)
                object["mean_nll"] = jsonNumber(statistics.meanNLL)
                object["perplexity"] = jsonNumber(statistics.perplexity)
                object["dense_mean_nll"] = jsonNumber(statistics.denseMeanNLL)
                object["nll_difference_standard_error"] = jsonNumber(statistics.nllDifferenceStandardError)
                object["mean_kl_vs_dense"] = jsonNumber(statistics.meanKL)
                object["top1_agreement"] = jsonNumber(statistics.topAgreement)
            }
            return .object(object)
        }
        let answers: [JSONValue] = outcomes.map { outcome in
            .object([
                "policy": .string(outcome.policy.label), "context": .int(outcome.context),
                "task": .string(outcome.task.rawValue), "haystack": .string(outcome.haystack.rawValue),
                "depth": .double(outcome.depth), "sample": .int(outcome.sampleIndex),
                "prompt_tokens": .int(outcome.promptTokens), "expected": .string(outcome.expected),
                "answer": .string(outcome.answer), "correct": .bool(outcome.score == 1),
                "prefill_seconds": jsonNumber(outcome.prefillSeconds),
                "attention_pairs_computed": .int(outcome.attentionPairsComputed),
                "attention_pairs_dense": .int(outcome.attentionPairsDense),
            ])
        }
        return .object([
            "model": .string(modelPath), "plan": .object(planObject), "rows": .array(rowValues),
            "answers": .array(answers), "elapsed_seconds": jsonNumber(elapsedSeconds),
        ])
    }
}
