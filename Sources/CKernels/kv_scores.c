// Scoring kernels of KV cache compression: attention logits of a few observation queries over
// every entry of a stream, and a softmax that accumulates the probabilities per entry.
#include "CKernels.h"
#include "ei_attention.h"
#include "exp_nonpositive.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define EI_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define EI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#endif

#define T EI_KV_BLOCK_TOKENS
_Static_assert(T == 16, "logits_avx512 holds a block row in one 16-lane vector");

static void logits_portable(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                            const ei_kv_block_list *list, float *out, size_t outStride, float *scratch) {
    size_t entry = 0;
    for (int b = 0; b < list->blockCount; b++) {
        const void *block = list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes;
        int fill = list->fills[b];
        size_t n = (size_t)headDim * T;
        if (list->isF16) {
            const uint16_t *h = (const uint16_t *)block;
            for (size_t i = 0; i < n; i++) scratch[i] = ei_f16_to_f32(h[i]);
        } else {
            memcpy(scratch, block, n * sizeof(float));
        }
        for (int r = 0; r < rowCount; r++) {
            const float *q = queries + (size_t)r * queryStride;
            float s[T];
            for (int t = 0; t < T; t++) s[t] = 0.0f;
            for (int d = 0; d < headDim; d++)
                for (int t = 0; t < T; t++) s[t] += q[d] * scratch[(size_t)d * T + t];
            float *o = out + (size_t)r * outStride + entry;
            for (int t = 0; t < fill; t++) o[t] = s[t] * scale;
        }
        entry += (size_t)fill;
    }
}

static void softmax_accumulate_portable(float *logits, int count, float weight, float *accum) {
    float highest = -INFINITY;
    for (int i = 0; i < count; i++) highest = logits[i] > highest ? logits[i] : highest;
    float sum = 0.0f;
    for (int i = 0; i < count; i++) { logits[i] = expf(logits[i] - highest); sum += logits[i]; }
    float factor = weight / sum;
    for (int i = 0; i < count; i++) accum[i] += factor * logits[i];
}

#if defined(__x86_64__)
EI_TARGET_AVX2
static void logits_avx2(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                        const ei_kv_block_list *list, float *out, size_t outStride, float *scratch) {
    size_t entry = 0;
    const __m256 scaleVector = _mm256_set1_ps(scale);
    for (int b = 0; b < list->blockCount; b++) {
        const void *block = list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes;
        int fill = list->fills[b];
        size_t n = (size_t)headDim * T;
        if (list->isF16) {
            const uint16_t *h = (const uint16_t *)block;
            for (size_t i = 0; i < n; i += 8)
                _mm256_storeu_ps(scratch + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
        } else {
            memcpy(scratch, block, n * sizeof(float));
        }
        for (int r = 0; r < rowCount; r++) {
            const float *q = queries + (size_t)r * queryStride;
            __m256 low0 = _mm256_setzero_ps(), high0 = _mm256_setzero_ps();
            __m256 low1 = _mm256_setzero_ps(), high1 = _mm256_setzero_ps();
            int d = 0;
            for (; d + 1 < headDim; d += 2) {
                __m256 q0 = _mm256_set1_ps(q[d]), q1 = _mm256_set1_ps(q[d + 1]);
                low0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(scratch + (size_t)d * T), low0);
                high0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(scratch + (size_t)d * T + 8), high0);
                low1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(scratch + (size_t)(d + 1) * T), low1);
                high1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(scratch + (size_t)(d + 1) * T + 8), high1);
            }
            for (; d < headDim; d++) {
                __m256 q0 = _mm256_set1_ps(q[d]);
                low0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(scratch + (size_t)d * T), low0);
                high0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(scratch + (size_t)d * T + 8), high0);
            }
            float s[T];
            _mm256_storeu_ps(s, _mm256_mul_ps(_mm256_add_ps(low0, low1), scaleVector));
            _mm256_storeu_ps(s + 8, _mm256_mul_ps(_mm256_add_ps(high0, high1), scaleVector));
            memcpy(out + (size_t)r * outStride + entry, s, sizeof(float) * (size_t)fill);
        }
        entry += (size_t)fill;
    }
}

/// One row of logits_avx512: the whole block in one 16-lane vector per dimension.
EI_TARGET_AVX512
static inline void logits_row_avx512(const float *q, int headDim, const float *keys, __m512 scale, float *out,
                                     __mmask16 fill) {
    __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
    for (int d = 0; d < headDim; d += 2) {
        even = _mm512_fmadd_ps(_mm512_set1_ps(q[d]), _mm512_loadu_ps(keys + (size_t)d * T), even);
        odd = _mm512_fmadd_ps(_mm512_set1_ps(q[d + 1]), _mm512_loadu_ps(keys + (size_t)(d + 1) * T), odd);
    }
    _mm512_mask_storeu_ps(out, fill, _mm512_mul_ps(_mm512_add_ps(even, odd), scale));
}

