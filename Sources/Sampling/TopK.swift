/// Top-k: keep the k most likely candidates (ties: the lower token id). 0, or any k at least
/// the vocabulary size, keeps everything.
///
/// Never sorts the vocabulary. Up to `heapLimit` it runs on the logits while candidates are
/// gathered: a heap of k, one vector comparison per eight tokens against the worst kept one.
/// Beyond, it runs on the weights of all tokens: a histogram of counts over weight bins finds
/// the bin holding the k-th token, then a quickselect inside that bin. Weights order tokens as
/// logits do (temperature is monotone), except that logits a few ulps apart may round to one
/// weight and then tie; it also commutes with min-p, so min-p may run first.
struct TopK {
    let k: Int

    /// Largest k for which the heap is the faster route on a 150K vocabulary.
    static let heapLimit = 256

    func isActive(vocabularySize: Int) -> Bool {
        k > 0 && k < vocabularySize
    }

    var runsOnLogits: Bool { k <= Self.heapLimit }

    /// Small k: fills `candidates` with the top k tokens of `logits` and their logits (fewer when
    /// fewer are above -infinity).
    func gather(into candidates: CandidateBuffer, from logits: UnsafePointer<Float>, count vocabularySize: Int) {
        candidates.gatherBest(k, from: logits, count: vocabularySize)
    }

    /// Large k: keeps the k best weighted candidates and updates `totalWeight`.
    func apply(_ candidates: CandidateBuffer) {
        guard candidates.count > k else { return }
        if candidates.count > CandidateBuffer.histogramThreshold {
            candidates.fillWeightBins(byMass: false)
            guard let (bin, _) = candidates.boundaryBin(reaching: Double(k)) else { return }
            let above = candidates.keepBins(from: bin)
            candidates.selectBest(k - above, in: above, candidates.count)
        } else {
            candidates.selectBest(k, in: 0, candidates.count)
        }
        candidates.count = k
        candidates.updateTotalWeight()
    }
}
