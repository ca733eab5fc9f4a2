import Evaluation
import Foundation
import Testing

@Suite struct NextTokenStatisticsTests {
    /// Naive reference: explicit softmax in Double, then the textbook sums.
    func naive(dense: [[Float]], policy: [[Float]], targets: [Int]) -> (nll: Double, denseNLL: Double, kl: Double, top: Double) {
        func softmax(_ row: [Float]) -> [Double] {
            let exps = row.map { exp(Double($0)) }
            let sum = exps.reduce(0, +)
            return exps.map { $0 / sum }
        }
        var nll = 0.0, denseNLL = 0.0, kl = 0.0, top = 0.0
        for (index, target) in targets.enumerated() {
            let p = softmax(dense[index]), q = softmax(policy[index])
            nll -= log(q[target])
            denseNLL -= log(p[target])
            kl += zip(p, q).reduce(0) { $1.0 == 0 ? $0 : $0 + $1.0 * log($1.0 / $1.1) }   // 0 · log 0 = 0
            if p.firstIndex(of: p.max()!) == q.firstIndex(of: q.max()!) { top += 1 }
        }
        let n = Double(targets.count)
        return (nll / n, denseNLL / n, kl / n, top / n)
    }

    func randomRows(_ count: Int, vocabulary: Int, scale: Float, random: inout TaskRandom) -> [[Float]] {
        (0..<count).map { _ in (0..<vocabulary).map { _ in Float(random.unit() * 2 - 1) * scale } }
    }

    @Test func matchesTheNaiveComputationWhenStreamedInChunks() {
        var random = TaskRandom(seed: 3)
        let vocabulary = 64, rows = 30
        let dense = randomRows(rows, vocabulary: vocabulary, scale: 6, random: &random)
        // The policy: dense plus a perturbation, as a sparse approximation would give.
        let policy = dense.map { row in row.map { $0 + Float(random.unit() - 0.5) } }
        let targets = (0..<rows).map { _ in random.integer(below: vocabulary) }
        let expected = naive(dense: dense, policy: policy, targets: targets)

        // Three chunks (as three forward passes / windows), merged.
        var total = NextTokenStatistics()
        for chunk in [0..<7, 7..<19, 19..<30] {
            var part = NextTokenStatistics()
            for index in chunk {
                part.add(dense: dense[index], policy: policy[index], vocabularySize: vocabulary, target: Int32(targets[index]))
            }
            total.merge(part)
        }
        #expect(total.count == rows)
        #expect(abs(total.meanNLL - expected.nll) < 1e-9)
        #expect(abs(total.denseMeanNLL - expected.denseNLL) < 1e-9)
        #expect(abs(total.meanKL - expected.kl) < 1e-9)
        #expect(expected.kl > 1e-3)   // the test compares something non-trivial
        #expect(abs(total.topAgreement - expected.top) < 1e-12)
        #expect(abs(total.perplexity - exp(expected.nll)) < 1e-9)
    }

    @Test func pairedStandardErrorMatchesTheTextbookFormula() {
        var random = TaskRandom(seed: 5)
        let vocabulary = 32, rows = 12
        let dense = randomRows(rows, vocabulary: vocabulary, scale: 4, random: &random)
        let policy = dense.map { row in row.map { $0 + Float(random.unit() - 0.5) * 2 } }
        let targets = (0..<rows).map { _ in random.integer(below: vocabulary) }
        var statistics = NextTokenStatistics()
        var differences: [Double] = []
        for index in 0..<rows {
            statistics.add(dense: dense[index], policy: policy[index], vocabularySize: vocabulary, target: Int32(targets[index]))
            let single = naive(dense: [dense[index]], policy: [policy[index]], targets: [targets[index]])
            differences.append(single.nll - single.denseNLL)
        }
        let mean = differences.reduce(0, +) / Double(rows)
        let variance = differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows - 1)
        #expect(abs(statistics.meanNLLDifference - mean) < 1e-9)
        #expect(abs(statistics.nllDifferenceStandardError - (variance / Double(rows)).squareRoot()) < 1e-9)
        #expect(statistics.nllDifferenceStandardError > 1e-3)
        var one = NextTokenStatistics()
        one.add(dense: dense[0], policy: policy[0], vocabularySize: vocabulary, target: Int32(targets[0]))
        #expect(one.nllDifferenceStandardError.isNaN)
    }

    @Test func largeLogitsDoNotOverflow() {
        // exp(800) overflows a Double; the shifted sums must not.
        let dense: [Float] = [800, 799, 790, 0]
        let policy: [Float] = [799, 800, 790, 0]
        var statistics = NextTokenStatistics()
        statistics.add(dense: dense, policy: policy, vocabularySize: 4, target: 0)
        let shifted = naive(dense: [dense.map { $0 - 800 }], policy: [policy.map { $0 - 800 }], targets: [0])
        #expect(abs(statistics.meanKL - shifted.kl) < 1e-9)
        #expect(abs(statistics.meanNLL - shifted.nll) < 1e-9)
        #expect(statistics.topAgreement == 0)
    }

    @Test func identicalRowsHaveZeroDivergence() {
        var random = TaskRandom(seed: 4)
        let rows = randomRows(5, vocabulary: 100, scale: 10, random: &random)
        var statistics = NextTokenStatistics()
        for row in rows { statistics.add(dense: row, policy: row, vocabularySize: 100, target: 3) }
        #expect(statistics.meanKL == 0)
        #expect(statistics.meanNLL == statistics.denseMeanNLL)
        #expect(statistics.topAgreement == 1)
    }

    @Test func emptyStatisticsAreNotANumber() {
        #expect(NextTokenStatistics().meanNLL.isNaN)
        #expect(NextTokenStatistics().meanKL.isNaN)
    }

    @Test func scoredPositionsSpreadOverTheSecondHalf() {
        #expect(PerplexityEvaluator.scoredPositions(windowLength: 16, count: 4) == [9, 11, 13, 15])
        #expect(PerplexityEvaluator.scoredPositions(windowLength: 16, count: 8) == Array(8..<16))
        #expect(PerplexityEvaluator.scoredPositions(windowLength: 16, count: 100) == Array(8..<16))
        let positions = PerplexityEvaluator.scoredPositions(windowLength: 8192, count: 256)
        #expect(positions.count == 256)
        #expect(positions.first! >= 4096 && positions.last! == 8191)
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $1 - $0 == 16 })
    }

    @Test func windowsLeaveRoomForTheLastTarget() {
        #expect(PerplexityEvaluator.windowCount(textTokens: 100, context: 50, bos: nil) == 1)
        #expect(PerplexityEvaluator.windowCount(textTokens: 101, context: 50, bos: nil) == 2)
        #expect(PerplexityEvaluator.windowCount(textTokens: 99, context: 50, bos: 1) == 2)
        #expect(PerplexityEvaluator.windowCount(textTokens: 10, context: 50, bos: nil) == 0)
    }
}
