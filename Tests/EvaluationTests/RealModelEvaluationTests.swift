import Attention
import Evaluation
import Foundation
import GGUF
import Kernels
import KVMemory
import Models
import Testing
import Tokenization
import TestSupport

/// The evaluation pipeline on a real model (SmolLM2-135M-Instruct), small enough for the suite.
@Suite(.serialized) struct RealModelEvaluationTests {
    func modelPath() throws -> String { try smolLM2Path() }

    @Test func singleNeedleAtOneKilotokenRunsThroughTheEngine() throws {
        let plan = EvaluationPlan(modelPath: try modelPath(), threadCount: 2, policies: [.dense], contexts: [1024],
                                  tasks: [.needleSingle], haystacks: [.noise], depths: [0.5], samples: 1, seed: 11)
        let report = try EvaluationRunner(plan: plan).run()
        #expect(report.outcomes.count == 1)
        let outcome = try #require(report.outcomes.first)
        // The prompt fills the context less the 12 answer tokens: the haystack grows to the last
        // sentence that fits.
        #expect(outcome.promptTokens <= 1024 - 12 && outcome.promptTokens > 990)
        #expect(outcome.context == 1024)
        #expect(!outcome.answer.isEmpty)
        #expect(outcome.expected.count == 7)
        #expect(outcome.score == AnswerScorer.score(answer: outcome.answer, expected: outcome.expected))
        #expect(outcome.prefillSeconds > 0)
        let row = try #require(report.rows.first)
        #expect(report.rows.count == 1)
        #expect(row.accuracy == outcome.score)
        #expect(report.table().contains("niah-single/noise"))
    }

