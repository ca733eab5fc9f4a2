import Foundation
import Sampling
import Testing

@Suite struct LogprobsTests {
    /// log-softmax in Double, the oracle.
    func reference(_ logits: [Float]) -> [Double] {
        let largest = Double(logits.max()!)
        let normalizer = largest + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - largest) })
        return logits.map { Double($0) - normalizer }
    }

    func logprobs(_ row: [Float], chosen: Int32, top: Int) -> (chosen: Float, top: [(token: Int32, logprob: Float)]) {
        row.withUnsafeBufferPointer { Sampling.logprobs(of: $0.baseAddress!, count: row.count, chosen: chosen, top: top) }
    }

    @Test func smallVectorMatchesTheReference() {
        let row: [Float] = [1, 2, 3, 4]
        let expected = reference(row)  // [-3.4402, -2.4402, -1.4402, -0.4402]
        let result = logprobs(row, chosen: 1, top: 2)
        #expect(abs(Double(result.chosen) - expected[1]) < 1e-6)
        #expect(result.top.map(\.token) == [3, 2])
        #expect(abs(Double(result.top[0].logprob) - expected[3]) < 1e-6)
        #expect(abs(Double(result.top[1].logprob) - expected[2]) < 1e-6)
        #expect(abs(Double(result.top[0].logprob) - -0.4401897) < 1e-6)  // by hand: -log(1 + e⁻¹ + e⁻² + e⁻³)
    }

    @Test func alternativesAreSortedThenByTokenID() {
        let result = logprobs([1, 3, 1, 3, 2], chosen: 0, top: 4)
        #expect(result.top.map(\.token) == [1, 3, 4, 0])
        #expect(logprobs([1, 3, 1], chosen: 0, top: 0).top.isEmpty)
        #expect(logprobs([1, 3, 1], chosen: 0, top: 10).top.map(\.token) == [1, 0, 2])  // k beyond the vocabulary
    }

    @Test func extremeAndBannedLogits() {
        // No overflow for large logits, no underflow to -inf for the likely ones.
        let result = logprobs([1000, 999, -1000], chosen: 2, top: 3)
        #expect(abs(result.top[0].logprob - -0.3132617) < 1e-5)  // -log(1 + e⁻¹)
        #expect(abs(result.top[1].logprob - -1.3132617) < 1e-5)
        #expect(abs(result.chosen - -2000.3132617) < 1e-2)
        // -infinity logits get -infinity and never appear as alternatives.
        let banned = logprobs([0, -.infinity, 0], chosen: 1, top: 3)
        #expect(banned.chosen == -.infinity)
        #expect(banned.top.map(\.token) == [0, 2])
        #expect(abs(banned.top[0].logprob - -Float(M_LN2)) < 1e-6)
        // Ids outside the vocabulary get -infinity instead of a crash.
        #expect(logprobs([0, 0], chosen: 2, top: 0).chosen == -.infinity)
    }

    /// Over a Qwen-sized vocabulary the probabilities sum to 1 and logprobs match Double.
    @Test func largeVocabularySumsToOneAndMatchesDouble() {
        let row = randomLogits(count: 151_936, seed: 8, in: -15 ..< 15)
        let expected = reference(row)
        let result = logprobs(row, chosen: 12_345, top: 1000)
        #expect(abs(Double(result.chosen) - expected[12_345]) < 1e-5)
        // The normalizer implied by the chosen token's logprob makes the whole row sum to 1.
        let normalizer = Double(row[12_345]) - Double(result.chosen)
        let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - normalizer) }
        #expect(abs(sum - 1) < 1e-5, "Σp = \(sum)")
        // The 1000 alternatives: the true top 1000, in order, each within 1e-5 of Double.
        let trueTop = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(1000)
        #expect(result.top.map { Int($0.token) } == Array(trueTop))
        let worst = result.top.map { abs(Double($0.logprob) - expected[Int($0.token)]) }.max()!
        #expect(worst < 1e-5, "largest error \(worst)")
    }

    /// On a smaller vocabulary, asking for every token returns the whole distribution.
    @Test func fullDistributionSumsToOne() {
        let row = randomLogits(count: 5000, seed: 9, in: -20 ..< 20)
        let all = logprobs(row, chosen: 0, top: row.count)
        #expect(all.top.count == row.count)
        let sum = all.top.reduce(0.0) { $0 + Foundation.exp(Double($1.logprob)) }
        #expect(abs(sum - 1) < 1e-5, "Σp = \(sum)")
        #expect(zip(all.top, all.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
    }

    /// Row i of the prompt logits scores prompt token i + 1.
    @Test func promptLogprobsScoreEachNextToken() {
        let vocabularySize = 6
        let rows: [[Float]] = [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [1, 1, 1, 1, 1, 1]]
        let prompt: [Int32] = [2, 5, 0, 3]
        let flat = rows.flatMap { $0 }
        let result = flat.withUnsafeBufferPointer {
            promptLogprobs(rows: $0.baseAddress!, vocabularySize: vocabularySize, promptTokens: prompt, top: 1)
        }
        #expect(result.count == 3)
        for position in 0..<3 {
            let expected = reference(rows[position])[Int(prompt[position + 1])]
            #expect(abs(Double(result[position].chosen) - expected) < 1e-6)
        }
        #expect(result.map { $0.top.first?.token } == [5, 0, 0])
        #expect(abs(Double(result[2].chosen) - -Foundation.log(6)) < 1e-6)
        #expect(promptLogprobs(rows: flat, vocabularySize: vocabularySize, promptTokens: [1], top: 1).isEmpty)
    }
}
