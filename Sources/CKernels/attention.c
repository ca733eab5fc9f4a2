// Attention over KV blocks with an online softmax; see ei_attention.h for the contract.
//
// Per row and block, in this exact order (both paths):
//   s[t]   = scale * sum_d q[d] * k[t][d]   (eight partial sums over d mod 8, combined as a fixed tree)
//   n      = visible entries of the block for this row (always a prefix of the block)
//   m'     = max(m, max_{t<n} s[t]);  alpha = exp(m - m')  (0 when m = -inf)
//   p[t]   = exp(s[t] - m') for t < n, else 0
//   l      = l * alpha + sum_t p[t]
//   acc    = acc * alpha + (sum over even t<n of p[t] v[t] + sum over odd t<n of p[t] v[t])
#include "CKernels.h"
#include "ei_attention.h"
#include "exp_nonpositive.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define EI_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#endif

#define T EI_KV_BLOCK_TOKENS

/// Entries of `block` visible to a row whose last visible position is `limit`.
static inline int visible_entries(const ei_kv_block_list *list, int block, int32_t limit) {
    int32_t first = list->firstPositions[block];
    int32_t fill = list->fills[block];
    if (first == EI_POSITION_ALWAYS_VISIBLE) return fill;
    int64_t count = (int64_t)limit - (int64_t)first + 1;
    if (count <= 0) return 0;
    return count < fill ? (int)count : fill;
}

/// Converts a block to f32: keys (headDim, T) into kf, values (T, headDim) into vf.
static void load_block_portable(const void *block, int headDim, int isF16, float *kf, float *vf) {
    size_t n = (size_t)headDim * T;
    if (isF16) {
        const uint16_t *h = (const uint16_t *)block;
        for (size_t i = 0; i < n; i++) kf[i] = ei_f16_to_f32(h[i]);
        for (size_t i = 0; i < n; i++) vf[i] = ei_f16_to_f32(h[n + i]);
    } else {
        memcpy(kf, block, n * sizeof(float));
        memcpy(vf, (const float *)block + n, n * sizeof(float));
    }
}

static void chunk_portable(const float *queries, size_t queryStride, const int32_t *rowLimits, int rowCount,
                           int headDim, float scale, const ei_kv_block_list *list, int firstBlock, int blockCount,
                           float *acc, float *rowMax, float *rowSum, float *scratch) {
    float *kf = scratch;
    float *vf = scratch + (size_t)T * headDim;
    for (int r = 0; r < rowCount; r++) {
        rowMax[r] = -INFINITY;
        rowSum[r] = 0.0f;
        memset(acc + (size_t)r * headDim, 0, sizeof(float) * (size_t)headDim);
    }
    for (int b = firstBlock; b < firstBlock + blockCount; b++) {
        load_block_portable(list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes, headDim, list->isF16, kf, vf);
        for (int r = 0; r < rowCount; r++) {
            int n = visible_entries(list, b, rowLimits[r]);
            if (n == 0) continue;
            const float *q = queries + (size_t)r * queryStride;
            float s[T], p[T];
            for (int t = 0; t < T; t++) {
                float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int d = 0; d < headDim; d += 8)
                    for (int j = 0; j < 8; j++) partial[j] += q[d + j] * kf[(size_t)(d + j) * T + t];
                float sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
                          + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
                s[t] = sum * scale;
            }
            float blockMax = -INFINITY;
            for (int t = 0; t < n; t++) blockMax = s[t] > blockMax ? s[t] : blockMax;
            float previous = rowMax[r];
            float next = previous > blockMax ? previous : blockMax;
            float alpha = previous == -INFINITY ? 0.0f : expf(previous - next);
            float sum = 0.0f;
            for (int t = 0; t < T; t++) { p[t] = t < n ? expf(s[t] - next) : 0.0f; sum += p[t]; }
            rowSum[r] = rowSum[r] * alpha + sum;
            rowMax[r] = next;
            float *a = acc + (size_t)r * headDim;
            for (int d = 0; d < headDim; d++) {
                float even = 0.0f, odd = 0.0f;
                for (int t = 0; t < n; t += 2) even += p[t] * vf[(size_t)t * headDim + d];
                for (int t = 1; t < n; t += 2) odd += p[t] * vf[(size_t)t * headDim + d];
                a[d] = a[d] * alpha + (even + odd);
            }
        }
    }
}

