import CKernels
import Kernels
import KVMemory

/// Scores of a layer's KV entries under observation queries (KV compression): for each query
/// head, its softmax attention over the entries each observation query may see, averaged over
/// the queries. Keys are read in place from the paged KV memory (block-transposed, f16 or f32)
/// with `ei_kv_logits`; no attention matrix beyond one stream's (queries × entries) logits
/// exists at a time, in per-thread scratch that only grows.
public final class ObservationScorer: @unchecked Sendable {
    public let geometry: AttentionGeometry
    let threads: ThreadPool
    private var scratch: [Scratch]

    final class Scratch {
        var logits: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
        var logitCapacity = 1
        var queries: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
        var queryCapacity = 1
        var block: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
        var blockCapacity = 1

        func ensure(logits count: Int, queries queryCount: Int, block blockCount: Int) {
            if count > logitCapacity { logits.deallocate(); logits = .allocate(capacity: count); logitCapacity = count }
            if queryCount > queryCapacity { queries.deallocate(); queries = .allocate(capacity: queryCount); queryCapacity = queryCount }
            if blockCount > blockCapacity { block.deallocate(); block = .allocate(capacity: blockCount); blockCapacity = blockCount }
        }

        deinit { logits.deallocate(); queries.deallocate(); block.deallocate() }
    }

    public init(geometry: AttentionGeometry, threads: ThreadPool) {
        self.geometry = geometry
        self.threads = threads
        scratch = (0..<threads.threadCount).map { _ in Scratch() }
    }

    /// Per KV head, per query head of its group: the scores of the entries of `layer` (of the
    /// member's own lane when the stream is split). Observation query i is the token at
    /// `slots[i].position`; it sees the entries whose original position is at most
    /// `position + limitOffset` (0 is causal; the released latent code's window mask is shifted
    /// by one, `limitOffset` 1 reproduces it). Score of entry e = mean over queries of
    /// softmax_e(scale · q·k_e) over the entries the query sees; with `rowWeights` (one per slot,
    /// not all zero) a weighted mean instead, each query counting weight / Σ weights. With
    /// `rowBlocks` (one block index per slot) each block's queries form their own (weighted)
    /// mean, and an entry scores the largest of the means (a block without weight is left out).
    public func scores(layer: Int, kv: KVSequence, window: ObservationWindow, slots: [(slot: Int, position: Int)],
                       limitOffset: Int = 0, rowWeights: [Float]? = nil, rowBlocks: [Int]? = nil) -> [[[Float]]] {
        accumulate(layer: layer, kv: kv, window: window, slots: slots, limitOffset: limitOffset, rowWeights: rowWeights,
                   rowBlocks: rowBlocks, keepBlocksApart: false).map { $0.map { $0[0] } }
    }

    /// As `scores` with `rowBlocks`, but each block's mean on its own: per KV head, per query head
    /// of its group, per block (0 ... the largest index; a block without queries scores 0), the
    /// scores of the entries. Causal (limit offset 0).
    public func blockScores(layer: Int, kv: KVSequence, window: ObservationWindow, slots: [(slot: Int, position: Int)],
                            rowBlocks: [Int]) -> [[[[Float]]]] {
        accumulate(layer: layer, kv: kv, window: window, slots: slots, limitOffset: 0, rowWeights: nil, rowBlocks: rowBlocks,
                   keepBlocksApart: true)
    }

