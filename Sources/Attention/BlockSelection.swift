import KVMemory

/// Which past KV blocks each KV head of a segment attends to, chosen from a `SegmentProfile`.
///
/// Every rule here picks only among the profile's blocks, which all end before the segment start:
/// a future block (or the segment's own, which attention always adds causally) cannot be chosen.
/// Ties in estimated mass go to the lower block index, so a selection is a pure function of the
/// profile. Selections are returned as ascending block indices per KV head.
public enum BlockSelection {
    /// `entropy`: per KV head, the sink blocks (first `sinkTokens` positions) and the local
    /// window (the `localWindowTokens` before the segment) always, then the most massive blocks
    /// until the kept blocks cover `coverage` of the head's estimated mass; the total stays
    /// within [minimumBudgetTokens, maximumBudgetTokens] of past context (in 16-token blocks).
    /// A head whose distribution is one-hot stops at the minimum; a flat one grows to the
    /// maximum, so the budget follows the entropy of the head on this segment alone (causal).
    public static func entropy(_ profile: SegmentProfile, policy: AttentionPolicy) -> [[Int32]] {
        let blockTokens = KVBlockTokens.count
        let minimumBlocks = max(0, policy.minimumBudgetTokens / blockTokens)
        let maximumBlocks = max(minimumBlocks, policy.maximumBudgetTokens / blockTokens)
        let localFrom = profile.segmentStart - policy.localWindowTokens
        return (0..<profile.kvHeadCount).map { kvHead in
            let mass = profile.blockMass[kvHead]
            let firsts = profile.blockFirstPositions[kvHead]
            let count = mass.count
            if count <= minimumBlocks { return (0..<Int32(count)).map { $0 } }
            var forced = [Bool](repeating: false, count: count)
            var forcedCount = 0
            var covered: Float = 0
            for block in 0..<count where Int(firsts[block]) < policy.sinkTokens || Int(firsts[block]) + blockTokens > localFrom {
                forced[block] = true
                forcedCount += 1
                covered += mass[block]
            }
            let room = max(0, maximumBlocks - forcedCount)
            let ranked = TopK.largest(mass, count: room) { !forced[$0] }
            var taken = 0
            let target = Float(policy.coverage) * mass.reduce(0, +)
            while taken < ranked.count && covered < target {
                covered += mass[Int(ranked[taken])]
                taken += 1
            }
            taken = min(ranked.count, max(taken, minimumBlocks - forcedCount))
            var selected = (0..<count).filter { forced[$0] }.map { Int32($0) } + ranked.prefix(taken)
            selected.sort()
            return selected
        }
    }

    /// `uniform`: every KV head keeps its `uniformBudgetTokens / 16` most massive blocks
    /// (CritiPrefill's fixed top-k; no forced sink or window).
    public static func uniform(_ profile: SegmentProfile, policy: AttentionPolicy) -> [[Int32]] {
        topK(profile, blocks: policy.uniformBudgetTokens / KVBlockTokens.count)
    }

    /// The `blocks` most massive blocks of every KV head, ascending (the `reference` rule, with
    /// the segment's block count from `ReferenceBudget`).
    public static func topK(_ profile: SegmentProfile, blocks: Int) -> [[Int32]] {
        profile.blockMass.map { mass in
            if mass.count <= blocks { return (0..<Int32(mass.count)).map { $0 } }
            return TopK.largest(mass, count: blocks).sorted()
        }
    }
}

/// Tokens per KV block (the selection unit of sparse attention).
enum KVBlockTokens {
    static let count = 16
}