#if defined(__x86_64__)
/// exp(x) for x <= 0 (inputs below -100 give ~0): Cody–Waite reduction and a degree-6 polynomial,
/// about 1 ulp on the range that matters.
EI_TARGET_AVX512
static inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-100.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 poly = _mm512_set1_ps(1.0f / 720.0f);
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.0f / 120.0f));
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.0f / 24.0f));
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.0f / 6.0f));
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(0.5f));
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.0f));
    poly = _mm512_fmadd_ps(poly, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(poly, n);
}

EI_TARGET_AVX512
static void load_block_avx512(const void *block, int headDim, int isF16, float *kf, float *vf) {
    size_t n = (size_t)headDim * T;
    if (isF16) {
        const uint16_t *h = (const uint16_t *)block;
        for (size_t i = 0; i < n; i += 16) {
            _mm512_storeu_ps(kf + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
            _mm512_storeu_ps(vf + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + n + i))));
        }
    } else {
        memcpy(kf, block, n * sizeof(float));
        memcpy(vf, (const float *)block + n, n * sizeof(float));
    }
}

EI_TARGET_AVX512
static void chunk_avx512(const float *queries, size_t queryStride, const int32_t *rowLimits, int rowCount,
                         int headDim, float scale, const ei_kv_block_list *list, int firstBlock, int blockCount,
                         float *acc, float *rowMax, float *rowSum, float *scratch) {
    float *kf = scratch;
    float *vf = scratch + (size_t)T * headDim;
    const int dimVectors = headDim / 16;
    for (int r = 0; r < rowCount; r++) {
        rowMax[r] = -INFINITY;
        rowSum[r] = 0.0f;
        memset(acc + (size_t)r * headDim, 0, sizeof(float) * (size_t)headDim);
    }
    const __m512 scaleVector = _mm512_set1_ps(scale);
    for (int b = firstBlock; b < firstBlock + blockCount; b++) {
        load_block_avx512(list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes, headDim, list->isF16, kf, vf);
        for (int r = 0; r < rowCount; r++) {
            int n = visible_entries(list, b, rowLimits[r]);
            if (n == 0) continue;
            const float *q = queries + (size_t)r * queryStride;
            __m512 partial[8];
            for (int j = 0; j < 8; j++) partial[j] = _mm512_setzero_ps();
            for (int d = 0; d < headDim; d += 8)
                for (int j = 0; j < 8; j++)
                    partial[j] = _mm512_fmadd_ps(_mm512_set1_ps(q[d + j]), _mm512_loadu_ps(kf + (size_t)(d + j) * T), partial[j]);
            __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(partial[0], partial[1]), _mm512_add_ps(partial[2], partial[3])),
                                     _mm512_add_ps(_mm512_add_ps(partial[4], partial[5]), _mm512_add_ps(partial[6], partial[7])));
            s = _mm512_mul_ps(s, scaleVector);
            __mmask16 visible = (__mmask16)((1u << n) - 1u);
            float blockMax = _mm512_mask_reduce_max_ps(visible, s);
            float previous = rowMax[r];
            float next = previous > blockMax ? previous : blockMax;
            float alpha = previous == -INFINITY ? 0.0f : expf(previous - next);
            __m512 p = _mm512_maskz_mov_ps(visible, exp_nonpositive(_mm512_sub_ps(s, _mm512_set1_ps(next))));
            rowSum[r] = rowSum[r] * alpha + _mm512_reduce_add_ps(p);
            rowMax[r] = next;
            float probabilities[T];
            _mm512_storeu_ps(probabilities, p);
            float *a = acc + (size_t)r * headDim;
            const __m512 alphaVector = _mm512_set1_ps(alpha);
            for (int v = 0; v < dimVectors; v++) {
                __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
                int t = 0;
                for (; t + 1 < n; t += 2) {
                    even = _mm512_fmadd_ps(_mm512_set1_ps(probabilities[t]), _mm512_loadu_ps(vf + (size_t)t * headDim + v * 16), even);
                    odd = _mm512_fmadd_ps(_mm512_set1_ps(probabilities[t + 1]), _mm512_loadu_ps(vf + (size_t)(t + 1) * headDim + v * 16), odd);
                }
                if (t < n) even = _mm512_fmadd_ps(_mm512_set1_ps(probabilities[t]), _mm512_loadu_ps(vf + (size_t)t * headDim + v * 16), even);
                __m512 blockOutput = _mm512_add_ps(even, odd);
                _mm512_storeu_ps(a + v * 16, _mm512_fmadd_ps(_mm512_loadu_ps(a + v * 16), alphaVector, blockOutput));
            }
        }
    }
}
#endif


