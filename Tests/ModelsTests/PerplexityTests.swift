import Foundation
import KVMemory
import Models
import TestSupport
import Testing
import Tokenization

/// Log-softmax of a logits row, in Double.
func logSoftmax(_ row: ArraySlice<Float>) -> [Double] {
    let maximum = Double(row.max()!)
    let total = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) }
    let normalizer = maximum + Foundation.log(total)
    return row.map { Double($0) - normalizer }
}

/// The fast path against the fp32 reference and transformers on real text: the first 1,024
/// tokens of Debian's GPL-3, one forward pass each, as in Tests/Fixtures/README.md.
@Suite(.serialized) struct PerplexityTests {
    static let gpl3Path = "/usr/share/common-licenses/GPL-3"

    @Test func fastPathKLAndPerplexityOnGPL3() throws { try LoadedModels.exclusive {
        guard let file = LoadedModels.smolLM2File, let fast = LoadedModels.smolLM2Fast,
              let reference = LoadedModels.smolLM2Reference else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2))); return
        }
        let expected = SmolLM2Reference.shared.perplexity_gpl3
        let text = try String(contentsOfFile: Self.gpl3Path, encoding: .utf8)
        let tokenizer = try makeTokenizer(from: file)
        let tokens = Array(tokenizer.encode(text, addSpecial: true, parseSpecial: false).prefix(expected.n_tokens))
        #expect(tokens.count == expected.n_tokens)
        #expect(Array(tokens.prefix(8)) == expected.first_ids)

        let vocabulary = fast.config.vocabularySize
        reference.reset()
        let referenceLogits = reference.forward(tokens, allLogits: true)
        let pool = try KVBlockPool(layout: fast.kvLayout(), budgetBytes: 256 << 20)
        let kv = KVSequence(pool: pool)
        try kv.reserve(appending: tokens.count)
        var fastLogits = [Float](repeating: 0, count: tokens.count * vocabulary)
        fastLogits.withUnsafeMutableBufferPointer { fast.forward(.single(tokens, kv: kv, allLogits: true), logits: $0.baseAddress!) }

        var referenceNLL = 0.0, fastNLL = 0.0, totalKL = 0.0
        for position in 0..<(tokens.count - 1) {
            let range = position * vocabulary..<(position + 1) * vocabulary
            let p = logSoftmax(referenceLogits[range])
            let q = logSoftmax(fastLogits[range])
            let next = Int(tokens[position + 1])
            referenceNLL -= p[next]
            fastNLL -= q[next]
            var kl = 0.0
            for i in 0..<vocabulary { kl += Foundation.exp(p[i]) * (p[i] - q[i]) }
            totalKL += kl
        }
        let predictions = Double(tokens.count - 1)
        let meanKL = totalKL / predictions
        let referencePerplexity = Foundation.exp(referenceNLL / predictions)
        let fastPerplexity = Foundation.exp(fastNLL / predictions)
        print("GPL-3 1024 tokens: reference ppl \(referencePerplexity), fast ppl \(fastPerplexity), mean KL \(meanKL) nats")
        #expect(abs(referenceNLL / predictions - expected.mean_nll) < 2e-3, "reference mean NLL \(referenceNLL / predictions)")
        #expect(abs(fastPerplexity - 19.30) <= 0.05, "fast-path perplexity \(fastPerplexity)")
        #expect(meanKL < 1e-3, "mean KL(reference ‖ fast) \(meanKL) nats per position")
    } }
}
