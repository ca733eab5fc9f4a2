import CKernels
import Kernels
import KVMemory

/// Causal attention of a session's new tokens over everything in its KV cache: the oracle that
/// every sparse path is tested against, and the production path for short prompts and decode.
///
/// Rows are (token, query head) pairs; the rows of one KV head share its blocks. Blocks are
/// taken in chunks of `EI_ATTN_CHUNK_BLOCKS` (256 entries), each chunk's softmax state is built
/// from scratch and merged into the row's state in chunk order. Prefill (many tokens) walks the
/// chunks of a row tile in sequence; decode (few tokens, long cache) computes chunk states in
/// parallel and merges them afterwards. Both do the same arithmetic per row, so outputs are
/// bit-identical however tokens are batched or chunked.
public final class DenseAttention: @unchecked Sendable {
    public let geometry: AttentionGeometry
    private let threads: ThreadPool
    private var scratch: [AttentionScratch]
    /// Decode path: chunk states, (kvHeadCount, chunkCount, rows, headDim + 2).
    private var partials: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var partialCapacity = 0

    /// Tokens per row tile in prefill (rows = tileTokens × group size).
    public static let tileTokens = 8
    private static let chunkBlocks = Int(EI_ATTN_CHUNK_BLOCKS)

    public init(geometry: AttentionGeometry, threads: ThreadPool) {
        self.geometry = geometry
        self.threads = threads
        scratch = (0..<threads.threadCount).map { _ in AttentionScratch() }
    }

    deinit { partials.deallocate() }

    /// Attention of `queries` over the cache of `kv` in `layer`; the cache must already hold the
    /// keys and values of every position up to the last query's.
    public func run(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput) {
        let rowsPerTile = Self.tileTokens * geometry.groupSize
        for item in scratch { item.ensure(rows: rowsPerTile, headDim: geometry.headDim) }
        let longestStream = (0..<geometry.kvHeadCount).map { kv.blockCount(layer: layer, kvHead: $0) }.max() ?? 0
        let chunkCount = (longestStream + Self.chunkBlocks - 1) / Self.chunkBlocks
        if queries.tokenCount <= Self.tileTokens && chunkCount >= 2 {
            runSplitOverChunks(layer: layer, queries: queries, kv: kv, output: output, chunkCount: chunkCount)
        } else {
            runSplitOverTiles(layer: layer, queries: queries, kv: kv, output: output)
        }
    }

    // MARK: - Prefill: one task per (KV head, row tile)

    private func runSplitOverTiles(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput) {
        let tileCount = (queries.tokenCount + Self.tileTokens - 1) / Self.tileTokens
        let kvHeads = geometry.kvHeadCount
        let tile = AttentionTile(geometry: geometry)
        threads.run(tasks: kvHeads * tileCount) { task, thread in
            let kvHead = task % kvHeads
            let firstToken = task / kvHeads * Self.tileTokens
            let tokenCount = min(Self.tileTokens, queries.tokenCount - firstToken)
            let work = scratch[thread]
            let rows = tile.gather(queries: queries, kvHead: kvHead, firstToken: firstToken, tokenCount: tokenCount, into: work)
            tile.resetState(work, rows: rows)
            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                var list = list
                let blockLimit = visibleBlockCount(list, lastPosition: queries.firstPosition + firstToken + tokenCount - 1)
                tile.attend(work, rows: rows, list: &list, blockLimit: blockLimit)
            }
            tile.finish(work, rows: rows, kvHead: kvHead, firstToken: firstToken, tokenCount: tokenCount, output: output)
        }
    }

    // MARK: - Decode: one task per (KV head, chunk), then an ordered merge per KV head

    private func runSplitOverChunks(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput,
                                    chunkCount: Int) {
        let kvHeads = geometry.kvHeadCount
        let headDim = geometry.headDim
        let rows = queries.tokenCount * geometry.groupSize
        let slot = rows * (headDim + 2)    // one chunk state: acc (rows, headDim), max (rows), sum (rows)
        let needed = kvHeads * chunkCount * slot
        if needed > partialCapacity {
            partials.deallocate()
            partials = .allocate(capacity: needed)
            partialCapacity = needed
        }
        let lastPosition = queries.firstPosition + queries.tokenCount - 1
        let tile = AttentionTile(geometry: geometry)
        // Gather each KV head's rows once, into the scratch of thread 0..kvHeads-1 cyclically is
        // not safe across tasks; gather into the partial area's neighbour instead: reuse scratch[0]
        // per head sequentially (few rows).
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * rows * headDim)
        let limits = UnsafeMutablePointer<Int32>.allocate(capacity: kvHeads * rows)
        defer { gathered.deallocate(); limits.deallocate() }
        for kvHead in 0..<kvHeads {
            let work = scratch[0]
            _ = tile.gather(queries: queries, kvHead: kvHead, firstToken: 0, tokenCount: queries.tokenCount, into: work)
            (gathered + kvHead * rows * headDim).update(from: work.queries, count: rows * headDim)
            (limits + kvHead * rows).update(from: work.limits, count: rows)
        }
        threads.run(tasks: kvHeads * chunkCount) { task, thread in
            let kvHead = task % kvHeads
            let chunk = task / kvHeads
            let state = partials + (kvHead * chunkCount + chunk) * slot
            let accumulator = state, rowMax = state + rows * headDim, rowSum = rowMax + rows
            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                var list = list
                let blockLimit = visibleBlockCount(list, lastPosition: lastPosition)
                let start = chunk * Self.chunkBlocks
                let count = min(Self.chunkBlocks, blockLimit - start)
                if count <= 0 {
                    rowMax.update(repeating: -.infinity, count: rows)
                    return
                }
                ei_attention_chunk(gathered + kvHead * rows * headDim, headDim, limits + kvHead * rows, Int32(rows),
                                   Int32(headDim), geometry.scale, &list, Int32(start), Int32(count),
                                   accumulator, rowMax, rowSum, scratch[thread].block)
            }
        }
        threads.run(tasks: kvHeads) { kvHead, thread in
            let work = scratch[thread]
            work.ensure(rows: rows, headDim: headDim)
            tile.resetState(work, rows: rows)
            for chunk in 0..<chunkCount {
                let state = partials + (kvHead * chunkCount + chunk) * slot
                ei_attention_merge(Int32(rows), Int32(headDim), work.accumulator, work.rowMax, work.rowSum,
                                   state, state + rows * headDim, state + rows * headDim + rows)
            }
            tile.finish(work, rows: rows, kvHead: kvHead, firstToken: 0, tokenCount: queries.tokenCount, output: output)
        }
    }
}

/// Number of leading blocks of `list` that hold an entry at or before `lastPosition` (blocks of
/// a stream are in position order; always-visible blocks count).
func visibleBlockCount(_ list: ei_kv_block_list, lastPosition: Int) -> Int {
    var count = Int(list.blockCount)
    while count > 0 {
        let first = list.firstPositions[count - 1]
        if first == Int32.min /* EI_POSITION_ALWAYS_VISIBLE */ || Int(first) <= lastPosition { break }
        count -= 1
    }
    return count
}
