/// Grow-only per-thread buffers for the attention kernels (no allocation per token once warm).
final class AttentionScratch: @unchecked Sendable {
    private(set) var capacityRows = 0
    private(set) var headDim = 0
    /// (rows, headDim) gathered queries of a tile.
    var queries: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    /// (rows) last visible position of each row.
    var limits: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    /// Running state: (rows, headDim) accumulator, (rows) max, (rows) sum.
    var accumulator: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    var rowMax: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    var rowSum: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    /// One chunk's state, same shapes.
    var chunkAccumulator: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    var chunkMax: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    var chunkSum: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    /// Block conversion buffer: 2 * 16 * headDim floats.
    var block: UnsafeMutablePointer<Float> = .allocate(capacity: 1)

    func ensure(rows: Int, headDim: Int) {
        guard rows > capacityRows || headDim != self.headDim else { return }
        release()
        capacityRows = max(rows, capacityRows)
        self.headDim = headDim
        queries = .allocate(capacity: capacityRows * headDim)
        limits = .allocate(capacity: capacityRows)
        accumulator = .allocate(capacity: capacityRows * headDim)
        rowMax = .allocate(capacity: capacityRows)
        rowSum = .allocate(capacity: capacityRows)
        chunkAccumulator = .allocate(capacity: capacityRows * headDim)
        chunkMax = .allocate(capacity: capacityRows)
        chunkSum = .allocate(capacity: capacityRows)
        block = .allocate(capacity: 2 * 16 * headDim)
    }

    private func release() {
        for pointer in [queries, accumulator, rowMax, rowSum, chunkAccumulator, chunkMax, chunkSum, block] {
            pointer.deallocate()
        }
        limits.deallocate()
    }

    deinit { release() }
}
