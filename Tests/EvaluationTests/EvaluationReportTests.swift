import Attention
import Evaluation
import JSON
import Testing

@Suite struct EvaluationReportTests {
    func outcome(_ policy: AttentionPolicy, depth: Double, correct: Bool, seconds: Double,
                 haystack: Haystack.Kind = .noise) -> NeedleOutcome {
        NeedleOutcome(policy: policy, task: .needleSingle, haystack: haystack, context: 4096, depth: depth, sampleIndex: 0,
                      promptTokens: 4000, expected: "1234567", answer: correct ? " 1234567." : " 7654321.",
                      score: correct ? 1 : 0, prefillSeconds: seconds,
                      attentionPairsComputed: policy.isDense ? 1000 : 400, attentionPairsDense: 1000)
    }

    @Test func rowsGroupOutcomesPerPolicyContextTaskAndHaystack() throws {
        let entropy = AttentionPolicy(kind: .entropy)
        let outcomes = [
            outcome(entropy, depth: 0.9, correct: false, seconds: 2),
            outcome(.dense, depth: 0.1, correct: true, seconds: 4),
            outcome(entropy, depth: 0.1, correct: true, seconds: 1),
            outcome(.dense, depth: 0.9, correct: true, seconds: 6),
            outcome(.dense, depth: 0.1, correct: false, seconds: 5, haystack: .text),
        ]
        var statistics = NextTokenStatistics()
        statistics.add(dense: [2, 0, 0], policy: [1, 0, 0], vocabularySize: 3, target: 0)
        var ppl = PerplexityEvaluator.PolicyResult(policy: entropy, context: 4096)
        ppl.statistics = statistics
        ppl.windowSeconds = [3, 5]
        let rows = EvaluationReport.rows(needles: outcomes, perplexity: [ppl], policies: [.dense, entropy])
        #expect(rows.map { $0.taskLabel } == ["niah-single/noise", "niah-single/text", "niah-single/noise", "ppl"])
        #expect(rows.map { $0.policy.kind } == [AttentionPolicy.Kind.dense, .dense, .entropy, .entropy])
        let denseNoise = rows[0]
        #expect(denseNoise.sampleCount == 2 && denseNoise.accuracy == 1 && denseNoise.meanPrefillSeconds == 5)
        let entropyNoise = rows[2]
        #expect(entropyNoise.accuracy == 0.5)
        #expect(entropyNoise.attentionComputedFraction == 0.4)
        #expect(denseNoise.attentionComputedFraction == 1)
        #expect(rows[3].attentionComputedFraction == nil)
        #expect(entropyNoise.depthScores.map { $0.depth } == [0.1, 0.9])
        #expect(entropyNoise.depthScores.map { $0.correct } == [1, 0])
        #expect(rows[3].meanPrefillSeconds == 4 && rows[3].scoredTokenCount == 1)

        let plan = EvaluationPlan(modelPath: "m.gguf", threadCount: 2, policies: [.dense, entropy], contexts: [4096],
                                  tasks: [.needleSingle, .perplexity])
        let report = EvaluationReport(modelPath: "m.gguf", plan: plan, rows: rows, outcomes: outcomes, elapsedSeconds: 10)
        let table = report.table().split(separator: "\n")
        #expect(table.count == 5)
        #expect(table[3].contains("1/2 (50%)") && table[3].contains("10%:1/1 90%:0/1"))
        #expect(table[4].contains("2 win / 1 pos"))
        let json = try JSONValue.parse(report.json().jsonText).objectValue!
        #expect(json["rows"]?.arrayValue?.count == 4)
        #expect(json["answers"]?.arrayValue?.count == 5)
        let pplRow = json["rows"]!.arrayValue![3].objectValue!
        #expect(pplRow["mean_kl_vs_dense"]?.doubleValue ?? 0 > 0)
        #expect(pplRow["scored_tokens"]?.intValue == 1)
    }

    @Test func plansAreCheckedBeforeAModelLoads() {
        let good = EvaluationPlan(modelPath: "m", threadCount: 1, policies: [.dense], contexts: [1024], tasks: [.perplexity])
        #expect(throws: Never.self) { try good.validate() }
        var plan = good
        plan.policies = []
        #expect(throws: EvaluationError.self) { try plan.validate() }
        plan = good
        plan.depths = [1.5]
        #expect(throws: EvaluationError.self) { try plan.validate() }
        plan = good
        plan.contexts = [32]
        #expect(throws: EvaluationError.self) { try plan.validate() }
        plan = good
        plan.tasks = [.needleMulti]
        plan.haystacks = []
        #expect(throws: EvaluationError.self) { try plan.validate() }
        // The reference rule has no prompt-end score short of a full prefill per position.
        plan = good
        plan.tasks = [.perplexity, .perplexityAtPromptEnd]
        plan.policies = [.dense, AttentionPolicy(kind: .entropy)]
        #expect(throws: Never.self) { try plan.validate() }
        plan.policies.append(AttentionPolicy(kind: .reference))
        #expect(throws: EvaluationError.self) { try plan.validate() }
        plan.tasks = [.perplexity]
        #expect(throws: Never.self) { try plan.validate() }
    }

    @Test func prefillCountsFollowThePlan() {
        let plan = EvaluationPlan(modelPath: "m", threadCount: 1,
                                  policies: [.dense, AttentionPolicy(kind: .entropy), AttentionPolicy(kind: .uniform)],
                                  contexts: [4096, 8192], tasks: [.needleSingle, .needleMulti, .perplexity],
                                  haystacks: [.noise, .text], depths: [0.1, 0.5, 0.9], samples: 2, windows: 3)
        #expect(plan.needleSampleCount == 2 * 2 * 2 * 3 * 2)
        #expect(plan.prefillsPerContext.needle == 2 * 2 * 3 * 2 * 3)
        #expect(plan.prefillsPerContext.perplexity == 3 * 3)
    }
}