/// The AVX2 kernel's arithmetic lane for lane (even dimensions into one sum, odd into another,
/// added then scaled), so its logits are bit-identical to logits_avx2's; four rows at a time
/// share each key vector, which keeps eight independent FMA chains in flight where the AVX2
/// kernel reloads the keys for every row.
EI_TARGET_AVX512
static void logits_avx512(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                          const ei_kv_block_list *list, float *out, size_t outStride, float *scratch) {
    size_t entry = 0;
    const __m512 scaleVector = _mm512_set1_ps(scale);
    for (int b = 0; b < list->blockCount; b++) {
        const void *block = list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes;
        int fill = list->fills[b];
        const __mmask16 fillMask = (__mmask16)((1u << fill) - 1u);
        size_t n = (size_t)headDim * T;
        if (list->isF16) {
            const uint16_t *h = (const uint16_t *)block;
            for (size_t i = 0; i < n; i += 16)
                _mm512_storeu_ps(scratch + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
        } else {
            memcpy(scratch, block, n * sizeof(float));
        }
        int r = 0;
        for (; r + 4 <= rowCount; r += 4) {
            const float *q0 = queries + (size_t)r * queryStride, *q1 = q0 + queryStride;
            const float *q2 = q1 + queryStride, *q3 = q2 + queryStride;
            __m512 even0 = _mm512_setzero_ps(), odd0 = _mm512_setzero_ps();
            __m512 even1 = _mm512_setzero_ps(), odd1 = _mm512_setzero_ps();
            __m512 even2 = _mm512_setzero_ps(), odd2 = _mm512_setzero_ps();
            __m512 even3 = _mm512_setzero_ps(), odd3 = _mm512_setzero_ps();
            for (int d = 0; d < headDim; d += 2) {
                const __m512 k0 = _mm512_loadu_ps(scratch + (size_t)d * T);
                const __m512 k1 = _mm512_loadu_ps(scratch + (size_t)(d + 1) * T);
                even0 = _mm512_fmadd_ps(_mm512_set1_ps(q0[d]), k0, even0);
                odd0 = _mm512_fmadd_ps(_mm512_set1_ps(q0[d + 1]), k1, odd0);
                even1 = _mm512_fmadd_ps(_mm512_set1_ps(q1[d]), k0, even1);
                odd1 = _mm512_fmadd_ps(_mm512_set1_ps(q1[d + 1]), k1, odd1);
                even2 = _mm512_fmadd_ps(_mm512_set1_ps(q2[d]), k0, even2);
                odd2 = _mm512_fmadd_ps(_mm512_set1_ps(q2[d + 1]), k1, odd2);
                even3 = _mm512_fmadd_ps(_mm512_set1_ps(q3[d]), k0, even3);
                odd3 = _mm512_fmadd_ps(_mm512_set1_ps(q3[d + 1]), k1, odd3);
            }
            float *o = out + (size_t)r * outStride + entry;
            _mm512_mask_storeu_ps(o, fillMask, _mm512_mul_ps(_mm512_add_ps(even0, odd0), scaleVector));
            _mm512_mask_storeu_ps(o + outStride, fillMask, _mm512_mul_ps(_mm512_add_ps(even1, odd1), scaleVector));
            _mm512_mask_storeu_ps(o + 2 * outStride, fillMask, _mm512_mul_ps(_mm512_add_ps(even2, odd2), scaleVector));
            _mm512_mask_storeu_ps(o + 3 * outStride, fillMask, _mm512_mul_ps(_mm512_add_ps(even3, odd3), scaleVector));
        }
        for (; r < rowCount; r++)
            logits_row_avx512(queries + (size_t)r * queryStride, headDim, scratch, scaleVector,
                              out + (size_t)r * outStride + entry, fillMask);
        entry += (size_t)fill;
    }
}

EI_TARGET_AVX2
static void softmax_accumulate_avx2(float *logits, int count, float weight, float *accum) {
    __m256 highestVector = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= count; i += 8) highestVector = _mm256_max_ps(highestVector, _mm256_loadu_ps(logits + i));
    float lanes[8];
    _mm256_storeu_ps(lanes, highestVector);
    float highest = -INFINITY;
    for (int j = 0; j < 8; j++) highest = lanes[j] > highest ? lanes[j] : highest;
    for (; i < count; i++) highest = logits[i] > highest ? logits[i] : highest;
    const __m256 top = _mm256_set1_ps(highest);
    __m256 sumVector = _mm256_setzero_ps();
    i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 e = ei_exp_nonpositive_avx2(_mm256_sub_ps(_mm256_loadu_ps(logits + i), top));
        _mm256_storeu_ps(logits + i, e);
        sumVector = _mm256_add_ps(sumVector, e);
    }
    _mm256_storeu_ps(lanes, sumVector);
    float sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    for (; i < count; i++) { logits[i] = expf(logits[i] - highest); sum += logits[i]; }
    const float factor = weight / sum;
    const __m256 factorVector = _mm256_set1_ps(factor);
    i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(accum + i, _mm256_fmadd_ps(factorVector, _mm256_loadu_ps(logits + i), _mm256_loadu_ps(accum + i)));
    for (; i < count; i++) accum[i] += factor * logits[i];
}

