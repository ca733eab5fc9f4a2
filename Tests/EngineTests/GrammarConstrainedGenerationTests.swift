import Engine
import Foundation
import Grammar
import Sampling
import TestSupport
import Testing

/// Grammar-constrained generation through the engine, on the tiny random model: whatever the
/// weights prefer, the output follows the grammar, ends when the grammar does, and survives
/// preemption unchanged.
@Suite(.serialized) struct GrammarConstrainedGenerationTests {
    static let sentence = try! Grammar(gbnf: #"""
        root ::= "the" (" cat" | " dog") " sat" (" on" " a"? " mat")? [a-z]{0,4} "."
        """#)

    static func request(_ id: String, grammar: Grammar, seed: UInt64, maxTokens: Int = 40, temperature: Float = 0.9) -> GenerationRequest {
        var request = TinyEngine.request(id, prompt: TinyEngine.prompt(Int(seed), length: 12), maxTokens: maxTokens,
                                         temperature: temperature, seed: seed)
        request.ignoreEOS = false
        request.grammar = grammar
        return request
    }

    /// Whether `text` is a complete sentence of `grammar` (or only a prefix of one).
    static func check(_ grammar: Grammar, _ text: String) -> (valid: Bool, complete: Bool) {
        let trie = TokenTrie(vocabularySize: 1) { _ in nil }
        let matcher = GrammarMatcher(grammar: grammar, trie: trie, endOfGenerationTokens: [])
        guard matcher.accept(bytes: Array(text.utf8)) else { return (false, false) }
        return (true, matcher.isComplete)
    }

    @Test func outputsFollowTheGrammarAndStopWhenItEnds() throws {
        let engine = try TinyEngine.make()
        for seed in UInt64(0)..<8 {
            let outcome = collect(try engine.submit(Self.request("g\(seed)", grammar: Self.sentence, seed: seed)))
            #expect(outcome.error == nil)
            #expect(outcome.reason == .stop, "seed \(seed): \(outcome.text)")
            let result = Self.check(Self.sentence, outcome.text)
            #expect(result.valid && result.complete, "seed \(seed): \(outcome.text)")
            #expect(outcome.text.hasSuffix("."))
        }
    }

    @Test func maxTokensCutsWithLengthAndLeavesAPrefix() throws {
        let engine = try TinyEngine.make()
        let outcome = collect(try engine.submit(Self.request("cut", grammar: Self.sentence, seed: 3, maxTokens: 2)))
        #expect(outcome.reason == .length)
        #expect(outcome.tokens.count == 2)
        let result = Self.check(Self.sentence, outcome.text)
        #expect(result.valid && !result.complete, "\(outcome.text)")
    }

    @Test func endOfGenerationComesOnlyWhenComplete() throws {
        // Digits forever would be valid; the model may stop only after at least three.
        let grammar = try Grammar(gbnf: "root ::= [0-9]{3,}")
        let engine = try TinyEngine.make()
        for seed in UInt64(0)..<4 {
            let outcome = collect(try engine.submit(Self.request("d\(seed)", grammar: grammar, seed: seed, maxTokens: 12, temperature: 1.5)))
            let result = Self.check(grammar, outcome.text)
            #expect(result.valid, "\(outcome.text)")
            if outcome.reason == .stop { #expect(result.complete, "stopped early: \(outcome.text)") }
        }
    }

    /// Logprobs are of the distribution restricted to what the grammar allows: at most the
    /// allowed tokens are listed, and their probabilities sum to 1.
    @Test func logprobsAreOfTheConstrainedDistribution() throws {
        let engine = try TinyEngine.make()
        var request = Self.request("lp", grammar: try Grammar(gbnf: "root ::= [a-c]{3}"), seed: 2)
        request.logprobs = 10
        var logprobs: [TokenLogprob] = []
        for event in try engine.submit(request).collect(timeout: 120) {
            if case .text(_, _, let pieces) = event { logprobs += pieces }
        }
        #expect(logprobs.count == 3)
        for entry in logprobs {
            // Only the byte tokens a, b and c (ids 3 + 0x61 ...) can follow.
            let allowed: Set<Int32> = [3 + 0x61, 3 + 0x62, 3 + 0x63]
            let listed = Set(entry.top.map(\.token))
            #expect(listed.isSubset(of: allowed), "\(entry.top)")
            #expect(entry.top.count == 3)
            let probabilities: [Double] = entry.top.map { exp(Double($0.logprob)) }
            #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
            #expect(entry.top.contains { $0.token == entry.token && $0.logprob == entry.logprob })
        }
    }

    @Test func greedyJSONModeGivesAnObject() throws {
        let engine = try TinyEngine.make()
        let outcome = collect(try engine.submit(Self.request("json", grammar: Grammar.anyJSONObject, seed: 1, maxTokens: 60, temperature: 0)))
        let result = Self.check(Grammar.anyJSONObject, outcome.text)
        #expect(result.valid, "\(outcome.text)")
        #expect(outcome.reason == .stop ? result.complete : outcome.reason == .length)
    }

    /// A KV budget small enough to preempt: every constrained output equals the one computed
    /// with room to spare (the grammar state advances only with kept tokens).
    @Test func preemptionDoesNotChangeConstrainedOutputs() throws {
        let roomy = try TinyEngine.make()
        let expected = try (UInt64(0)..<6).map { seed in
            collect(try roomy.submit(Self.longRequest(seed))).tokens
        }
        let layoutBytesPerBlock = 2 * 16 * 16 * 2 + 2 * 2 * 16 * 2
        let tight = try TinyEngine.make(kvMemoryBytes: 4 * 10 * layoutBytesPerBlock, maxBatchTokens: 32)
        let handles = try (UInt64(0)..<6).map { seed in try tight.submit(Self.longRequest(seed)) }
        for (index, handle) in handles.enumerated() {
            #expect(collect(handle).tokens == expected[index], "request \(index)")
        }
        #expect(tight.metrics().preemptionsTotal > 0)
    }

    private static func longRequest(_ seed: UInt64) -> GenerationRequest {
        var request = request("p\(seed)", grammar: try! Grammar(gbnf: #"root ::= ("the" | " cat" | " sat" | [a-z ]){30,}"#),
                              seed: seed, maxTokens: 40)
        request.prompt = TinyEngine.prompt(Int(seed), length: 40 + Int(seed) * 10)
        return request
    }
}
