/// Temperature: probabilities ∝ exp(logit / temperature). Values above 1 flatten the
/// distribution, values below 1 sharpen it. Greedy requests (temperature 0, or below vLLM's
/// 1e-5 threshold) never reach this type: the sampler takes the argmax instead.
///
/// Applied as weights exp((logit - maximum) · (1 / temperature)): the best candidate gets exactly
/// 1, nothing overflows, and tokens more than ~87 (tempered) below the best get exactly 0, as do
/// banned (-infinity) and NaN logits. Top-k runs before this step (it depends only on the order of
/// logits, which temperature does not change); min-p and top-p run after it, on the tempered
/// probabilities, as in vLLM.
struct Temperature {
    let value: Float

    /// Multiplying by this is the division by the temperature (finite: value ≥ 1e-5).
    private var scale: Float { 1 / value }

    /// Makes every token a candidate, in token order, with its weight, and sets `totalWeight`. One
    /// vectorized pass over the logits (plus the maximum); tokens that cannot be drawn stay in with
    /// weight 0. No candidates when every logit is -infinity or NaN.
    func gatherWeights(into candidates: CandidateBuffer, from logits: UnsafePointer<Float>, count vocabularySize: Int) {
        precondition(vocabularySize <= candidates.capacity, "logits are longer than the sampler's vocabulary")
        let largest = maximum(logits, count: vocabularySize)
        guard largest > -.infinity else {
            candidates.count = 0
            candidates.totalWeight = 0
            return
        }
        let tokens = candidates.tokens, values = candidates.values
        if largest == .infinity {
            // Tokens with an infinite logit outweigh every other: they share the mass.
            for index in 0..<vocabularySize {
                tokens[index] = Int32(truncatingIfNeeded: index)
                values[index] = logits[index] == .infinity ? 1 : 0
            }
        } else {
            let scale = self.scale
            for index in 0..<vocabularySize {
                tokens[index] = Int32(truncatingIfNeeded: index)
                values[index] = fastExp((logits[index] - largest) * scale)
            }
        }
        candidates.count = vocabularySize
        candidates.updateTotalWeight()
    }

    /// Turns gathered logits (none -infinity or NaN) into weights and sets `totalWeight`.
    func convertToWeights(_ candidates: CandidateBuffer) {
        let largest = maximum(candidates.values, count: candidates.count)
        if largest == .infinity {
            for index in 0..<candidates.count {
                candidates.values[index] = candidates.values[index] == .infinity ? 1 : 0
            }
        } else {
            exponentiate(candidates.values, count: candidates.count, subtracting: largest, scale: scale)
        }
        candidates.updateTotalWeight()
    }
}
