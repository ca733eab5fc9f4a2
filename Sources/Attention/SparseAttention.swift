import CKernels
import Kernels
import KVMemory

/// Attention of one query segment over a per-KV-head selection of past key blocks plus the
/// segment's own blocks (causal), read in place from the paged KV memory.
///
/// Each KV head gets its own `ei_kv_block_list` holding only the chosen blocks' ids, first
/// positions and fills (pointers into the pool; no K/V is copied), in position order, followed by
/// every block from the segment start on. The tile loop is DenseAttention's, so with every block
/// selected the output is bit-identical to dense attention. Heads may select different numbers
/// of blocks.
///
/// Selection granularity is our 16-token KV block, not the paper's 8-token block: the kernel
/// reads whole blocks in place (one AVX-512 vector of scores per key dimension), and a budget of
/// B tokens becomes B/16 blocks. The profile still scores 8-token units (the KV memory keeps
/// min/max summaries at that granularity); a block's mass is the sum of its two units.
public final class SparseAttention: @unchecked Sendable {
    public let geometry: AttentionGeometry
    private let threads: ThreadPool
    private var scratch: [AttentionScratch]

    public init(geometry: AttentionGeometry, threads: ThreadPool) {
        self.geometry = geometry
        self.threads = threads
        scratch = (0..<threads.threadCount).map { _ in AttentionScratch() }
    }

    /// The blocks of one stream split at a segment start: `pastCount` blocks lie entirely before
    /// `ownStart`; blocks from index `pastCount` on hold positions at or after it.
    public static func pastBlockCount(kv: KVSequence, layer: Int, kvHead: Int, ownStart: Int) -> Int {
        kv.withBlockList(layer: layer, kvHead: kvHead) { pastBlockCount(list: $0, ownStart: ownStart) }
    }

    static func pastBlockCount(list: ei_kv_block_list, ownStart: Int) -> Int {
        var count = 0
        while count < Int(list.blockCount) {
            let first = list.firstPositions[count]
            if first != Int32.min && Int(first) + Int(list.fills[count]) > ownStart { break }
            count += 1
        }
        return count
    }

    /// Attention of `queries` (all at positions ≥ `ownStart`) over, per KV head, the past blocks
    /// `selections[kvHead]` (ascending indices into the stream, each below the stream's
    /// `pastBlockCount(ownStart:)`) and every block from `ownStart` on, causally. Returns the
    /// query-key pairs computed, counted per query head.
    @discardableResult
    public func run(layer: Int, queries: AttentionQueries, ownStart: Int, selections: [[Int32]], kv: KVSequence,
                    output: AttentionOutput) -> Int {
        let kvHeads = geometry.kvHeadCount
        precondition(selections.count == kvHeads, "one selection per KV head")
        precondition(queries.firstPosition >= ownStart, "queries start inside their own segment")
        // Per KV head: the block list of the selected past blocks, then the own blocks.
        var subsets = [BlockSubset](repeating: BlockSubset(), count: kvHeads)
        var pairs = 0
        for kvHead in 0..<kvHeads {
            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                let past = Self.pastBlockCount(list: list, ownStart: ownStart)
                let selected = selections[kvHead]
                subsets[kvHead].reserve(selected.count + Int(list.blockCount) - past)
                var previous = -1
                var pastEntries = 0
                for index in selected {
                    let i = Int(index)
                    precondition(i > previous && i < past, "selected blocks are ascending and before the segment")
                    previous = i
                    subsets[kvHead].append(i, of: list)
                    pastEntries += Int(list.fills[i])
                }
                var ownEntriesBefore = 0   // own-block entries before the first query (earlier pieces of the segment)
                for i in past..<Int(list.blockCount) {
                    subsets[kvHead].append(i, of: list)
                    let first = Int(list.firstPositions[i])
                    ownEntriesBefore += max(0, min(Int(list.fills[i]), queries.firstPosition - first))
                }
                // Token t sees the selected past, the own entries before the queries and t + 1 queries.
                let tokenCount = queries.tokenCount
                pairs += geometry.groupSize * (tokenCount * (pastEntries + ownEntriesBefore) + tokenCount * (tokenCount + 1) / 2)
            }
        }
        // An immutable copy for the tasks: they only read these lists, from several threads.
        let blockLists = subsets
        let rowsPerTile = DenseAttention.tileTokens * geometry.groupSize
        for item in scratch { item.ensure(rows: rowsPerTile, headDim: geometry.headDim) }
        let tileCount = (queries.tokenCount + DenseAttention.tileTokens - 1) / DenseAttention.tileTokens
        let tile = AttentionTile(geometry: geometry)
        let layout = kv.layout
        let poolBase = UnsafeRawPointer(kv.pool.block(0)).assumingMemoryBound(to: UInt8.self)
        threads.run(tasks: kvHeads * tileCount) { task, thread in
            let kvHead = task % kvHeads
            let tileIndex = task / kvHeads
            let firstToken = tileIndex * DenseAttention.tileTokens
            let tokenCount = min(DenseAttention.tileTokens, queries.tokenCount - firstToken)
            let work = scratch[thread]
            let rows = tile.gather(queries: queries, kvHead: kvHead, firstToken: firstToken, tokenCount: tokenCount, into: work)
            tile.resetState(work, rows: rows)
            blockLists[kvHead].withList(poolBase: poolBase, layout: layout) { list in
                let blockLimit = visibleBlockCount(list, lastPosition: queries.firstPosition + firstToken + tokenCount - 1)
                tile.attend(work, rows: rows, list: &list, blockLimit: blockLimit)
            }
            tile.finish(work, rows: rows, kvHead: kvHead, firstToken: firstToken, tokenCount: tokenCount, output: output)
        }
        return pairs
    }
}

/// Some blocks of one stream as an `ei_kv_block_list` (ids, first positions and fills, in
/// stream order; the K/V stays in the pool).
struct BlockSubset {
    var ids: [Int32] = []
    var firstPositions: [Int32] = []
    var fills: [Int32] = []

    mutating func reserve(_ blockCount: Int) {
        ids.reserveCapacity(blockCount); firstPositions.reserveCapacity(blockCount); fills.reserveCapacity(blockCount)
    }

    mutating func append(_ block: Int, of list: ei_kv_block_list) {
        ids.append(list.blockIDs[block]); firstPositions.append(list.firstPositions[block]); fills.append(list.fills[block])
    }

    func withList<Result>(poolBase: UnsafePointer<UInt8>, layout: KVLayout,
                          _ body: (inout ei_kv_block_list) -> Result) -> Result {
        ids.withUnsafeBufferPointer { idBuffer in
            firstPositions.withUnsafeBufferPointer { firstBuffer in
                fills.withUnsafeBufferPointer { fillBuffer in
                    var list = ei_kv_block_list(
                        poolBase: poolBase, blockBytes: layout.bytesPerBlock, blockIDs: idBuffer.baseAddress,
                        firstPositions: firstBuffer.baseAddress, fills: fillBuffer.baseAddress,
                        blockCount: Int32(ids.count), isF16: layout.dataType == .f16 ? 1 : 0)
                    return body(&list)
                }
            }
        }
    }
}
