#ifndef ENTROPYINFER_ATTENTION_H
#define ENTROPYINFER_ATTENTION_H
// KV-cache block storage and attention microkernels.
//
// A KV block holds EI_KV_BLOCK_TOKENS entries of one (layer, KV head):
//   keys   (headDim, EI_KV_BLOCK_TOKENS)  transposed: the 16 keys of a dimension are adjacent
//   values (EI_KV_BLOCK_TOKENS, headDim)
// in f16 (IEEE binary16) or f32. Keys are stored after RoPE.
//
// Attention is computed per query row with an online softmax over blocks taken in list order,
// grouped in chunks of at most EI_ATTN_CHUNK_BLOCKS blocks: a chunk yields a partial state
// (max, sum, unnormalised output) from scratch, and chunk states are merged in order with
// ei_attention_merge. A row's arithmetic depends only on its query, its visibility limit and the
// block list, never on how many rows are computed together, so prefill chunks and decode steps
// produce bit-identical outputs.
#include <stdint.h>
#include <stddef.h>

#define EI_KV_BLOCK_TOKENS 16
#define EI_ATTN_CHUNK_BLOCKS 16
/// Position of an entry visible to every query (compacted caches keep only past entries).
enum { EI_POSITION_ALWAYS_VISIBLE = INT32_MIN };

/// f32 -> f16 with round-to-nearest-even, and back (exact). Portable bit manipulation.
uint16_t ei_f32_to_f16(float value);
float ei_f16_to_f32(uint16_t value);

/// Stores `count` entries into slots [slot, slot+count) of an f16 block.
/// keys/values: (count, headDim) f32 rows, `stride` floats apart.
void ei_kv_store_f16(void *block, int headDim, int slot, int count,
                     const float *keys, size_t keyStride, const float *values, size_t valueStride);
void ei_kv_store_f32(void *block, int headDim, int slot, int count,
                     const float *keys, size_t keyStride, const float *values, size_t valueStride);

/// Element-wise min and max over entries [first, first+count) of a block's keys.
/// summary: (2, headDim) f16, min row then max row. Keys are f16 or f32 (`isF16`); the
/// summary is f16 (exact for f16 keys).
void ei_kv_summarize(const void *block, int headDim, int isF16, int first, int count, uint16_t *summary);

/// A list of KV blocks of one (layer, KV head), in attention order.
typedef struct {
    const uint8_t *poolBase;        ///< start of the block pool
    size_t blockBytes;              ///< bytes per block
    const int32_t *blockIDs;        ///< (blockCount) block i lives at poolBase + blockIDs[i] * blockBytes
    const int32_t *firstPositions;  ///< (blockCount) absolute position of entry 0 (entries of a
                                    ///< block are consecutive), or EI_POSITION_ALWAYS_VISIBLE
    const int32_t *fills;           ///< (blockCount) entries present, 1...16
    int blockCount;
    int isF16;                      ///< 1: f16 blocks, 0: f32 blocks
} ei_kv_block_list;

/// Partial attention of `rowCount` query rows over blocks [firstBlock, firstBlock+blockCount)
/// of `list` (blockCount <= EI_ATTN_CHUNK_BLOCKS), starting from an empty state.
///   queries: (rowCount, headDim) f32, row i at queries + i*queryStride
///   rowLimits: (rowCount) last absolute position row i may see (causal limit)
///   acc: (rowCount, headDim) out, unnormalised sum of p*v; rowMax, rowSum: (rowCount) out
///   scratch: 2 * EI_KV_BLOCK_TOKENS * headDim floats
/// A row that sees no entry gets max -inf, sum 0, acc 0. `scale` multiplies q.k.
void ei_attention_chunk(const float *queries, size_t queryStride, const int32_t *rowLimits, int rowCount,
                        int headDim, float scale, const ei_kv_block_list *list, int firstBlock, int blockCount,
                        float *acc, float *rowMax, float *rowSum, float *scratch);

/// state = merge(state, chunk) for `rowCount` rows: the same arithmetic for every caller.
void ei_attention_merge(int rowCount, int headDim, float *acc, float *rowMax, float *rowSum,
                        const float *chunkAcc, const float *chunkMax, const float *chunkSum);

/// out = acc / sum per row (0 for rows that saw nothing). out and acc may alias.
void ei_attention_finish(int rowCount, int headDim, const float *acc, const float *rowSum,
                         float *out, size_t outStride);

/// Block scores of the entropy profile (arXiv 2606.09508, CritiPrefill lineage) for the 8-token
/// key units of `blockCount` KV blocks:
///   score[2*b + u] = scale * mean_h max(mid_h . kmin_{b,u}, mid_h . kmax_{b,u})
/// where mid_h = (qmax_h + qmin_h) / 2 is the pooled query of head h (the released score
/// max(1/2(qmax.kmax + qmin.kmax), 1/2(qmax.kmin + qmin.kmin)) is exactly this) and kmin/kmax
/// are the unit's key summaries (ei_kv_summarize).
///   mids: (headCount, headDim) f32
///   summaryBase: summaries of block id i start at summaryBase + i * summaryStride (uint16s):
///                (2 units, 2 rows min/max, headDim) f16
///   blockIDs: (blockCount); scores: (2 * blockCount) out. Units beyond a block's fill are the
///   caller's to mask.
void ei_profile_scores(const float *mids, int headCount, int headDim, float scale,
                       const uint16_t *summaryBase, size_t summaryStride, const int32_t *blockIDs, int blockCount,
                       float *scores);

/// Raw attention logits of `rowCount` queries against every entry of `list` (KV compression
/// scoring): out[r * outStride + e] = scale * q_r . k_e for entries e numbered in list order
/// (block by block, `fills` entries each). queries: (rowCount, headDim) f32, rows `queryStride`
/// apart. scratch: EI_KV_BLOCK_TOKENS * headDim floats.
void ei_kv_logits(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                  const ei_kv_block_list *list, float *out, size_t outStride, float *scratch);

/// accum[e] += weight * softmax(logits[0..count))[e] for e < count; logits is overwritten with
/// the unnormalised exponentials. Nothing happens when count <= 0.
void ei_softmax_accumulate(float *logits, int count, float weight, float *accum);

#endif
