/// The tokens still in the running for one sample, as two parallel arrays (structure of arrays,
/// so the exponential and sum loops vectorize). One per `Sampler`, allocated once and reused
/// every step: filling and filtering it never allocates.
///
/// Life of one step: gather (the whole vocabulary with `Temperature.gatherWeights`, or the
/// survivors of a small top-k or of min-p, then `Temperature.convertToWeights`), drop tokens
/// (`TopK`, `MinP`, `TopP`), `draw`. Filters keep the
/// best candidates in the total order "larger value first, then lower token id" and may reorder
/// the arrays; every reordering is a deterministic function of the logits, so the drawn token
/// depends only on the logits and the request's own random number.
final class CandidateBuffer {
    let capacity: Int
    /// (capacity) token ids of the candidates; only 0..<count is meaningful.
    let tokens: UnsafeMutablePointer<Int32>
    /// (capacity) logits of the candidates, then their weights: unnormalized probabilities in
    /// [0, 1], the best candidate's weight exactly 1.
    let values: UnsafeMutablePointer<Float>
    /// (weightBinCount) scratch: count or probability mass per weight bin (`TopK`, `TopP`).
    let binTotals: UnsafeMutablePointer<Double>
    var count = 0
    /// Σ values[0..<count] once they are weights.
    var totalWeight: Double = 0

    /// Weights in [0, 1] fall in bins 0...2032 of `weightBin`.
    static let weightBinCount = 2048
    /// Candidate sets above this size are narrowed by a histogram of weights before an exact
    /// selection (`TopK`, `TopP`); below it the histogram pass costs more than it saves.
    static let histogramThreshold = 4096

    init(capacity: Int) {
        self.capacity = capacity
        tokens = .allocate(capacity: max(capacity, 1))
        values = .allocate(capacity: max(capacity, 1))
        binTotals = .allocate(capacity: Self.weightBinCount)
    }

    deinit {
        tokens.deallocate()
        values.deallocate()
        binTotals.deallocate()
    }

    /// Every token whose logit is at least `threshold` and above -infinity (banned tokens and NaN
    /// logits drop out), in token order, with its logit. Blocks of eight logits all below the
    /// threshold cost one vector compare.
    func gatherAll(from logits: UnsafePointer<Float>, count vocabularySize: Int, atLeast threshold: Float = -.infinity) {
        precondition(vocabularySize <= capacity, "logits are longer than the sampler's vocabulary")
        let floor = threshold > -.infinity ? threshold : -Float.greatestFiniteMagnitude
        let raw = UnsafeRawPointer(logits)
        let floors = SIMD8<Float>(repeating: floor)
        var kept = 0
        var index = 0
        while index < vocabularySize {
            let end = min(index + 8, vocabularySize)
            if end - index == 8, !any(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self) .>= floors) {
                index = end
                continue
            }
            while index < end {  // branch-free compaction
                let logit = logits[index]
                tokens[kept] = Int32(truncatingIfNeeded: index)
                values[kept] = logit
                kept &+= logit >= floor ? 1 : 0
                index += 1
            }
        }
        count = kept
    }

    /// Keeps the candidates whose value is at least `threshold`, in order. In place: the write
    /// position never passes the read position. Blocks of eight below the threshold cost one
    /// vector compare.
    func keepAtLeast(_ threshold: Float) {
        let raw = UnsafeRawPointer(values)
        let thresholds = SIMD8<Float>(repeating: threshold)
        var kept = 0
        var index = 0
        while index < count {
            let end = min(index + 8, count)
            if end - index == 8, !any(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self) .>= thresholds) {
                index = end
                continue
            }
            while index < end {
                let token = tokens[index], value = values[index]
                tokens[kept] = token
                values[kept] = value
                kept &+= value >= threshold ? 1 : 0
                index += 1
            }
        }
        count = kept
    }

    /// Swaps candidates i and j in both arrays.
    @inline(__always)
    func swapAt(_ i: Int, _ j: Int) {
        let token = tokens[i], value = values[i]
        tokens[i] = tokens[j]; values[i] = values[j]
        tokens[j] = token; values[j] = value
    }

    /// Whether candidate i comes before candidate j: larger value, then lower token id.
    @inline(__always)
    func precedes(_ i: Int, _ j: Int) -> Bool {
        values[i] > values[j] || (values[i] == values[j] && tokens[i] < tokens[j])
    }

    /// A monotone bin of a weight in [0, 1]: its exponent and top 4 mantissa bits, so each bin
    /// spans a factor 2^(1/16) ≈ 1.044 of weight. 0 for weight 0.
    @inline(__always)
    static func weightBin(_ weight: Float) -> Int {
        Int(truncatingIfNeeded: weight.bitPattern >> 19)
    }

    /// Picks one candidate with probability weight / totalWeight: the first, in the current
    /// order, at which the running sum of weights exceeds `uniform` · totalWeight, for `uniform` ∈
    /// [0, 1). Skips whole blocks of 64 by their (vectorized) sums first.
    func draw(uniform: Double) -> Int32 {
        precondition(count > 0, "draw from an empty candidate set")
        let target = uniform * totalWeight
        let blockSize = 64
        var cumulative: Double = 0
        var start = 0
        while start + blockSize <= count {
            let blockSum = sumInDouble(values + start, count: blockSize)
            if cumulative + blockSum > target { break }
            cumulative += blockSum
            start += blockSize
        }
        for index in start..<count {
            let weight = values[index]
            guard weight > 0 else { continue }
            cumulative += Double(weight)
            if cumulative > target { return tokens[index] }
        }
        // Only reached when rounding left the running sum a hair below the target: the last
        // candidate that can be drawn.
        var index = count - 1
        while index > 0, !(values[index] > 0) { index -= 1 }
        return tokens[index]
    }

    /// Recomputes `totalWeight` after a filter removed candidates.
    func updateTotalWeight() {
        totalWeight = sumInDouble(values, count: count)
    }
}