/// softmax_accumulate_avx2's arithmetic on 16 lanes, bit-identical to it: the same elements take
/// the vector exponential (whole groups of 8) and the scalar tail, and each 16-lane exponential
/// is added to the 8-lane sum low half first, as the AVX2 loop adds consecutive groups.
EI_TARGET_AVX512
static void softmax_accumulate_avx512(float *logits, int count, float weight, float *accum) {
    __m512 highestWide = _mm512_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 16 <= count; i += 16) highestWide = _mm512_max_ps(highestWide, _mm512_loadu_ps(logits + i));
    float highest = _mm512_reduce_max_ps(highestWide);
    for (; i < count; i++) highest = logits[i] > highest ? logits[i] : highest;
    const __m512 top = _mm512_set1_ps(highest);
    const int vectorCount = count - count % 8;
    __m256 sumVector = _mm256_setzero_ps();
    i = 0;
    for (; i + 16 <= vectorCount; i += 16) {
        __m512 e = ei_exp_nonpositive_avx512(_mm512_sub_ps(_mm512_loadu_ps(logits + i), top));
        _mm512_storeu_ps(logits + i, e);
        sumVector = _mm256_add_ps(sumVector, _mm512_castps512_ps256(e));
        sumVector = _mm256_add_ps(sumVector, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)));
    }
    if (i < vectorCount) {
        __m256 e = ei_exp_nonpositive_avx2(_mm256_sub_ps(_mm256_loadu_ps(logits + i), _mm512_castps512_ps256(top)));
        _mm256_storeu_ps(logits + i, e);
        sumVector = _mm256_add_ps(sumVector, e);
        i += 8;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, sumVector);
    float sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    for (; i < count; i++) { logits[i] = expf(logits[i] - highest); sum += logits[i]; }
    const float factor = weight / sum;
    const __m512 factorVector = _mm512_set1_ps(factor);
    i = 0;
    for (; i + 16 <= count; i += 16)
        _mm512_storeu_ps(accum + i, _mm512_fmadd_ps(factorVector, _mm512_loadu_ps(logits + i), _mm512_loadu_ps(accum + i)));
    if (i + 8 <= count) {
        _mm256_storeu_ps(accum + i, _mm256_fmadd_ps(_mm512_castps512_ps256(factorVector), _mm256_loadu_ps(logits + i),
                                                    _mm256_loadu_ps(accum + i)));
        i += 8;
    }
    for (; i < count; i++) accum[i] += factor * logits[i];
}
#endif

void ei_kv_logits(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                  const ei_kv_block_list *list, float *out, size_t outStride, float *scratch) {
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX512 && headDim % 8 == 0) {
        logits_avx512(queries, queryStride, rowCount, headDim, scale, list, out, outStride, scratch);
        return;
    }
    if (ei_active_isa() >= EI_ISA_AVX2 && headDim % 8 == 0) {
        logits_avx2(queries, queryStride, rowCount, headDim, scale, list, out, outStride, scratch);
        return;
    }
#endif
    logits_portable(queries, queryStride, rowCount, headDim, scale, list, out, outStride, scratch);
}

void ei_softmax_accumulate(float *logits, int count, float weight, float *accum) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX512) {
        softmax_accumulate_avx512(logits, count, weight, accum);
        return;
    }
    if (ei_active_isa() >= EI_ISA_AVX2) {
        softmax_accumulate_avx2(logits, count, weight, accum);
        return;
    }
#endif
    softmax_accumulate_portable(logits, count, weight, accum);
}
