// Choosing the k best tokens straight from the logits with a heap of k candidates: one comparison
// per token against the worst kept one, so top-k 40 over 150K tokens costs one pass. The heap's
// sift-down and the heap sort that orders the result (top logprobs) are in CandidateSelection.

extension CandidateBuffer {
    /// Fills the buffer with the k tokens of largest logit (ties: lower token id), skipping
    /// logits that are -infinity or NaN. Leaves them in heap order (the worst at 0).
    func gatherBest(_ k: Int, from logits: UnsafePointer<Float>, count vocabularySize: Int) {
        precondition(k <= capacity, "top-k larger than the candidate buffer")
        count = 0
        guard k > 0 else { return }
        var index = 0
        // Fill phase: the first k usable tokens.
        while index < vocabularySize, count < k {
            let logit = logits[index]
            if logit > -.infinity {
                tokens[count] = Int32(truncatingIfNeeded: index)
                values[count] = logit
                siftUp(count)
                count += 1
            }
            index += 1
        }
        // Scan phase: a later token (higher id) replaces the worst only with a strictly larger
        // logit, which is the "lower id wins ties" rule. NaN compares false and never enters.
        // Eight logits at a time are checked against the worst kept one with one vector compare.
        let raw = UnsafeRawPointer(logits)
        while index + 8 <= vocabularySize {
            let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            if any(chunk .> SIMD8<Float>(repeating: values[0])) {
                for lane in 0..<8 { offer(index + lane, logits[index + lane]) }
            }
            index += 8
        }
        while index < vocabularySize {
            offer(index, logits[index])
            index += 1
        }
    }

    // The heap keeps the worst candidate at the root: every child precedes its parent.

    /// Token `index` replaces the worst kept one if its logit is strictly larger.
    @inline(__always)
    private func offer(_ index: Int, _ logit: Float) {
        guard logit > values[0] else { return }
        tokens[0] = Int32(truncatingIfNeeded: index)
        values[0] = logit
        siftDown(0, heapCount: count)
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(parent, child) else { return }
            swapAt(parent, child)
            child = parent
        }
    }
}
