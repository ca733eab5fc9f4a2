import Foundation
import Sampling
import Testing

/// One processor at a time on 4–5 token distributions, in the style of llama.cpp's
/// tests/test-sampling.cpp: logits are ln(p), expected probabilities are computed by hand
/// (the fraction is written out where it is not obvious).
@Suite struct LogitProcessorTests {
    let quarter: [Float] = [0.1, 0.2, 0.3, 0.4]
    let uniform5: [Float] = [0.2, 0.2, 0.2, 0.2, 0.2]

    private func check(
        _ probabilities: [Float], _ parameters: SamplingParameters, _ expected: [Int32: Double],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = distribution(logits: logits(fromProbabilities: probabilities), parameters)
        expectDistribution(actual, expected, sourceLocation: sourceLocation)
    }

    @Test func temperature() {
        check(quarter, parameters(temperature: 1),   [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(quarter, parameters(temperature: 0),   [3: 1])
        check(quarter, parameters(temperature: 0.5), [0: 1.0 / 30, 1: 4.0 / 30, 2: 9.0 / 30, 3: 16.0 / 30])  // p² / 0.3
        check(quarter, parameters(temperature: 2),   [0: 0.1627005, 1: 0.2300932, 2: 0.2818055, 3: 0.3254009])  // √p / Σ√p
        check(quarter, parameters(temperature: 1e-6), [3: 1])  // below vLLM's 1e-5: greedy
    }

    @Test func topK() {
        check(quarter,  parameters(topK: 1),  [3: 1])
        check(quarter,  parameters(topK: 3),  [3: 0.4 / 0.9, 2: 0.3 / 0.9, 1: 0.2 / 0.9])
        check(quarter,  parameters(topK: 4),  [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(quarter,  parameters(topK: 0),  [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(quarter,  parameters(topK: 50), [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(uniform5, parameters(topK: 2),  [0: 0.5, 1: 0.5])  // ties: lower ids first
    }

    @Test func topP() {
        check(quarter,  parameters(topP: 1e-6), [3: 1])
        check(quarter,  parameters(topP: 0.7),  [3: 0.4 / 0.7, 2: 0.3 / 0.7])
        check(quarter,  parameters(topP: 0.8),  [3: 0.4 / 0.9, 2: 0.3 / 0.9, 1: 0.2 / 0.9])
        check(quarter,  parameters(topP: 0.95), [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(quarter,  parameters(topP: 1),    [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(uniform5, parameters(topP: 0.5),  [0: 1.0 / 3, 1: 1.0 / 3, 2: 1.0 / 3])  // 0.2, 0.4, 0.6 ≥ 0.5; ties: lower ids
        check(uniform5, parameters(topP: 1e-6), [0: 1])
    }

    @Test func minP() {
        check(quarter,  parameters(minP: 0),    [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        check(quarter,  parameters(minP: 0.24), [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])  // 0.1 / 0.4 = 0.25
        check(quarter,  parameters(minP: 0.26), [1: 0.2 / 0.9, 2: 0.3 / 0.9, 3: 0.4 / 0.9])
        check(quarter,  parameters(minP: 0.49), [1: 0.2 / 0.9, 2: 0.3 / 0.9, 3: 0.4 / 0.9])  // 0.2 / 0.4 = 0.5
        check(quarter,  parameters(minP: 0.51), [2: 0.3 / 0.7, 3: 0.4 / 0.7])
        check(quarter,  parameters(minP: 0.74), [2: 0.3 / 0.7, 3: 0.4 / 0.7])  // 0.3 / 0.4 = 0.75
        check(quarter,  parameters(minP: 0.76), [3: 1])
        check(quarter,  parameters(minP: 1),    [3: 1])
        check(quarter,  parameters(minP: 1.05), [3: 1])
        check(uniform5, parameters(minP: 0.99), [0: 0.2, 1: 0.2, 2: 0.2, 3: 0.2, 4: 0.2])
        // With top-k the same rule runs on the weights instead of the logits.
        check(quarter,  parameters(topK: 3, minP: 0.6), [2: 0.3 / 0.7, 3: 0.4 / 0.7])
    }

    /// The order of the chain: temperature before the filters, min-p before top-p (vLLM v1).
    @Test func order() {
        // Temperature 0.5 first: p² / 0.3 = (.033, .133, .3, .533); top-p 0.8 keeps .533 + .3.
        // (Top-p on the raw distribution would have kept three tokens.)
        check(quarter, parameters(temperature: 0.5, topP: 0.8), [3: 16.0 / 25, 2: 9.0 / 25])
        // Min-p 0.3 drops 0.1 (0.25 < 0.3) and renormalizes to (2, 3, 4) / 9; top-p 0.75 then
        // keeps 4/9 + 3/9 ≥ 0.75. Top-p first would keep (.4, .3, .2) and min-p nothing more.
        check(quarter, parameters(topP: 0.75, minP: 0.3), [3: 4.0 / 7, 2: 3.0 / 7])
        // Top-k 3 renormalizes to (2, 3, 4) / 9 before top-p 0.7: 4/9 + 3/9 ≥ 0.7.
        check(quarter, parameters(topK: 3, topP: 0.7), [3: 4.0 / 7, 2: 3.0 / 7])
    }

    @Test func repetitionPenalty() {
        let flat = logits(fromProbabilities: uniform5)  // every logit ln 0.2 < 0: multiplied by the penalty
        let rest = 0.25, half = 0.5
        expectDistribution(distribution(logits: flat, parameters(repetition: 50), prompt: [0]),                [1: rest, 2: rest, 3: rest, 4: rest])
        expectDistribution(distribution(logits: flat, parameters(repetition: 50), prompt: [0, 1, 2]),          [3: half, 4: half])
        expectDistribution(distribution(logits: flat, parameters(repetition: 50), prompt: [0, 1, 2, 0, 0]),    [3: half, 4: half])
        expectDistribution(distribution(logits: flat, parameters(repetition: 50), prompt: [0], generated: [1, 2]), [3: half, 4: half])
        // Positive logits are divided: [1, 1] with token 0 seen at penalty 2 → [0.5, 1].
        expectDistribution(distribution(logits: [1, 1], parameters(repetition: 2), prompt: [0]),   [0: 0.3775407, 1: 0.6224593])  // 1 / (1 + e^0.5)
        // Negative logits are multiplied: [-1, -1] → [-2, -1].
        expectDistribution(distribution(logits: [-1, -1], parameters(repetition: 2), prompt: [0]), [0: 0.2689414, 1: 0.7310586])  // 1 / (1 + e)
        // Zero stays zero.
        expectDistribution(distribution(logits: [0, 0], parameters(repetition: 2), prompt: [0]),   [0: 0.5, 1: 0.5])
    }

    /// `repetitionPenaltyLastN` looks at the last N tokens of prompt + generation only.
    @Test func repetitionPenaltyWindow() {
        let flat = logits(fromProbabilities: uniform5)
        let third = 1.0 / 3
        let sampler = Sampler(parameters: parameters(repetition: 50, repetitionLastN: 2), vocabularySize: 5, promptTokens: [0, 1, 2])
        func current() -> [Int32: Double] {
            var row = flat
            let pairs = row.withUnsafeMutableBufferPointer { sampler.distribution(logits: $0.baseAddress!) }
            return Dictionary(uniqueKeysWithValues: pairs.map { ($0.token, $0.probability) })
        }
        expectDistribution(current(), [0: third, 3: third, 4: third])  // window [1, 2]
        sampler.accept(0)
        expectDistribution(current(), [1: third, 3: third, 4: third])  // window [2, 0]
        sampler.accept(0)
        expectDistribution(current(), [1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25])  // window [0, 0]: 0 once
        sampler.accept(4)
        expectDistribution(current(), [1: third, 2: third, 3: third])  // window [0, 4]
    }

    /// OpenAI semantics: logit -= frequency · count + presence · [count > 0], generated tokens only.
    @Test func frequencyAndPresencePenalties() {
        let flat = logits(fromProbabilities: uniform5)
        expectDistribution(distribution(logits: flat, parameters(frequency: 5, presence: 5), generated: [0]),
                           [0: 1.134985e-5, 1: 0.2499972, 2: 0.2499972, 3: 0.2499972, 4: 0.2499972])  // e⁻¹⁰ / (e⁻¹⁰ + 4)
        expectDistribution(distribution(logits: flat, parameters(frequency: 5, presence: 5), generated: [0, 1, 2]),
                           [0: 2.269842e-5, 1: 2.269842e-5, 2: 2.269842e-5, 3: 0.4999660, 4: 0.4999660])
        expectDistribution(distribution(logits: flat, parameters(frequency: 5, presence: 5), generated: [0, 1, 2, 0, 0]),
                           [0: 1.03053e-9, 1: 2.269893e-5, 2: 2.269893e-5, 3: 0.4999773, 4: 0.4999773])  // token 0: -(3·5 + 5)
        expectDistribution(distribution(logits: flat, parameters(presence: -1), generated: [0, 0]),
                           [0: 0.4046097, 1: 0.1488476, 2: 0.1488476, 3: 0.1488476, 4: 0.1488476])  // e / (e + 4)
        // The prompt does not count.
        expectDistribution(distribution(logits: flat, parameters(frequency: 5, presence: 5), prompt: [0, 1]),
                           [0: 0.2, 1: 0.2, 2: 0.2, 3: 0.2, 4: 0.2])
    }

    @Test func logitBias() {
        let flat = logits(fromProbabilities: [0.25, 0.25, 0.25, 0.25])
        let third = 1.0 / 3, sixth = 1.0 / 6
        expectDistribution(distribution(logits: flat, parameters(bias: [1: -100])),             [0: third, 2: third, 3: third])
        expectDistribution(distribution(logits: flat, parameters(bias: [0: log(3)])),           [0: 0.5, 1: sixth, 2: sixth, 3: sixth])
        expectDistribution(distribution(logits: flat, parameters(bias: [7: 5, -1: 5, 2: 0])),   [0: 0.25, 1: 0.25, 2: 0.25, 3: 0.25])  // out of range: ignored
        // Bias applies before greedy selection too.
        expectDistribution(distribution(logits: [1, 2, 3], parameters(temperature: 0, bias: [2: -100])), [1: 1])
        // -100 bans the token from 10,000 draws even though it was the most likely.
        let sampler = Sampler(parameters: parameters(bias: [3: -100], seed: 9), vocabularySize: 4)
        #expect(!draws(sampler, logits: logits(fromProbabilities: quarter), count: 10_000).contains(3))
    }

    @Test func tokenMask() {
        let row = logits(fromProbabilities: quarter)
        let mask = TokenMask(vocabularySize: 4, allowing: [0, 1])
        expectDistribution(distribution(logits: row, parameters(), mask: mask),                  [0: 1.0 / 3, 1: 2.0 / 3])
        expectDistribution(distribution(logits: row, parameters(temperature: 0), mask: mask),    [1: 1])
        expectDistribution(distribution(logits: row, parameters(topK: 1), mask: mask),           [1: 1])
        let all = TokenMask(vocabularySize: 4)
        expectDistribution(distribution(logits: row, parameters(), mask: all),                   [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
    }

    /// End-of-generation tokens are banned until `minTokens` tokens have been accepted.
    @Test func minTokens() {
        let sampler = Sampler(parameters: parameters(), vocabularySize: 4, endOfGenerationTokens: [3, 2], minTokens: 2)
        let row = logits(fromProbabilities: quarter)
        func current() -> [Int32: Double] {
            var copy = row
            let pairs = copy.withUnsafeMutableBufferPointer { sampler.distribution(logits: $0.baseAddress!) }
            return Dictionary(uniqueKeysWithValues: pairs.map { ($0.token, $0.probability) })
        }
        expectDistribution(current(), [0: 1.0 / 3, 1: 2.0 / 3])
        sampler.accept(1)
        expectDistribution(current(), [0: 1.0 / 3, 1: 2.0 / 3])
        sampler.accept(0)
        expectDistribution(current(), [0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4])
        #expect(sampler.generatedTokenCount == 2)
    }

    @Test func greedyTiesGoToTheLowestID() {
        func greedy(_ row: [Float]) -> Int32 {
            let sampler = Sampler(parameters: parameters(temperature: 0), vocabularySize: row.count)
            return draws(sampler, logits: row, count: 1)[0]
        }
        #expect(greedy([1, 3, 3, 2]) == 1)
        #expect(greedy([5, 5, 5]) == 0)
        #expect(greedy([-.infinity, -.infinity, 0]) == 2)
        #expect(greedy([.nan, 1, 2]) == 2)
        #expect(greedy([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]) == 11)  // past the first vector block
        #expect(greedy((0..<100).map { Float($0 % 10) }) == 9)
        // Penalties still apply when greedy.
        let sampler = Sampler(parameters: parameters(temperature: 0, repetition: 2), vocabularySize: 3, promptTokens: [2])
        #expect(draws(sampler, logits: [1, 1.5, 2], count: 1)[0] == 1)  // 2 → 1 after the penalty; 1.5 wins
    }

    @Test func tokenMaskSetOperations() {
        var mask = TokenMask(vocabularySize: 70, allowingAll: false)
        #expect(mask.allowedCount == 0)
        mask.allow(0); mask.allow(69); mask.allow(70); mask.allow(-1)
        #expect(mask.allowedCount == 2)
        #expect(mask.allows(0) && mask.allows(69) && !mask.allows(1) && !mask.allows(70))
        mask.allowAll()
        #expect(mask.allowedCount == 70)
        mask.disallow(64)
        #expect(!mask.allows(64) && mask.allowedCount == 69)
        #expect(TokenMask(vocabularySize: 70, where: { $0 % 2 == 0 }).allowedCount == 35)
        // Applied to a row: only the masked entries change.
        var row = [Float](repeating: 1, count: 70)
        let sampler = Sampler(parameters: parameters(), vocabularySize: 70)
        let odd = TokenMask(vocabularySize: 70, where: { $0 % 2 == 1 })
        let pairs = row.withUnsafeMutableBufferPointer { sampler.distribution(logits: $0.baseAddress!, mask: odd) }
        #expect(pairs.map(\.token) == Array(stride(from: 1, to: 70, by: 2)))
        #expect(row.enumerated().allSatisfy { $0.offset % 2 == 1 ? $0.element == 1 : $0.element == -.infinity })
    }
}
