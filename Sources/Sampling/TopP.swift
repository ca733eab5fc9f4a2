/// Top-p (nucleus): keep the smallest set of most likely candidates whose probability adds up
/// to at least p (ties: the lower token id); always at least the most likely one. p = 1 keeps
/// everything. This is vLLM's rule (drop the least likely tokens while their cumulative
/// probability stays ≤ 1 - p) and llama.cpp's (keep tokens until the cumulative probability
/// reaches p).
///
/// Never sorts the vocabulary: on large sets a histogram of probability mass over weight bins
/// finds the bin where the nucleus ends, then a quickselect on probability mass finds the exact
/// cut inside that bin. Expected linear time; sums in Double.
struct TopP {
    let p: Float

    var isActive: Bool { p < 1 }

    /// Keeps the nucleus of weighted candidates and updates `totalWeight`.
    func apply(_ candidates: CandidateBuffer) {
        guard candidates.count > 1 else { return }
        let target = Double(p) * candidates.totalWeight
        if !(target > 0) {
            // p ≤ 0: only the most likely candidate.
            candidates.selectBest(1, in: 0, candidates.count)
            candidates.count = 1
        } else if candidates.count > CandidateBuffer.histogramThreshold {
            candidates.fillWeightBins(byMass: true)
            guard let (bin, massAbove) = candidates.boundaryBin(reaching: target) else { return }  // rounding: keep all
            let above = candidates.keepBins(from: bin)
            candidates.count = candidates.selectSmallestPrefix(above, candidates.count, reaching: target - massAbove)
        } else {
            candidates.count = candidates.selectSmallestPrefix(0, candidates.count, reaching: target)
        }
        candidates.updateTotalWeight()
    }
}
