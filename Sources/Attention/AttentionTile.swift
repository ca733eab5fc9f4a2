import CKernels

/// The steps every attention path shares for one (KV head, row tile): gather the group's query
/// rows, run the online softmax over a block list in chunks, normalise into the output. Dense and
/// sparse attention call the same code, so with the same block list they give the same bits.
struct AttentionTile {
    let geometry: AttentionGeometry
    static let chunkBlocks = Int(EI_ATTN_CHUNK_BLOCKS)

    /// Copies the rows of one KV head's query group for tokens [firstToken, firstToken+tokenCount)
    /// into `work.queries` (token-major, then head) with their visibility limits; returns the rows.
    func gather(queries: AttentionQueries, kvHead: Int, firstToken: Int, tokenCount: Int,
                into work: AttentionScratch) -> Int {
        let group = geometry.groupSize
        let headDim = geometry.headDim
        for token in 0..<tokenCount {
            let source = queries.base + (firstToken + token) * queries.tokenStride + kvHead * group * headDim
            (work.queries + token * group * headDim).update(from: source, count: group * headDim)
            for head in 0..<group {
                work.limits[token * group + head] = Int32(queries.firstPosition + firstToken + token)
            }
        }
        return tokenCount * group
    }

    func resetState(_ work: AttentionScratch, rows: Int) {
        work.rowMax.update(repeating: -.infinity, count: rows)
        work.rowSum.update(repeating: 0, count: rows)
        work.accumulator.update(repeating: 0, count: rows * geometry.headDim)
    }

    /// Online softmax of the gathered rows over blocks [0, blockLimit) of `list`, chunk by chunk.
    func attend(_ work: AttentionScratch, rows: Int, list: inout ei_kv_block_list, blockLimit: Int) {
        var chunkStart = 0
        while chunkStart < blockLimit {
            let count = min(Self.chunkBlocks, blockLimit - chunkStart)
            ei_attention_chunk(work.queries, geometry.headDim, work.limits, Int32(rows), Int32(geometry.headDim),
                               geometry.scale, &list, Int32(chunkStart), Int32(count),
                               work.chunkAccumulator, work.chunkMax, work.chunkSum, work.block)
            ei_attention_merge(Int32(rows), Int32(geometry.headDim), work.accumulator, work.rowMax, work.rowSum,
                               work.chunkAccumulator, work.chunkMax, work.chunkSum)
            chunkStart += count
        }
    }

    /// Normalises the state and writes it to the output rows of the group's heads.
    func finish(_ work: AttentionScratch, rows: Int, kvHead: Int, firstToken: Int, tokenCount: Int,
                output: AttentionOutput) {
        let group = geometry.groupSize
        let headDim = geometry.headDim
        for token in 0..<tokenCount {
            let destination = output.base + (firstToken + token) * output.tokenStride + kvHead * group * headDim
            ei_attention_finish(Int32(group), Int32(headDim), work.accumulator + token * group * headDim,
                                work.rowSum + token * group, destination, headDim)
        }
    }
}
