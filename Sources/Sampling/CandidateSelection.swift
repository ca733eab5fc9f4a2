// Selection inside the candidate buffer without sorting it: quickselect by count (top-k with a
// large k) and by probability mass (top-p), both narrowed first by a histogram of weights when the
// set is large. All keep a prefix of the total order "larger value first, then lower token id" in
// expected linear time (a heap sort takes over if partitioning goes badly, as in introselect);
// pivots are chosen deterministically (Tukey's ninther), so the resulting layout depends only on
// the candidates.

extension CandidateBuffer {
    /// Reorders low..<high so that low..<low + n hold its n best candidates (in no particular
    /// order).
    func selectBest(_ n: Int, in low: Int, _ high: Int) {
        let boundary = low + n
        guard n > 0, boundary < high else { return }
        var low = low, high = high
        var rounds = Self.roundBudget(high - low)
        while high - low > Self.smallRange {
            if rounds == 0 { return heapSort(low, high) }
            rounds -= 1
            let pivot = partition(low, high)
            if pivot == boundary || pivot + 1 == boundary { return }
            if boundary < pivot { high = pivot } else { low = pivot + 1 }
        }
        insertionSort(low, high)
    }

    /// Reorders low..<high so that the shortest run of its candidates, in precedence order, whose
    /// weights sum to at least `target` comes first, and returns where that run ends (low + its
    /// length; all of low..<high when rounding keeps the sum below the target). Values must be
    /// weights; `target` > 0 gives at least one candidate.
    func selectSmallestPrefix(_ low: Int, _ high: Int, reaching target: Double) -> Int {
        var low = low, high = high
        var remaining = target  // mass still needed from low..<high; everything before low is kept
        var rounds = Self.roundBudget(high - low)
        while high - low > Self.smallRange {
            if rounds == 0 {
                heapSort(low, high)  // then the scan below finds the cut
                break
            }
            rounds -= 1
            let pivot = partition(low, high)
            let before = sumInDouble(values + low, count: pivot - low)
            if before >= remaining {
                high = pivot
            } else {
                let through = before + Double(values[pivot])
                if through >= remaining { return pivot + 1 }
                remaining -= through
                low = pivot + 1
            }
        }
        insertionSort(low, high)
        var cumulative: Double = 0
        for index in low..<high {
            cumulative += Double(values[index])
            if cumulative >= remaining { return index + 1 }
        }
        return high
    }

    // Narrowing a large weighted set before an exact selection: one pass builds a histogram over
    // weight bins (count or probability mass per bin), the bin where the histogram accumulated
    // from the top reaches the target is the boundary, everything below it is dropped, and the
    // exact selection then runs inside the boundary bin only.

    /// binTotals[b] = the number (`byMass` false) or the summed weight of the candidates in bin b.
    func fillWeightBins(byMass: Bool) {
        binTotals.initialize(repeating: 0, count: Self.weightBinCount)
        for index in 0..<count {
            let weight = values[index]
            binTotals[Self.weightBin(weight)] += byMass ? Double(weight) : 1
        }
    }

    /// The highest bin at which the histogram, accumulated from the top bin down, reaches
    /// `target` (> 0), with the amount in the bins above it; nil when the total stays below.
    func boundaryBin(reaching target: Double) -> (bin: Int, amountAbove: Double)? {
        var amountAbove: Double = 0
        for bin in stride(from: Self.weightBinCount - 1, through: 0, by: -1) {
            if amountAbove + binTotals[bin] >= target { return (bin, amountAbove) }
            amountAbove += binTotals[bin]
        }
        return nil
    }

    /// Drops the candidates below `bin` (stable compaction), then moves those above it to the
    /// front; returns where the candidates of `bin` itself start.
    func keepBins(from bin: Int) -> Int {
        keepAtLeast(Float(bitPattern: UInt32(truncatingIfNeeded: bin) << 19))  // the smallest weight of the bin
        var above = 0
        for index in 0..<count {
            let token = tokens[index], weight = values[index]
            tokens[index] = tokens[above]; values[index] = values[above]
            tokens[above] = token; values[above] = weight
            above &+= Self.weightBin(weight) > bin ? 1 : 0
        }
        return above
    }

