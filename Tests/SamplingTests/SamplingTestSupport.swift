import Foundation
import Sampling
import Testing

/// Sampling parameters with a fixed seed and the given changes.
func parameters(
    temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
    repetition: Float = 1, repetitionLastN: Int = 0, frequency: Float = 0, presence: Float = 0,
    bias: [Int32: Float] = [:], seed: UInt64 = 1
) -> SamplingParameters {
    var parameters = SamplingParameters()
    parameters.temperature = temperature
    parameters.topK = topK
    parameters.topP = topP
    parameters.minP = minP
    parameters.repetitionPenalty = repetition
    parameters.repetitionPenaltyLastN = repetitionLastN
    parameters.frequencyPenalty = frequency
    parameters.presencePenalty = presence
    parameters.logitBias = bias
    parameters.seed = seed
    return parameters
}

/// What `Sampler.distribution` returns for these logits, as token → probability.
func distribution(
    logits: [Float], _ parameters: SamplingParameters, prompt: [Int32] = [], generated: [Int32] = [],
    mask: TokenMask? = nil, endOfGeneration: Set<Int32> = [], minTokens: Int = 0
) -> [Int32: Double] {
    let sampler = Sampler(
        parameters: parameters, vocabularySize: logits.count, promptTokens: prompt,
        endOfGenerationTokens: endOfGeneration, minTokens: minTokens)
    for token in generated { sampler.accept(token) }
    var row = logits
    let pairs = row.withUnsafeMutableBufferPointer { sampler.distribution(logits: $0.baseAddress!, mask: mask) }
    return Dictionary(uniqueKeysWithValues: pairs.map { ($0.token, $0.probability) })
}

/// Expects the same tokens with probabilities within `tolerance` (a token missing on one side
/// counts as probability 0 there).
func expectDistribution(
    _ actual: [Int32: Double], _ expected: [Int32: Double], tolerance: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for token in Set(actual.keys).union(expected.keys).sorted() {
        let got = actual[token] ?? 0, want = expected[token] ?? 0
        #expect(abs(got - want) <= tolerance, "token \(token): got \(got), expected \(want); actual \(actual.sorted { $0.key < $1.key })", sourceLocation: sourceLocation)
    }
}

/// llama.cpp's test-sampling convention: logits are ln(probability), so expectations can be
/// computed by hand from the probabilities.
func logits(fromProbabilities probabilities: [Float]) -> [Float] {
    probabilities.map { $0 > 0 ? Foundation.log($0) : -.infinity }
}

/// The whole sampling chain in Double with full sorts: the oracle for the fast paths. Logits
/// must already carry bias and penalties; returns token → probability.
func referenceDistribution(logits: [Float], _ parameters: SamplingParameters) -> [Int32: Double] {
    let usable = logits.indices.filter { logits[$0] > -.infinity }
    let order = usable.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    guard let best = order.first else { return [:] }
    if parameters.temperature < Sampler.greedyTemperature { return [Int32(best): 1] }
    let largest = Double(logits[best])
    let temperature = Double(parameters.temperature)
    var kept = order.map { (token: $0, weight: Foundation.exp((Double(logits[$0]) - largest) / temperature)) }
    if parameters.minP > 0 { kept = kept.filter { $0.weight >= Double(min(parameters.minP, 1)) } }
    if parameters.topK > 0 { kept = Array(kept.prefix(parameters.topK)) }
    if parameters.topP < 1 {
        let target = Double(parameters.topP) * kept.reduce(0) { $0 + $1.weight }
        var cumulative = 0.0
        var cut = kept.count
        for (index, candidate) in kept.enumerated() {
            cumulative += candidate.weight
            if cumulative >= target { cut = index + 1; break }
        }
        kept = Array(kept.prefix(max(cut, 1)))
    }
    let total = kept.reduce(0) { $0 + $1.weight }
    return Dictionary(uniqueKeysWithValues: kept.map { (Int32($0.token), $0.weight / total) })
}

/// Uniform logits in [low, high) from a fixed seed.
func randomLogits(count: Int, seed: UInt64, in range: Range<Float> = -8 ..< 8) -> [Float] {
    var random = SamplerRNG(seed: seed)
    return (0..<count).map { _ in range.lowerBound + Float(random.nextDouble()) * (range.upperBound - range.lowerBound) }
}

/// Draws `count` tokens from the same logits row (copied each time: sampling modifies it).
func draws(_ sampler: Sampler, logits: [Float], count: Int) -> [Int32] {
    var row = logits
    return (0..<count).map { _ in
        row = logits
        return row.withUnsafeMutableBufferPointer { sampler.sample(logits: $0.baseAddress!) }
    }
}