    @Test func perplexityOfRepetitiveTextIsLowAndDenseAgreesWithItself() throws {
        let file = try GGUFFile(path: try modelPath())
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: 2))
        // The noise haystack repeats five sentences: after 256 tokens a model predicts it well.
        let text = tokenizer.encode(String(repeating: Haystack.noiseSentences.joined(), count: 40), addSpecial: false,
                                    parseSpecial: false)
        let evaluator = PerplexityEvaluator(model: model, scoredPositionsPerWindow: 64)
        let results = try evaluator.evaluate(text: text, context: 512, windows: 1, policies: [.dense], bos: nil)
        let statistics = try #require(results.first?.statistics)
        #expect(statistics.count == 64)
        #expect(statistics.meanNLL < 0.5, "mean NLL \(statistics.meanNLL) on text repeated 40 times")
        #expect(statistics.meanNLL > 0)
        #expect(statistics.meanKL == 0)
        #expect(statistics.topAgreement == 1)
        #expect(results[0].windowSeconds.count == 1)
    }

    /// `ppl-end` must score position t exactly as the engine's prompt `tokens[0...t]` would: the
    /// forks that share the window's cache before t's segment give the logits of each prompt
    /// prefilled on its own, with the last segment dense or sparse. Dense `ppl` rows are reused
    /// for `ppl-end`, which needs dense attention to be causal: its in-window rows equal the
    /// prompts alone too.
    @Test func promptEndScoresEqualEachPromptPrefilledOnItsOwn() throws {
        let file = try GGUFFile(path: try modelPath())
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: 2))
        let vocabulary = model.config.vocabularySize
        let tokens = Array(tokenizer.encode(syntheticProse(sentences: 200), addSpecial: false, parseSpecial: false).prefix(640))
        #expect(tokens.count == 640)
        let layout = model.kvLayout()
        let pool = try KVBlockPool(layout: layout, budgetBytes: 2 * 48 * layout.streamCount
                                                     * (layout.bytesPerBlock + layout.summaryBytesPerBlock))
        let evaluator = PerplexityEvaluator(model: model, scoredPositionsPerWindow: 1)
        // Segments of 128: rows in the segments [256, 384), [384, 512) and [512, 640), each at
        // least 16 tokens in (a shorter tail runs dense as its own forward pass).
        let rows = [300, 383, 400, 450, 528, 639]
        var entropy = AttentionPolicy(kind: .entropy)
        entropy.segmentTokens = 128
        entropy.denseBelowTokens = 256
        // Budgets small enough that a 640-token prompt skips blocks.
        entropy.minimumBudgetTokens = 32
        entropy.maximumBudgetTokens = 96
        entropy.sinkTokens = 16
        entropy.localWindowTokens = 32
        var sparseLast = entropy
        sparseLast.denseLastSegment = false
        var checked = 0
        for policy in [AttentionPolicy.dense, entropy, sparseLast] {
            func prefill(_ prompt: [Int32], into kv: KVSequence, rows: [Int], skips: Bool = false) throws -> [Float] {
                try kv.reserve(appending: prompt.count)
                var logits = [Float](repeating: 0, count: rows.count * vocabulary)
                let batch = ForwardBatch(tokens: prompt, segments: [ForwardBatch.Segment(
                    kv: kv, tokenStart: 0, tokenCount: prompt.count, attention: policy,
                    denseFromPosition: policy.denseFromPosition(promptTokens: prompt.count))],
                                         logitRows: rows)
                let work = logits.withUnsafeMutableBufferPointer { model.forward(batch, logits: $0.baseAddress!) }
                #expect(!skips || work[0].pairsComputed < work[0].pairsDense, "\(policy.label) skipped nothing")
                return logits
            }
            let window = KVSequence(pool: pool)
            defer { window.releaseAll() }
            var scored = try prefill(tokens, into: window, rows: rows, skips: !policy.isDense)
            if !policy.isDense {
                _ = try scored.withUnsafeMutableBufferPointer {
                    try evaluator.promptEndLogits(tokens, policy: policy, windowKV: window, rows: rows, logits: $0.baseAddress!)
                }
            }
            for (index, position) in rows.enumerated() {
                let alone = KVSequence(pool: pool)
                defer { alone.releaseAll() }
                let expected = try prefill(Array(tokens[0...position]), into: alone, rows: [position])
                let got = scored[index * vocabulary..<(index + 1) * vocabulary]
                let difference = zip(got, expected).map { abs($0 - $1) }.max()!
                #expect(difference <= 1e-4, "\(policy.label) position \(position): logits differ by \(difference)")
                checked += 1
            }
        }
        #expect(checked == 3 * rows.count)
    }

    @Test func contextsBeyondTheModelAreRefusedWithTheLimit() throws {
        // A corpus of our own, so the test does not depend on /usr/share/common-licenses.
        let corpus = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        try syntheticProse(sentences: 50).write(toFile: corpus + "/text", atomically: true, encoding: .utf8)
        for task in [EvaluationTask.needleSingle, .perplexity] {
            let plan = EvaluationPlan(modelPath: try modelPath(), threadCount: 2, policies: [.dense], contexts: [16384],
                                      tasks: [task], haystacks: [.noise], corpusDirectory: corpus)
            #expect(throws: EvaluationError.contextTooLong(requested: 16384, modelContext: 8192)) {
                try EvaluationRunner(plan: plan).run()
            }
        }
    }

    @Test func promptProfileRecordsEverySparseSegmentOfEveryHead() throws {
        let file = try GGUFFile(path: try modelPath())
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: 2))
        let tokens = Array(tokenizer.encode(syntheticProse(sentences: 400), addSpecial: false, parseSpecial: false).prefix(1800))
        #expect(tokens.count == 1800)
        var policy = AttentionPolicy(kind: .entropy)
        policy.denseBelowTokens = 512
        let result = try PromptProfiler.profile(model: model, modelName: "smollm2", tokens: tokens, policy: policy)
        let profile = result.profile
        #expect(profile.segmentCount == 4)
        #expect(profile.heads.count == model.config.layerCount * model.config.kvHeadCount)
        for head in profile.heads {
            if head.layer < policy.denseLayers {
                #expect(head.entropy.allSatisfy { $0 == nil } && !head.isRigid)
                continue
            }
            // Segment 0 sees nothing; segments 1 and 2 are sparse; segment 3 is the dense last one.
            #expect(head.entropy[0] == nil && head.entropy[3] == nil)
            #expect(head.budgetTokens[0] == nil && head.budgetTokens[3] == nil)
            for segment in 1...2 {
                let entropy = try #require(head.entropy[segment])
                // Entropy over the 8-token units before the segment: between 0 and ln(units).
                #expect(entropy >= 0 && entropy <= log(Double(segment * 512 / 8)) + 1e-6)
                let budget = try #require(head.budgetTokens[segment])
                #expect(budget > 0 && budget <= segment * 512 && budget % 16 == 0)
            }
        }
        // Sparse segments computed fewer attention pairs than dense.
        #expect(result.attention.pairsComputed < result.attention.pairsDense)
        #expect(ProfileSVGRenderer().render(profile).contains("<g class=\"cell"))
    }
}
