/// Chooses the next token of one request from the model's logits.
///
/// One sampler per request (session), reused for every token: its scratch buffers are allocated
/// once, so `sample` and `accept` do not allocate after the first tokens. It is not thread-safe;
/// the engine thread owns it.
///
/// The logits pass through this chain, in vLLM's order (v1 `Sampler.forward`):
///
/// 1. logit bias (`LogitBias`)
/// 2. penalties: repetition (`RepetitionPenalty`), then frequency and presence
///    (`FrequencyPresencePenalty`)
/// 3. the token mask of grammar-constrained decoding (`TokenMask`) and the ban on
///    end-of-generation tokens before `minTokens` (`MinTokens`). vLLM applies these before the
///    bias; nothing changes, -infinity is absorbing for both.
/// 4. temperature 0 (below 1e-5): argmax, ties to the lowest token id, done. Otherwise:
/// 5. temperature (`Temperature`)
/// 6. min-p (`MinP`) and top-k (`TopK`); they commute, and both run on the logits while
///    candidates are gathered when that is cheaper (temperature preserves the order of logits)
/// 7. top-p (`TopP`)
/// 8. one draw from what is left, proportional to the probabilities, with this request's
///    `SamplerRNG`.
///
/// Older vLLM (v0) and llama.cpp's default chain apply min-p after top-p; vLLM v1 applies it
/// before, on the tempered distribution, and so does this sampler (only requests combining both
/// see a difference: top-p then counts mass within what min-p kept). llama.cpp also applies
/// temperature last, after every filter; vLLM and this sampler apply it before the filters.
///
/// Determinism: the chosen token depends only on the logits, the accepted history and this
/// request's random stream (one `nextDouble()` per non-greedy token, none for greedy), never on
/// other requests, so batching cannot change outputs.
public final class Sampler {
    public let parameters: SamplingParameters
    public let vocabularySize: Int
    /// The seed in use: `parameters.seed`, or one drawn from the system generator (report it
    /// back so the run can be repeated).
    public let seed: UInt64
    /// Tokens passed to `accept` so far.
    public private(set) var generatedTokenCount = 0

    private var random: SamplerRNG
    private let logitBias: LogitBias
    private var repetitionPenalty: RepetitionPenalty?
    private var frequencyPresencePenalty: FrequencyPresencePenalty?
    private let minTokens: MinTokens
    private let temperature: Temperature
    private let topK: TopK?
    private let topP: TopP?
    private let minP: MinP?
    /// Scratch for the non-greedy path; nil for greedy requests.
    private let candidates: CandidateBuffer?

    /// Temperatures below this are greedy (vLLM's `_SAMPLING_EPS`): dividing by them would
    /// overflow, and the distribution is a point mass for any practical purpose.
    public static let greedyTemperature: Float = 1e-5

    /// - Parameters:
    ///   - parameters: the request's knobs (validated by the server; values out of range degrade
    ///     safely: a temperature below `greedyTemperature` or NaN is greedy, top-k ≤ 0 and
    ///     top-p ≥ 1 are off, top-p ≤ 0 keeps the most likely token, a repetition penalty ≤ 0 is
    ///     off).
    ///   - vocabularySize: the length of every logits row.
    ///   - promptTokens: the prompt, for the repetition penalty (ids outside the vocabulary are
    ///     skipped).
    ///   - endOfGenerationTokens: tokens that would end the generation (EOS, EOT, stop token ids),
    ///     banned while fewer than `minTokens` tokens have been accepted.
    ///   - minTokens: vLLM's `min_tokens`; 0 disables the ban.
    public init(
        parameters: SamplingParameters, vocabularySize: Int, promptTokens: [Int32] = [],
        endOfGenerationTokens: Set<Int32> = [], minTokens: Int = 0
    ) {
        precondition(vocabularySize > 0, "a sampler needs a vocabulary")
        self.parameters = parameters
        self.vocabularySize = vocabularySize
        seed = parameters.seed ?? UInt64.random(in: .min ... .max)
        random = SamplerRNG(seed: seed)
        logitBias = LogitBias(parameters.logitBias, vocabularySize: vocabularySize)
        self.minTokens = MinTokens(minimum: minTokens, endOfGenerationTokens: endOfGenerationTokens, vocabularySize: vocabularySize)

        let penalty = parameters.repetitionPenalty
        if penalty > 0, penalty != 1, penalty.isFinite {
            var repetition = RepetitionPenalty(
                penalty: penalty, windowSize: parameters.repetitionPenaltyLastN, vocabularySize: vocabularySize)
            for token in promptTokens where token >= 0 && Int(token) < vocabularySize {
                repetition.record(token)
            }
            repetitionPenalty = repetition
        }
        if parameters.frequencyPenalty != 0 || parameters.presencePenalty != 0 {
            frequencyPresencePenalty = FrequencyPresencePenalty(
                frequency: parameters.frequencyPenalty, presence: parameters.presencePenalty,
                vocabularySize: vocabularySize)
        }

        let isGreedy = !(parameters.temperature >= Self.greedyTemperature)
        temperature = Temperature(value: parameters.temperature)
        let topK = TopK(k: parameters.topK)
        self.topK = topK.isActive(vocabularySize: vocabularySize) ? topK : nil
        topP = parameters.topP < 1 ? TopP(p: parameters.topP) : nil
        minP = parameters.minP > 0 ? MinP(p: parameters.minP) : nil
        candidates = isGreedy ? nil : CandidateBuffer(capacity: vocabularySize)
    }

