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
#endif

#define T EI_KV_BLOCK_TOKENS

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
#endif

void ei_kv_logits(const float *queries, size_t queryStride, int rowCount, int headDim, float scale,
                  const ei_kv_block_list *list, float *out, size_t outStride, float *scratch) {
#if defined(__x86_64__)
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
    if (ei_active_isa() >= EI_ISA_AVX2) {
        softmax_accumulate_avx2(logits, count, weight, accum);
        return;
    }
#endif
    softmax_accumulate_portable(logits, count, weight, accum);
}
