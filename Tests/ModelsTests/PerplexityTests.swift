import Foundation
import GGUF
import Kernels
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

    /// Perplexity of the fast model and mean KL(reference ‖ fast) per position over the first
    /// 1,024 GPL-3 tokens; nil (recorded) when the model is missing.
    static func measure(_ makeFast: (GGUFFile) throws -> Model?) throws -> (referenceNLL: Double, fastPerplexity: Double, meanKL: Double)? {
        guard let file = LoadedModels.smolLM2File, let fast = try makeFast(file),
              let reference = LoadedModels.smolLM2Reference else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2))); return nil
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
        fastLogits.withUnsafeMutableBufferPointer { _ = fast.forward(.single(tokens, kv: kv, allLogits: true), logits: $0.baseAddress!) }

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
        return (referenceNLL / predictions, Foundation.exp(fastNLL / predictions), totalKL / predictions)
    }

    @Test func fastPathKLAndPerplexityOnGPL3() throws { try LoadedModels.exclusive {
        guard let measured = try Self.measure({ _ in LoadedModels.smolLM2Fast }) else { return }
        print("GPL-3 1024 tokens: reference mean NLL \(measured.referenceNLL), fast ppl \(measured.fastPerplexity), mean KL \(measured.meanKL) nats")
        #expect(abs(measured.referenceNLL - SmolLM2Reference.shared.perplexity_gpl3.mean_nll) < 2e-3,
                "reference mean NLL \(measured.referenceNLL)")
        #expect(abs(measured.fastPerplexity - 19.30) <= 0.05, "fast-path perplexity \(measured.fastPerplexity)")
        #expect(measured.meanKL < 1e-3, "mean KL(reference ‖ fast) \(measured.meanKL) nats per position")
    } }

    /// `balanced` activations (two terms on the high-energy blocks only) stay within issue 2's
    /// bars for a fast path: mean KL under 1e-3 nats and perplexity 19.30 ± 0.05 (measured 6.0e-4
    /// and 19.26 on 2026-11-27, with 23 % of the blocks keeping both terms).
    @Test func balancedActivationsKLAndPerplexityOnGPL3() throws { try LoadedModels.exclusive {
        guard let measured = try Self.measure({ try Model(file: $0, threads: ThreadPool(threadCount: 2), activationPrecision: .balanced) })
        else { return }
        print("GPL-3 1024 tokens, balanced activations: fast ppl \(measured.fastPerplexity), mean KL \(measured.meanKL) nats")
        #expect(abs(measured.fastPerplexity - 19.30) <= 0.05, "balanced-activation perplexity \(measured.fastPerplexity)")
        #expect(measured.meanKL < 1e-3, "mean KL(reference ‖ balanced fast) \(measured.meanKL) nats per position")
    } }

    /// One-term int8 activations (llama.cpp's rounding) cost accuracy, within what llama.cpp users
    /// accept; the bound pins today's figure so a regression shows.
    @Test func int8ActivationsKLAndPerplexityOnGPL3() throws { try LoadedModels.exclusive {
        guard let measured = try Self.measure({ try Model(file: $0, threads: ThreadPool(threadCount: 2), activationPrecision: .int8) })
        else { return }
        print("GPL-3 1024 tokens, int8 activations: fast ppl \(measured.fastPerplexity), mean KL \(measured.meanKL) nats")
        #expect(abs(measured.fastPerplexity - 19.30) <= 0.3, "int8-activation perplexity \(measured.fastPerplexity)")
        #expect(measured.meanKL < 1e-2, "mean KL(reference ‖ int8 fast) \(measured.meanKL) nats per position")
    } }
}