#if defined(__x86_64__)
#define EI_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

EI_TARGET_AVX2
static void load_block_avx2(const void *block, int headDim, int isF16, float *kf, float *vf) {
    size_t n = (size_t)headDim * T;
    if (isF16) {
        const uint16_t *h = (const uint16_t *)block;
        for (size_t i = 0; i < n; i += 8) {
            _mm256_storeu_ps(kf + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
            _mm256_storeu_ps(vf + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + n + i))));
        }
    } else {
        memcpy(kf, block, n * sizeof(float));
        memcpy(vf, (const float *)block + n, n * sizeof(float));
    }
}

/// Sum of 8 lanes in a fixed order: ((0+4)+(2+6)) + ((1+5)+(3+7)).
EI_TARGET_AVX2
static inline float horizontal_sum_avx2(__m256 v) {
    __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    __m128 single = _mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1));
    return _mm_cvtss_f32(single);
}

EI_TARGET_AVX2
static void chunk_avx2(const float *queries, size_t queryStride, const int32_t *rowLimits, int rowCount,
                       int headDim, float scale, const ei_kv_block_list *list, int firstBlock, int blockCount,
                       float *acc, float *rowMax, float *rowSum, float *scratch) {
    float *kf = scratch;
    float *vf = scratch + (size_t)T * headDim;
    const int dimVectors = headDim / 8;
    for (int r = 0; r < rowCount; r++) {
        rowMax[r] = -INFINITY;
        rowSum[r] = 0.0f;
        memset(acc + (size_t)r * headDim, 0, sizeof(float) * (size_t)headDim);
    }
    const __m256 scaleVector = _mm256_set1_ps(scale);
    const __m256i laneIndex = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int b = firstBlock; b < firstBlock + blockCount; b++) {
        load_block_avx2(list->poolBase + (size_t)list->blockIDs[b] * list->blockBytes, headDim, list->isF16, kf, vf);
        for (int r = 0; r < rowCount; r++) {
            int n = visible_entries(list, b, rowLimits[r]);
            if (n == 0) continue;
            const float *q = queries + (size_t)r * queryStride;
            __m256 low[4], high[4];
            for (int j = 0; j < 4; j++) { low[j] = _mm256_setzero_ps(); high[j] = _mm256_setzero_ps(); }
            for (int d = 0; d < headDim; d += 4)
                for (int j = 0; j < 4; j++) {
                    __m256 qd = _mm256_set1_ps(q[d + j]);
                    low[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kf + (size_t)(d + j) * T), low[j]);
                    high[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kf + (size_t)(d + j) * T + 8), high[j]);
                }
            __m256 sLow = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(low[0], low[1]), _mm256_add_ps(low[2], low[3])), scaleVector);
            __m256 sHigh = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(high[0], high[1]), _mm256_add_ps(high[2], high[3])), scaleVector);
            float s[T];
            _mm256_storeu_ps(s, sLow);
            _mm256_storeu_ps(s + 8, sHigh);
            float blockMax = -INFINITY;
            for (int t = 0; t < n; t++) blockMax = s[t] > blockMax ? s[t] : blockMax;
            float previous = rowMax[r];
            float next = previous > blockMax ? previous : blockMax;
            float alpha = previous == -INFINITY ? 0.0f : expf(previous - next);
            __m256 nextVector = _mm256_set1_ps(next);
            __m256 visibleLow = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), laneIndex));
            __m256 visibleHigh = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), laneIndex));
            __m256 pLow = _mm256_and_ps(visibleLow, ei_exp_nonpositive_avx2(_mm256_sub_ps(sLow, nextVector)));
            __m256 pHigh = _mm256_and_ps(visibleHigh, ei_exp_nonpositive_avx2(_mm256_sub_ps(sHigh, nextVector)));
            rowSum[r] = rowSum[r] * alpha + horizontal_sum_avx2(_mm256_add_ps(pLow, pHigh));
            rowMax[r] = next;
            float probabilities[T];
            _mm256_storeu_ps(probabilities, pLow);
            _mm256_storeu_ps(probabilities + 8, pHigh);
            float *a = acc + (size_t)r * headDim;
            const __m256 alphaVector = _mm256_set1_ps(alpha);
            for (int v = 0; v < dimVectors; v++) {
                __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
                int t = 0;
                for (; t + 1 < n; t += 2) {
                    even = _mm256_fmadd_ps(_mm256_set1_ps(probabilities[t]), _mm256_loadu_ps(vf + (size_t)t * headDim + v * 8), even);
                    odd = _mm256_fmadd_ps(_mm256_set1_ps(probabilities[t + 1]), _mm256_loadu_ps(vf + (size_t)(t + 1) * headDim + v * 8), odd);
                }
                if (t < n) even = _mm256_fmadd_ps(_mm256_set1_ps(probabilities[t]), _mm256_loadu_ps(vf + (size_t)t * headDim + v * 8), even);
                __m256 blockOutput = _mm256_add_ps(even, odd);
                _mm256_storeu_ps(a + v * 8, _mm256_fmadd_ps(_mm256_loadu_ps(a + v * 8), alphaVector, blockOutput));
            }
        }
    }
}
#endif

