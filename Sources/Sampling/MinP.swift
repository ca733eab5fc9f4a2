#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Min-p: drop candidates whose probability is below p × the most likely candidate's
/// probability (so p = 0 keeps all, p ≥ 1 keeps only the most likely ones).
///
/// Runs on the tempered probabilities before top-p, where vLLM applies it. It commutes with
/// top-k (both keep a most-likely prefix and min-p depends only on ratios) but not with top-p,
/// which renormalizes over what min-p kept.
struct MinP {
    let p: Float

    var isActive: Bool { p > 0 }

    /// Without top-k, min-p filters the logits while gathering them, before any exponential:
    /// probability ≥ p × best ⟺ (logit - maxLogit) / temperature ≥ ln p. Fills `candidates` with
    /// the surviving tokens and their logits, in token order.
    func gather(
        into candidates: CandidateBuffer, from logits: UnsafePointer<Float>, count vocabularySize: Int, temperature: Float
    ) {
        let largest = maximum(logits, count: vocabularySize)
        let threshold = largest == .infinity ? largest : largest + temperature * log(min(p, 1))
        candidates.gatherAll(from: logits, count: vocabularySize, atLeast: threshold)
    }

    /// With top-k, min-p filters the weighted candidates (order preserved) and updates
    /// `totalWeight`. Weights are relative to the best candidate, whose weight is 1.
    func apply(_ candidates: CandidateBuffer) {
        let threshold = min(p, 1)
        var kept = 0
        for index in 0..<candidates.count {
            let weight = candidates.values[index]
            candidates.tokens[kept] = candidates.tokens[index]
            candidates.values[kept] = weight
            kept &+= weight >= threshold ? 1 : 0
        }
        candidates.count = kept
        candidates.updateTotalWeight()
    }
}
