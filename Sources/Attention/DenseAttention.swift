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
    /// Decode path: chunk states, (rowGroups, chunkCount, rows, headDim + 2).
    private var partials: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var partialCapacity = 0
    /// Decode path: gathered query rows (rowGroups, rows, headDim) and their limits.
    private var gathered: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var gatheredLimits: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private var gatheredCapacity = 0
    /// The (KV head, lane, heads) groups of rows of the current call; reused, never shrunk.
    private var rowGroups: [RowGroup] = []

    /// Query heads that read one lane of a KV head's stream: the whole group, or one head of it
    /// when the stream is split per query head (GQA-expanded KV compression).
    struct RowGroup {
        var kvHead: Int
        var lane: Int
        var firstMember: Int
        var heads: Int
    }

    /// Tokens per row tile in prefill (rows = tileTokens × group size).
    public static let tileTokens = 8
    private static let chunkBlocks = Int(EI_ATTN_CHUNK_BLOCKS)

    public init(geometry: AttentionGeometry, threads: ThreadPool) {
        self.geometry = geometry
        self.threads = threads
        scratch = (0..<threads.threadCount).map { _ in AttentionScratch() }
        rowGroups.reserveCapacity(geometry.queryHeadCount)
    }

    deinit {
        partials.deallocate()
        gathered.deallocate()
        gatheredLimits.deallocate()
    }

    /// Attention of `queries` over the cache of `kv` in `layer`; the cache must already hold the
    /// keys and values of every position up to the last query's.
    public func run(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput) {
        let group = geometry.groupSize
        let rowsPerTile = Self.tileTokens * group
        for item in scratch { item.ensure(rows: rowsPerTile, headDim: geometry.headDim) }
        rowGroups.removeAll(keepingCapacity: true)
        var longestStream = 0
        for kvHead in 0..<geometry.kvHeadCount {
            let members = kv.memberCount(layer: layer, kvHead: kvHead)
            if members == 1 {
                rowGroups.append(RowGroup(kvHead: kvHead, lane: 0, firstMember: 0, heads: group))
                longestStream = max(longestStream, kv.blockCount(layer: layer, kvHead: kvHead))
            } else {
                for member in 0..<members {
                    rowGroups.append(RowGroup(kvHead: kvHead, lane: member, firstMember: member, heads: 1))
                    longestStream = max(longestStream, kv.blockCount(layer: layer, kvHead: kvHead, member: member))
                }
            }
        }
        let chunkCount = (longestStream + Self.chunkBlocks - 1) / Self.chunkBlocks
        if queries.tokenCount <= Self.tileTokens && chunkCount >= 2 {
            runSplitOverChunks(layer: layer, queries: queries, kv: kv, output: output, chunkCount: chunkCount)
        } else {
            runSplitOverTiles(layer: layer, queries: queries, kv: kv, output: output)
        }
    }

    // MARK: - Prefill: one task per (row group, row tile)

    private func runSplitOverTiles(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput) {
        let tileCount = (queries.tokenCount + Self.tileTokens - 1) / Self.tileTokens
        let groups = rowGroups
        let tile = AttentionTile(geometry: geometry)
        threads.run(tasks: groups.count * tileCount) { task, thread in
            let rowGroup = groups[task % groups.count]
            let firstToken = task / groups.count * Self.tileTokens
            let tokenCount = min(Self.tileTokens, queries.tokenCount - firstToken)
            let work = scratch[thread]
            let rows = tile.gather(queries: queries, kvHead: rowGroup.kvHead, firstToken: firstToken, tokenCount: tokenCount,
                                   into: work, firstMember: rowGroup.firstMember, heads: rowGroup.heads)
            tile.resetState(work, rows: rows)
            kv.withBlockList(layer: layer, kvHead: rowGroup.kvHead, member: rowGroup.lane) { list in
                var list = list
                let blockLimit = visibleBlockCount(list, lastPosition: queries.firstPosition + firstToken + tokenCount - 1)
                tile.attend(work, rows: rows, list: &list, blockLimit: blockLimit)
            }
            tile.finish(work, rows: rows, kvHead: rowGroup.kvHead, firstToken: firstToken, tokenCount: tokenCount, output: output,
                        firstMember: rowGroup.firstMember, heads: rowGroup.heads)
        }
    }

    // MARK: - Decode: one task per (row group, chunk), then an ordered merge per row group

    private func runSplitOverChunks(layer: Int, queries: AttentionQueries, kv: KVSequence, output: AttentionOutput,
                                    chunkCount: Int) {
        let groups = rowGroups
        let headDim = geometry.headDim
        let maximumRows = queries.tokenCount * geometry.groupSize
        let slot = maximumRows * (headDim + 2)    // one chunk state: acc (rows, headDim), max (rows), sum (rows)
        let needed = groups.count * chunkCount * slot
        if needed > partialCapacity {
            partials.deallocate()
            partials = .allocate(capacity: needed)
            partialCapacity = needed
        }
        if groups.count * maximumRows > gatheredCapacity {
            gathered.deallocate()
            gatheredLimits.deallocate()
            gatheredCapacity = groups.count * maximumRows
            gathered = .allocate(capacity: gatheredCapacity * headDim)
            gatheredLimits = .allocate(capacity: gatheredCapacity)
        }
        let lastPosition = queries.firstPosition + queries.tokenCount - 1
        let tile = AttentionTile(geometry: geometry)
        let (queryRows, limits, states) = (gathered, gatheredLimits, partials)
        for (index, rowGroup) in groups.enumerated() {
            _ = tile.gather(queries: queries, kvHead: rowGroup.kvHead, firstToken: 0, tokenCount: queries.tokenCount,
                            into: queryRows + index * maximumRows * headDim, limits: limits + index * maximumRows,
                            firstMember: rowGroup.firstMember, heads: rowGroup.heads)
        }
        threads.run(tasks: groups.count * chunkCount) { task, thread in
            let index = task % groups.count
            let rowGroup = groups[index]
            let rows = queries.tokenCount * rowGroup.heads
            let chunk = task / groups.count
            let state = states + (index * chunkCount + chunk) * slot
            let accumulator = state, rowMax = state + rows * headDim, rowSum = rowMax + rows
            kv.withBlockList(layer: layer, kvHead: rowGroup.kvHead, member: rowGroup.lane) { list in
                var list = list
                let blockLimit = visibleBlockCount(list, lastPosition: lastPosition)
                let start = chunk * Self.chunkBlocks
                let count = min(Self.chunkBlocks, blockLimit - start)
                if count <= 0 {
                    rowMax.update(repeating: -.infinity, count: rows)
                    return
                }
                ei_attention_chunk(queryRows + index * maximumRows * headDim, headDim, limits + index * maximumRows, Int32(rows),
                                   Int32(headDim), geometry.scale, &list, Int32(start), Int32(count),
                                   accumulator, rowMax, rowSum, scratch[thread].block)
            }
        }
        threads.run(tasks: groups.count) { index, thread in
            let rowGroup = groups[index]
            let rows = queries.tokenCount * rowGroup.heads
            let work = scratch[thread]
            work.ensure(rows: rows, headDim: headDim)
            tile.resetState(work, rows: rows)
            for chunk in 0..<chunkCount {
                let state = states + (index * chunkCount + chunk) * slot
                ei_attention_merge(Int32(rows), Int32(headDim), work.accumulator, work.rowMax, work.rowSum,
                                   state, state + rows * headDim, state + rows * headDim + rows)
            }
            tile.finish(work, rows: rows, kvHead: rowGroup.kvHead, firstToken: 0, tokenCount: queries.tokenCount, output: output,
                        firstMember: rowGroup.firstMember, heads: rowGroup.heads)
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
