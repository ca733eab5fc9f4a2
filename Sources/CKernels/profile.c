// Block scores of the entropy profile; see ei_profile_scores in ei_attention.h.
#include "CKernels.h"
#include "ei_attention.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define EI_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

static void profile_portable(const float *mids, int headCount, int headDim, float scale,
                             const uint16_t *summaryBase, size_t summaryStride, const int32_t *blockIDs,
                             int blockCount, float *scores) {
    for (int b = 0; b < blockCount; b++) {
        const uint16_t *summary = summaryBase + (size_t)blockIDs[b] * summaryStride;
        for (int u = 0; u < 2; u++) {
            const uint16_t *minRow = summary + (size_t)u * 2 * headDim;
            const uint16_t *maxRow = minRow + headDim;
            float total = 0.0f;
            for (int h = 0; h < headCount; h++) {
                const float *mid = mids + (size_t)h * headDim;
                float low = 0.0f, high = 0.0f;
                for (int d = 0; d < headDim; d++) {
                    low += mid[d] * ei_f16_to_f32(minRow[d]);
                    high += mid[d] * ei_f16_to_f32(maxRow[d]);
                }
                total += low > high ? low : high;
            }
            scores[2 * b + u] = scale * total / (float)headCount;
        }
    }
}

#if defined(__x86_64__)
EI_TARGET_AVX2
static inline float sum8(__m256 v) {
    __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)));
}

EI_TARGET_AVX2
static void profile_avx2(const float *mids, int headCount, int headDim, float scale,
                         const uint16_t *summaryBase, size_t summaryStride, const int32_t *blockIDs,
                         int blockCount, float *scores) {
    for (int b = 0; b < blockCount; b++) {
        const uint16_t *summary = summaryBase + (size_t)blockIDs[b] * summaryStride;
        for (int u = 0; u < 2; u++) {
            const uint16_t *minRow = summary + (size_t)u * 2 * headDim;
            const uint16_t *maxRow = minRow + headDim;
            float total = 0.0f;
            for (int h = 0; h < headCount; h++) {
                const float *mid = mids + (size_t)h * headDim;
                __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
                for (int d = 0; d < headDim; d += 8) {
                    __m256 q = _mm256_loadu_ps(mid + d);
                    low = _mm256_fmadd_ps(q, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(minRow + d))), low);
                    high = _mm256_fmadd_ps(q, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(maxRow + d))), high);
                }
                float lowSum = sum8(low), highSum = sum8(high);
                total += lowSum > highSum ? lowSum : highSum;
            }
            scores[2 * b + u] = scale * total / (float)headCount;
        }
    }
}
#endif

void ei_profile_scores(const float *mids, int headCount, int headDim, float scale,
                       const uint16_t *summaryBase, size_t summaryStride, const int32_t *blockIDs, int blockCount,
                       float *scores) {
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX2 && headDim % 8 == 0) {
        profile_avx2(mids, headCount, headDim, scale, summaryBase, summaryStride, blockIDs, blockCount, scores);
        return;
    }
#endif
    profile_portable(mids, headCount, headDim, scale, summaryBase, summaryStride, blockIDs, blockCount, scores);
}
