import Attention
import Engine
import Foundation
import TestSupport
import Testing

/// The engine side of sparse prefill on the tiny model: policy resolution, whole-segment
/// chunks, prefix-cache namespaces and the attention-work accounting.
@Suite(.serialized) struct SparsePrefillEngineTests {
    /// A policy that is sparse on short prompts (64-token segments, small budgets).
    static var smallEntropy: AttentionPolicy {
        var policy = AttentionPolicy(kind: .entropy)
        policy.segmentTokens = 64; policy.denseBelowTokens = 64; policy.denseLayers = 0
        policy.minimumBudgetTokens = 32; policy.maximumBudgetTokens = 64; policy.sinkTokens = 16; policy.localWindowTokens = 16
        return policy
    }

    @Test func explicitPolicyAppliesAtAnyLengthAndReportsSkippedWork() throws {
        let engine = try TinyEngine.make()
        let prompt = TinyEngine.prompt(3, length: 400)
        let dense = collect(try engine.submit(TinyEngine.request("dense", prompt: prompt, maxTokens: 4)))
        #expect(dense.usage?.attentionPolicy == "dense")
        #expect(dense.usage?.attentionPairsComputed == dense.usage?.attentionPairsDense)
        #expect((dense.usage?.attentionPairsDense ?? 0) > 0)
        var request = TinyEngine.request("entropy", prompt: prompt, maxTokens: 4)
        request.attention = Self.smallEntropy
        let sparse = collect(try engine.submit(request))
        let usage = try #require(sparse.usage)
        #expect(usage.attentionPolicy == "entropy")
        #expect(usage.cachedTokens == 0, "dense KV is never reused under a sparse policy")
        #expect(usage.attentionPairsDense == dense.usage?.attentionPairsDense)
        #expect(usage.attentionPairsComputed < usage.attentionPairsDense)
        let metrics = engine.metrics()
        #expect(metrics.attentionPairsSkippedTotal == usage.attentionPairsDense - usage.attentionPairsComputed)
        #expect(metrics.attentionPairsTotal == 2 * usage.attentionPairsDense)
    }

    /// Whole segments whatever the step budget: the answer does not depend on chunking.
    @Test func chunkingDoesNotChangeSparseAnswers() throws {
        let prompt = TinyEngine.prompt(4, length: 450)
        var answers: [[Int32]] = []
        for budget in [100, 512] {
            let engine = try TinyEngine.make(maxBatchTokens: budget)
            var request = TinyEngine.request("b\(budget)", prompt: prompt, maxTokens: 6)
            request.attention = Self.smallEntropy
            let outcome = collect(try engine.submit(request))
            #expect(outcome.error == nil)
            answers.append(outcome.tokens)
        }
        #expect(answers[0] == answers[1])
        #expect(answers[0].count == 6)
    }

    @Test func sparsePrefixReuseStaysInItsNamespaceOnSegmentBoundaries() throws {
        let engine = try TinyEngine.make()
        let prompt = TinyEngine.prompt(5, length: 300)
        var first = TinyEngine.request("s1", prompt: prompt, maxTokens: 4)
        first.attention = Self.smallEntropy
        let answer = collect(try engine.submit(first))
        var again = TinyEngine.request("s2", prompt: prompt, maxTokens: 4)
        again.attention = Self.smallEntropy
        let reused = collect(try engine.submit(again))
        let cached = try #require(reused.usage?.cachedTokens)
        #expect(cached > 0 && cached % 64 == 0, "reuse resumes on a segment boundary (\(cached))")
        #expect(reused.tokens == answer.tokens)
        var other = Self.smallEntropy
        other.coverage = 0.5
        var knobs = TinyEngine.request("s3", prompt: prompt, maxTokens: 4)
        knobs.attention = other
        #expect(collect(try engine.submit(knobs)).usage?.cachedTokens == 0, "different knobs, different namespace")
    }

    @Test func configuredDefaultAppliesFromItsPromptLength() throws {
        var configuration = EngineConfiguration(modelPath: TinyEngine.path)
        configuration.threadCount = 2
        var policy = Self.smallEntropy
        policy.minimumPromptTokens = 200
        configuration.defaultAttention = policy
        let engine = try InferenceEngine(configuration: configuration)
        #expect(engine.resolvedAttention(for: TinyEngine.request("short", prompt: TinyEngine.prompt(1, length: 199))).isDense)
        #expect(engine.resolvedAttention(for: TinyEngine.request("long", prompt: TinyEngine.prompt(1, length: 200))) == policy)
        var explicit = TinyEngine.request("explicit", prompt: TinyEngine.prompt(1, length: 20))
        explicit.attention = AttentionPolicy(kind: .uniform)
        #expect(engine.resolvedAttention(for: explicit).kind == .uniform)
        let long = collect(try engine.submit(TinyEngine.request("long", prompt: TinyEngine.prompt(2, length: 300), maxTokens: 2)))
        #expect(long.usage?.attentionPolicy == "entropy")
    }

    @Test func referenceRunsUnchunkedAndRefusesPromptLogprobs() throws {
        let engine = try TinyEngine.make(maxBatchTokens: 128)
        var reference = AttentionPolicy(kind: .reference)
        reference.segmentTokens = 64; reference.denseBelowTokens = 64; reference.denseLayers = 0; reference.baseBudgetTokens = 32
        var request = TinyEngine.request("ref", prompt: TinyEngine.prompt(6, length: 400), maxTokens: 3)
        request.attention = reference
        let outcome = collect(try engine.submit(request))
        #expect(outcome.error == nil && outcome.tokens.count == 3)
        #expect(outcome.usage!.attentionPairsComputed < outcome.usage!.attentionPairsDense)
        request.promptLogprobs = 0
        #expect(throws: EngineError.self) { _ = try engine.submit(request) }
    }
}
