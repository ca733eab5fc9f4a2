import Foundation
import KVMemory
import Models
import TestSupport
import Testing
import Tokenization

/// Qwen2.5-Coder-0.5B on real text: the first tokens of Debian's GPL-3 in one forward pass each,
/// through the fp32 reference path and the fast path, against transformers' perplexity
/// (Tests/Fixtures/qwen2.5/reference_logits.json).
@Suite(.serialized) struct QwenPerplexityTests {
    /// Tokens scored: 512 by default, which keeps the Qwen tests under two minutes here (the fp32
    /// reference pass over 1,024 tokens alone takes ~60 s); `ENTROPYINFER_QWEN_PPL_TOKENS=1024`
    /// scores all the fixture holds. transformers' mean NLL is recorded for 256, 512 and 1,024.
    static let tokenCount = ProcessInfo.processInfo.environment["ENTROPYINFER_QWEN_PPL_TOKENS"].flatMap(Int.init) ?? 512

    @Test func fastPathKLAndPerplexityOnGPL3() throws { try LoadedModels.exclusive {
        guard let file = LoadedModels.qwen(LoadedModels.qwenFile),
              let fast = LoadedModels.qwen(LoadedModels.qwenFast),
              let reference = LoadedModels.qwen(LoadedModels.qwenReference) else { return }
        let expected = QwenReference.shared.perplexity_gpl3
        let expectedNLL = Self.tokenCount == expected.n_tokens
            ? expected.mean_nll : try #require(expected.prefix_mean_nll[String(Self.tokenCount)],
                                        "the fixture records transformers' mean NLL for 256, 512 and \(expected.n_tokens) tokens only")
        let text = try String(contentsOfFile: PerplexityTests.gpl3Path, encoding: .utf8)
        let tokenizer = try makeTokenizer(from: file)
        let tokens = Array(tokenizer.encode(text, addSpecial: true, parseSpecial: false).prefix(expected.n_tokens))
        #expect(Array(tokens.prefix(8)) == expected.first_ids)
        let agreeing = zip(tokens, expected.ids).prefix { $0 == $1 }.count
        try #require(agreeing == expected.n_tokens, "GPL-3 tokens differ from transformers' at index \(agreeing)")
        let scored = Array(tokens.prefix(Self.tokenCount))

        let vocabulary = fast.config.vocabularySize
        let clock = ContinuousClock()
        var start = clock.now
        reference.reset()
        let referenceLogits = reference.forward(scored, allLogits: true)
        let referenceTime = clock.now - start
        start = clock.now
        let pool = try KVBlockPool(layout: fast.kvLayout(), budgetBytes: 256 << 20)
        let kv = KVSequence(pool: pool)
        try kv.reserve(appending: scored.count)
        var fastLogits = [Float](repeating: 0, count: scored.count * vocabulary)
        fastLogits.withUnsafeMutableBufferPointer { _ = fast.forward(.single(scored, kv: kv, allLogits: true), logits: $0.baseAddress!) }
        let fastTime = clock.now - start
        start = clock.now

        var referenceNLL = 0.0, fastNLL = 0.0, totalKL = 0.0, worstKL = 0.0
        for position in 0..<(scored.count - 1) {
            let range = position * vocabulary..<(position + 1) * vocabulary
            let p = logSoftmax(referenceLogits[range])
            let q = logSoftmax(fastLogits[range])
            let next = Int(scored[position + 1])
            referenceNLL -= p[next]
            fastNLL -= q[next]
            var kl = 0.0
            for i in 0..<vocabulary { kl += Foundation.exp(p[i]) * (p[i] - q[i]) }
            totalKL += kl
            worstKL = max(worstKL, kl)
        }
        let comparisonTime = clock.now - start
        let predictions = Double(scored.count - 1)
        let meanKL = totalKL / predictions
        let referencePerplexity = Foundation.exp(referenceNLL / predictions)
        let fastPerplexity = Foundation.exp(fastNLL / predictions)
        let expectedPerplexity = Foundation.exp(expectedNLL)
        print("""
            Qwen GPL-3 \(scored.count) tokens: transformers ppl \(expectedPerplexity), reference ppl \(referencePerplexity), \
            fast ppl \(fastPerplexity), mean KL(reference ‖ fast) \(meanKL) nats (worst position \(worstKL)); \
            reference pass \(referenceTime), fast pass \(fastTime), comparison \(comparisonTime)
            """)
        #expect(abs(referenceNLL / predictions - expectedNLL) < 2e-3, "reference mean NLL \(referenceNLL / predictions), transformers \(expectedNLL)")
        #expect(abs(fastPerplexity / expectedPerplexity - 1) <= 0.0025, "fast-path perplexity \(fastPerplexity), transformers \(expectedPerplexity)")
        #expect(meanKL < 1e-3, "mean KL(reference ‖ fast) \(meanKL) nats per position")
    } }
}