    /// Chooses the next token. `logits` is one row of `vocabularySize` raw model outputs; bias,
    /// penalties and the mask are applied to it in place (compute logprobs from the raw logits
    /// before calling this). Does not record the token: call `accept` with what the engine keeps.
    ///
    /// If every token ends up excluded (a mask allowing nothing), returns the lowest-id token
    /// among the largest processed logits, which is then a banned one; the mask's owner must
    /// allow at least one token.
    public func sample(logits: UnsafeMutablePointer<Float>, mask: TokenMask? = nil) -> Int32 {
        applyLogitProcessors(logits, mask: mask)
        guard let candidates else {
            return Int32(truncatingIfNeeded: argmax(logits, count: vocabularySize))
        }
        prepareCandidates(candidates, logits: logits)
        guard candidates.totalWeight > 0 else {
            return Int32(truncatingIfNeeded: argmax(logits, count: vocabularySize))
        }
        return candidates.draw(uniform: random.nextDouble())
    }

    /// Records a token of the output (the sampled one, or one the engine forced), for the
    /// penalties and `minTokens`. Ids outside the vocabulary only count towards `minTokens`.
    public func accept(_ token: Int32) {
        generatedTokenCount += 1
        guard token >= 0, Int(token) < vocabularySize else { return }
        repetitionPenalty?.record(token)
        frequencyPresencePenalty?.record(token)
    }

    /// The distribution `sample` would draw from for these logits: every token left after the
    /// whole chain with its probability, most likely first (ties: lower id). Greedy requests get
    /// their argmax with probability 1. Modifies `logits` as `sample` does, consumes no random
    /// number, allocates the result. For tests, debugging and vLLM's "processed logprobs".
    public func distribution(logits: UnsafeMutablePointer<Float>, mask: TokenMask? = nil) -> [(token: Int32, probability: Double)] {
        applyLogitProcessors(logits, mask: mask)
        guard let candidates else {
            return [(Int32(truncatingIfNeeded: argmax(logits, count: vocabularySize)), 1)]
        }
        prepareCandidates(candidates, logits: logits)
        guard candidates.totalWeight > 0 else {
            return [(Int32(truncatingIfNeeded: argmax(logits, count: vocabularySize)), 1)]
        }
        return (0..<candidates.count)
            .filter { candidates.values[$0] > 0 }
            .map { (token: candidates.tokens[$0], probability: Double(candidates.values[$0]) / candidates.totalWeight) }
            .sorted { $0.probability > $1.probability || ($0.probability == $1.probability && $0.token < $1.token) }
    }

    /// Steps 1–3 of the chain, in place on the logits.
    private func applyLogitProcessors(_ logits: UnsafeMutablePointer<Float>, mask: TokenMask?) {
        if logitBias.isActive { logitBias.apply(to: logits) }
        repetitionPenalty?.apply(to: logits)
        frequencyPresencePenalty?.apply(to: logits)
        if let mask {
            precondition(mask.vocabularySize == vocabularySize, "token mask built for another vocabulary")
            mask.apply(to: logits)
        }
        if minTokens.isActive { minTokens.apply(to: logits, generatedTokenCount: generatedTokenCount) }
    }

    /// Steps 5–8: candidates with their weights and total, ready to draw. Top-k and min-p commute,
    /// so each runs where it is cheapest: a small top-k on the logits while gathering, min-p on
    /// the logits while gathering when there is no small top-k.
    private func prepareCandidates(_ candidates: CandidateBuffer, logits: UnsafeMutablePointer<Float>) {
        if let topK, topK.runsOnLogits {
            topK.gather(into: candidates, from: logits, count: vocabularySize)
            guard candidates.count > 0 else { candidates.totalWeight = 0; return }
            temperature.convertToWeights(candidates)
            minP?.apply(candidates)
        } else if let minP {
            minP.gather(into: candidates, from: logits, count: vocabularySize, temperature: temperature.value)
            guard candidates.count > 0 else { candidates.totalWeight = 0; return }
            temperature.convertToWeights(candidates)
            topK?.apply(candidates)
        } else {
            temperature.gatherWeights(into: candidates, from: logits, count: vocabularySize)
            topK?.apply(candidates)
        }
        guard candidates.totalWeight > 0 else { return }
        topP?.apply(candidates)
    }
}
