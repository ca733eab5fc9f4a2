import Foundation
import Sampling
import Testing

/// Sampling draws from the right distribution, and the stream is a function of the seed alone.
@Suite struct SamplingStatisticsTests {
    /// χ² of observed counts against expected probabilities. Buckets expected below 5 draws are
    /// merged (the usual validity rule); returns the statistic and the degrees of freedom.
    func chiSquare(counts: [Int32: Int], expected: [Int32: Double], draws: Int) -> (statistic: Double, degreesOfFreedom: Int) {
        var statistic = 0.0, buckets = 0
        var smallObserved = 0, smallExpected = 0.0
        for (token, probability) in expected {
            let expectedCount = probability * Double(draws)
            let observed = counts[token] ?? 0
            if expectedCount < 5 {
                smallObserved += observed; smallExpected += expectedCount
                continue
            }
            statistic += pow(Double(observed) - expectedCount, 2) / expectedCount
            buckets += 1
        }
        if smallExpected > 0 {
            statistic += pow(Double(smallObserved) - smallExpected, 2) / max(smallExpected, 1)
            buckets += 1
        }
        // Any draw outside the expected support is an outright failure.
        let outside = counts.filter { expected[$0.key] == nil }.values.reduce(0, +)
        if outside > 0 { statistic = .infinity }
        return (statistic, buckets - 1)
    }

    /// 99.9th percentile of χ² for the degrees of freedom (Wilson–Hilferty approximation).
    func chiSquareCritical(degreesOfFreedom k: Int) -> Double {
        let k = Double(k), z = 3.090  // standard normal 99.9%
        return k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
    }