    /// [kvHead][member][block or 0][entry]: one score list per block with `keepBlocksApart`,
    /// else one (the mean, or the largest of the block means).
    private func accumulate(layer: Int, kv: KVSequence, window: ObservationWindow, slots: [(slot: Int, position: Int)],
                            limitOffset: Int, rowWeights: [Float]?, rowBlocks: [Int]?, keepBlocksApart: Bool) -> [[[[Float]]]] {
        let kvHeads = geometry.kvHeadCount
        let group = geometry.groupSize
        let headDim = geometry.headDim
        guard !slots.isEmpty else { return Array(repeating: Array(repeating: [[]], count: group), count: kvHeads) }
        precondition(rowWeights == nil || rowWeights!.count == slots.count, "one weight per observation query")
        precondition(rowBlocks == nil || rowBlocks!.count == slots.count, "one block per observation query")
        let allBlocks = rowBlocks ?? Array(repeating: 0, count: slots.count)
        let blockCount = (allBlocks.max() ?? 0) + 1
        let blockWeightSums = (0..<blockCount).map { block in
            slots.indices.reduce(Float(0)) { $0 + (allBlocks[$1] == block ? rowWeights?[$1] ?? 1 : 0) }
        }
        precondition(blockWeightSums.contains { $0 > 0 }, "observation query weights must not all be zero")
        // Queries without weight (or in a block without weight) add nothing: they are dropped
        // before any logit is computed.
        let counted = slots.indices.filter { (rowWeights?[$0] ?? 1) > 0 && blockWeightSums[allBlocks[$0]] > 0 }
        let slots = counted.map { slots[$0] }
        let blocks = counted.map { allBlocks[$0] }
        let weights = counted.map { (rowWeights?[$0] ?? 1) / blockWeightSums[allBlocks[$0]] }
        let rows = slots.count
        // Positions and visible counts per lane (computed once, read by the tasks).
        var visible: [[[Int32]]] = []   // [kvHead][member or 0][row]
        var entryCounts: [[Int]] = []
        for kvHead in 0..<kvHeads {
            let members = kv.memberCount(layer: layer, kvHead: kvHead)
            var headVisible: [[Int32]] = [], headCounts: [Int] = []
            for member in 0..<members {
                let positions = kv.positions(layer: layer, kvHead: kvHead, member: member)
                headCounts.append(positions.count)
                headVisible.append(slots.map { entry in
                    Int32(Self.countAtMost(positions, entry.position + limitOffset))
                })
            }
            visible.append(headVisible)
            entryCounts.append(headCounts)
        }
        var flat = [[[Float]]](repeating: [], count: kvHeads * group)
        let scale = geometry.scale
        let (visibleCounts, counts) = (visible, entryCounts)
        flat.withUnsafeMutableBufferPointer { slotsOut in
            threads.run(tasks: kvHeads * group) { task, thread in
                let kvHead = task / group
                let member = task % group
                let lane = counts[kvHead].count > 1 ? member : 0
                let entries = counts[kvHead][lane]
                // Each block's (weighted) mean on its own; a block without weight stays 0.
                var perBlock = [[Float]](repeating: [Float](repeating: 0, count: entries), count: blockCount)
                let work = self.scratch[thread]
                work.ensure(logits: rows * max(1, entries), queries: rows * headDim, block: KVLayout.blockTokens * headDim)
                let head = kvHead * group + member
                for (row, entry) in slots.enumerated() {
                    (work.queries + row * headDim).update(from: window.queries(layer: layer, slot: entry.slot) + head * headDim,
                                                          count: headDim)
                }
                if entries > 0 {
                    kv.withBlockList(layer: layer, kvHead: kvHead, member: lane) { list in
                        var list = list
                        ei_kv_logits(work.queries, headDim, Int32(rows), Int32(headDim), scale, &list, work.logits, entries,
                                     work.block)
                    }
                    for block in 0..<blockCount where blockWeightSums[block] > 0 {
                        perBlock[block].withUnsafeMutableBufferPointer { accumulator in
                            for row in 0..<rows where blocks[row] == block {
                                ei_softmax_accumulate(work.logits + row * entries, visibleCounts[kvHead][lane][row], weights[row],
                                                      accumulator.baseAddress!)
                            }
                        }
                    }
                }
                // Combined, the largest block mean stays (scores are non-negative).
                slotsOut[task] = keepBlocksApart || blockCount == 1
                    ? perBlock : [perBlock.dropFirst().reduce(perBlock[0]) { zip($0, $1).map { max($0, $1) } }]
            }
        }
        return (0..<kvHeads).map { Array(flat[$0 * group..<($0 + 1) * group]) }
    }

    /// Number of leading entries of ascending `positions` that are at most `limit`.
    static func countAtMost(_ positions: [Int32], _ limit: Int) -> Int {
        var low = 0, high = positions.count
        while low < high {
            let middle = (low + high) / 2
            if Int(positions[middle]) <= limit { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
