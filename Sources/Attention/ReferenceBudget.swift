/// The released EntropyInfer budget rule (`ent_based`, §3 of the method notes), as written.
///
/// A KV head is rigid when its entropy is below `e_t` in every segment s ≥ 1 (the last one
/// included: the rule needs the whole prompt). Rigid heads get `base` tokens in every segment.
/// Dynamic heads follow a running accumulator of relative entropy change:
///   r[s] = (H[s] − H[s−1]) / (H[s−1] + 1e−9), r[1] := δ, r clipped to [0, 1 + δ]
///   budget[0] = base; budget[s] = clip(budget[s−1] + α·base·(r[s] − δ), base, factor·base)
/// The segment's block count is the maximum over heads (the released code's collapse).
public enum ReferenceBudget {
    /// Budget in tokens per segment for one dynamic head with entropies `entropy[0...]`.
    public static func trajectory(entropy: [Double], base: Double, alpha: Double, delta: Double,
                                  maximumFactor: Double) -> [Double] {
        guard !entropy.isEmpty else { return [] }
        var budgets = [base]
        for segment in 1..<entropy.count {
            var ratio = segment == 1 ? delta : (entropy[segment] - entropy[segment - 1]) / (entropy[segment - 1] + 1e-9)
            ratio = min(max(ratio, 0), 1 + delta)
            let next = budgets[segment - 1] + alpha * base * (ratio - delta)
            budgets.append(min(max(next, base), maximumFactor * base))
        }
        return budgets
    }

    /// True when every entropy after the first segment is below `threshold`.
    public static func isRigid(entropy: [Double], threshold: Double) -> Bool {
        entropy.dropFirst().allSatisfy { $0 < threshold }
    }

    /// Past blocks (16 tokens) each segment keeps: `entropies[kvHead][segment]` → per segment the
    /// maximum over heads of floor(budget / 16); segment 0 keeps 0.
    public static func segmentBlockCounts(entropies: [[Double]], policy: AttentionPolicy) -> [Int] {
        let segmentCount = entropies.first?.count ?? 0
        guard segmentCount > 0 else { return [] }
        let base = Double(policy.baseBudgetTokens)
        var counts = [Int](repeating: 0, count: segmentCount)
        for headEntropy in entropies {
            let budgets = isRigid(entropy: headEntropy, threshold: policy.rigidEntropyThreshold)
                ? [Double](repeating: base, count: segmentCount)
                : trajectory(entropy: headEntropy, base: base, alpha: policy.alpha, delta: policy.deltaThreshold,
                             maximumFactor: Double(policy.maximumBudgetFactor))
            for segment in 1..<max(1, segmentCount) {
                counts[segment] = max(counts[segment], Int(budgets[segment] / Double(KVBlockTokens.count)))
            }
        }
        return counts
    }
}