void ei_attention_chunk(const float *queries, size_t queryStride, const int32_t *rowLimits, int rowCount,
                        int headDim, float scale, const ei_kv_block_list *list, int firstBlock, int blockCount,
                        float *acc, float *rowMax, float *rowSum, float *scratch) {
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX512 && headDim % 16 == 0) {
        chunk_avx512(queries, queryStride, rowLimits, rowCount, headDim, scale, list, firstBlock, blockCount,
                     acc, rowMax, rowSum, scratch);
        return;
    }
    if (ei_active_isa() >= EI_ISA_AVX2 && headDim % 8 == 0) {
        chunk_avx2(queries, queryStride, rowLimits, rowCount, headDim, scale, list, firstBlock, blockCount,
                   acc, rowMax, rowSum, scratch);
        return;
    }
#endif
    chunk_portable(queries, queryStride, rowLimits, rowCount, headDim, scale, list, firstBlock, blockCount,
                   acc, rowMax, rowSum, scratch);
}

void ei_attention_merge(int rowCount, int headDim, float *acc, float *rowMax, float *rowSum,
                        const float *chunkAcc, const float *chunkMax, const float *chunkSum) {
    for (int r = 0; r < rowCount; r++) {
        float m1 = rowMax[r], m2 = chunkMax[r];
        if (m2 == -INFINITY) continue;                    // the chunk saw nothing: state unchanged
        float m = m1 > m2 ? m1 : m2;
        float a1 = m1 == -INFINITY ? 0.0f : expf(m1 - m);
        float a2 = expf(m2 - m);
        rowSum[r] = rowSum[r] * a1 + chunkSum[r] * a2;
        rowMax[r] = m;
        float *a = acc + (size_t)r * headDim;
        const float *c = chunkAcc + (size_t)r * headDim;
        for (int d = 0; d < headDim; d++) a[d] = a[d] * a1 + c[d] * a2;
    }
}

void ei_attention_finish(int rowCount, int headDim, const float *acc, const float *rowSum,
                         float *out, size_t outStride) {
    for (int r = 0; r < rowCount; r++) {
        float inverse = rowSum[r] > 0.0f ? 1.0f / rowSum[r] : 0.0f;
        for (int d = 0; d < headDim; d++) out[(size_t)r * outStride + d] = acc[(size_t)r * headDim + d] * inverse;
    }
}