    /// Ranges this short are finished by insertion sort.
    static let smallRange = 16

    /// Partition rounds allowed before a selection falls back to heap sort (introselect), so
    /// that an adversarial layout costs O(n log n), never O(n²).
    static func roundBudget(_ count: Int) -> Int {
        2 * (Int.bitWidth - count.leadingZeroBitCount) + 8
    }

    /// Sorts low..<high in precedence order with a heap sort (the worst candidate at the heap's
    /// root, moved to the back one at a time).
    func heapSort(_ low: Int, _ high: Int) {
        let count = high - low
        guard count > 1 else { return }
        for start in stride(from: count / 2 - 1, through: 0, by: -1) {
            siftDown(start, heapCount: count, base: low)
        }
        for last in stride(from: count - 1, to: 0, by: -1) {
            swapAt(low, low + last)
            siftDown(0, heapCount: last, base: low)
        }
    }

    /// Restores the heap rooted at `start` (positions relative to `base`) whose children are
    /// heaps: every child precedes its parent, so the worst candidate is at the root.
    func siftDown(_ start: Int, heapCount: Int, base: Int = 0) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heapCount else { return }
            var worst = left
            if left + 1 < heapCount, precedes(base + left, base + left + 1) { worst = left + 1 }
            guard precedes(base + parent, base + worst) else { return }
            swapAt(base + parent, base + worst)
            parent = worst
        }
    }

    /// Partitions low..<high around a pivot candidate: afterwards low..<p precede it, it sits at
    /// p, and p+1..<high follow it. Returns p. Branch-free Lomuto, so random data costs no
    /// mispredictions.
    func partition(_ low: Int, _ high: Int) -> Int {
        swapAt(choosePivot(low, high), high - 1)
        let pivotValue = values[high - 1], pivotToken = tokens[high - 1]
        var store = low
        for index in low..<(high - 1) {
            let value = values[index], token = tokens[index]
            let precedesPivot = value > pivotValue || (value == pivotValue && token < pivotToken)
            tokens[index] = tokens[store]; values[index] = values[store]
            tokens[store] = token; values[store] = value
            store &+= precedesPivot ? 1 : 0
        }
        swapAt(store, high - 1)
        return store
    }

    /// Median of three, or Tukey's ninther (median of three medians of three) for long ranges.
    func choosePivot(_ low: Int, _ high: Int) -> Int {
        let middle = low + (high - low) / 2
        guard high - low >= 128 else { return medianOfThree(low, middle, high - 1) }
        let step = (high - low) / 8
        return medianOfThree(
            medianOfThree(low, low + step, low + 2 * step),
            medianOfThree(middle - step, middle, middle + step),
            medianOfThree(high - 1 - 2 * step, high - 1 - step, high - 1))
    }

    @inline(__always)
    func medianOfThree(_ a: Int, _ b: Int, _ c: Int) -> Int {
        if precedes(a, b) {
            if precedes(b, c) { return b }
            return precedes(a, c) ? c : a
        }
        if precedes(a, c) { return a }
        return precedes(b, c) ? c : b
    }

    /// Sorts low..<high in precedence order.
    func insertionSort(_ low: Int, _ high: Int) {
        guard high - low > 1 else { return }
        for index in (low + 1)..<high {
            let token = tokens[index], value = values[index]
            var hole = index
            while hole > low, value > values[hole - 1] || (value == values[hole - 1] && token < tokens[hole - 1]) {
                tokens[hole] = tokens[hole - 1]; values[hole] = values[hole - 1]
                hole -= 1
            }
            tokens[hole] = token; values[hole] = value
        }
    }
}