    func histogram(_ tokens: [Int32]) -> [Int32: Int] {
        tokens.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// Temperature 1 reproduces softmax frequencies over 20,000 draws. The seed is fixed, so the
    /// test is deterministic; the bound (χ² 99.9%, 4 degrees of freedom: 18.47) says a correct
    /// sampler passes with any seed but one in a thousand.
    @Test func temperatureOneMatchesSoftmax() {
        let probabilities: [Float] = [0.05, 0.1, 0.15, 0.3, 0.4]
        let sampler = Sampler(parameters: parameters(seed: 2024), vocabularySize: 5)
        let drawn = draws(sampler, logits: logits(fromProbabilities: probabilities), count: 20_000)
        let expected = Dictionary(uniqueKeysWithValues: probabilities.enumerated().map { (Int32($0.offset), Double($0.element)) })
        let (statistic, degrees) = chiSquare(counts: histogram(drawn), expected: expected, draws: drawn.count)
        #expect(degrees == 4)
        #expect(statistic < 18.47, "χ² = \(statistic)")
        // A wrong sampler fails the same check: the frequencies of a uniform draw do not fit.
        let uniform = Dictionary(uniqueKeysWithValues: (0..<5).map { (Int32($0), 0.2) })
        #expect(chiSquare(counts: histogram(drawn), expected: uniform, draws: drawn.count).statistic > 1000)
    }

    /// Draws per configuration below: fewer in unoptimized builds, where one sample over 4,200
    /// logits costs milliseconds (`make test` runs the release build).
    static let drawCount: Int = {
        #if DEBUG
        return 2_000
        #else
        return 20_000
        #endif
    }()

    /// Filtered and tempered distributions, drawn through every gathering path (heap top-k,
    /// min-p on logits, the whole vocabulary with the top-k and top-p histograms, the
    /// block-skipping draw), match what `distribution` reports (itself checked against a Double
    /// reference in LargeVocabularyTests).
    @Test(arguments: [
        parameters(temperature: 0.7, topK: 3, seed: 11),
        parameters(temperature: 1.3, minP: 0.05, seed: 12),
        parameters(temperature: 1, topP: 0.9, seed: 13),
        parameters(temperature: 0.8, topK: 2000, topP: 0.95, seed: 14),
        parameters(temperature: 1.2, seed: 15),
    ])
    func drawsMatchTheReportedDistribution(parameters: SamplingParameters) {
        // 4,200 tokens (more than the 4,096 above which the histograms run): six likely ones at
        // scattered ids and a long tail of unlikely ones.
        var row = randomLogits(count: 4_200, seed: 5, in: -12 ..< -6)
        for (token, logit) in [(3, 4.0), (777, 3.5), (4096, 3.2), (2500, 2.5), (4199, 2.0), (1234, 1.0)] as [(Int, Float)] {
            row[token] = logit
        }
        let expected = distribution(logits: row, parameters)
        let sampler = Sampler(parameters: parameters, vocabularySize: row.count)
        let drawn = draws(sampler, logits: row, count: Self.drawCount)
        let (statistic, degrees) = chiSquare(counts: histogram(drawn), expected: expected, draws: drawn.count)
        #expect(degrees >= 2)
        #expect(statistic < chiSquareCritical(degreesOfFreedom: degrees), "χ² = \(statistic) with \(degrees) degrees of freedom")
    }

    @Test func sameSeedSameTokensDifferentSeedsDiffer() {
        let row = logits(fromProbabilities: [0.2, 0.2, 0.2, 0.2, 0.2])
        let first = draws(Sampler(parameters: parameters(seed: 77), vocabularySize: 5), logits: row, count: 100)
        let again = draws(Sampler(parameters: parameters(seed: 77), vocabularySize: 5), logits: row, count: 100)
        let other = draws(Sampler(parameters: parameters(seed: 78), vocabularySize: 5), logits: row, count: 100)
        #expect(first == again)
        #expect(first != other)
        #expect(Set(first).count == 5)
    }

    /// A seed drawn by the sampler is reported and reproduces the run.
    @Test func unseededRunsReportTheirSeed() {
        var unseeded = parameters()
        unseeded.seed = nil
        let sampler = Sampler(parameters: unseeded, vocabularySize: 5)
        let row = logits(fromProbabilities: [0.2, 0.2, 0.2, 0.2, 0.2])
        let first = draws(sampler, logits: row, count: 50)
        unseeded.seed = sampler.seed
        #expect(draws(Sampler(parameters: unseeded, vocabularySize: 5), logits: row, count: 50) == first)
    }

    /// The batching guarantee at this level: a request's tokens depend on its own logits and
    /// seed only, not on other samplers running in between (one generator per request), and
    /// greedy requests consume no random numbers.
    @Test func tokensDoNotDependOnOtherRequests() {
        let rows = (0..<64).map { randomLogits(count: 300, seed: UInt64(100 + $0), in: -3 ..< 3) }
        func run(_ sampler: Sampler, interleavedWith others: [Sampler]) -> [Int32] {
            rows.map { row in
                for other in others { _ = draws(other, logits: row, count: 2) }
                let token = draws(sampler, logits: row, count: 1)[0]
                sampler.accept(token)
                return token
            }
        }
        let request = parameters(temperature: 0.8, topP: 0.95, frequency: 0.5, seed: 31)
        let alone = run(Sampler(parameters: request, vocabularySize: 300), interleavedWith: [])
        let batched = run(Sampler(parameters: request, vocabularySize: 300), interleavedWith: [
            Sampler(parameters: parameters(seed: 31), vocabularySize: 300),  // same seed, other knobs
            Sampler(parameters: parameters(temperature: 0), vocabularySize: 300),
            Sampler(parameters: parameters(topK: 5, seed: 99), vocabularySize: 300),
        ])
        #expect(alone == batched)
        #expect(Set(alone).count > 10)  // really sampling, not argmax

        // Greedy: the same tokens whatever the seed.
        let greedyA = run(Sampler(parameters: parameters(temperature: 0, seed: 1), vocabularySize: 300), interleavedWith: [])
        let greedyB = run(Sampler(parameters: parameters(temperature: 0, seed: 2), vocabularySize: 300), interleavedWith: [])
        #expect(greedyA == greedyB)
    }
}
