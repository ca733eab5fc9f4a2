import CKernels

/// The steps every attention path shares for one (KV head, row tile): gather the group's query
/// rows, run the online softmax over a block list in chunks, normalise into the output. Dense and
/// sparse attention call the same code, so with the same block list they give the same bits.
struct AttentionTile {
    let geometry: AttentionGeometry
    static let chunkBlocks = Int(EI_ATTN_CHUNK_BLOCKS)

    /// Copies the rows of one KV head's query group (or of `heads` of it, from `firstMember` on)
    /// for tokens [firstToken, firstToken+tokenCount) into `work.queries` (token-major, then head)
    /// with their visibility limits; returns the rows.
    func gather(queries: AttentionQueries, kvHead: Int, firstToken: Int, tokenCount: Int,
                into work: AttentionScratch, firstMember: Int = 0, heads: Int? = nil) -> Int {
        gather(queries: queries, kvHead: kvHead, firstToken: firstToken, tokenCount: tokenCount,
               into: work.queries, limits: work.limits, firstMember: firstMember, heads: heads)
    }

    func gather(queries: AttentionQueries, kvHead: Int, firstToken: Int, tokenCount: Int,
                into destination: UnsafeMutablePointer<Float>, limits: UnsafeMutablePointer<Int32>,
                firstMember: Int = 0, heads: Int? = nil) -> Int {
        let group = geometry.groupSize
        let count = heads ?? group
        let headDim = geometry.headDim
        for token in 0..<tokenCount {
            let source = queries.base + (firstToken + token) * queries.tokenStride + (kvHead * group + firstMember) * headDim
            (destination + token * count * headDim).update(from: source, count: count * headDim)
            for head in 0..<count {
                limits[token * count + head] = Int32(queries.firstPosition + firstToken + token)
            }
        }
        return tokenCount * count
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

    /// Normalises the state and writes it to the output rows of the group's heads (or of `heads`
    /// of them from `firstMember` on, as gathered).
    func finish(_ work: AttentionScratch, rows: Int, kvHead: Int, firstToken: Int, tokenCount: Int,
                output: AttentionOutput, firstMember: Int = 0, heads: Int? = nil) {
        let group = geometry.groupSize
        let count = heads ?? group
        let headDim = geometry.headDim
        for token in 0..<tokenCount {
            let destination = output.base + (firstToken + token) * output.tokenStride + (kvHead * group + firstMember) * headDim
            ei_attention_finish(Int32(count), Int32(headDim), work.accumulator + token * count * headDim,
                                work.rowSum + token * count, destination, headDim)
        }
    }
}
