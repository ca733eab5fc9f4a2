// fp32 activation rows -> two-term 8-bit blocks (ei_activation_layout), per block of 32
// (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) or 256 (K-quants) elements:
//   amax = max |x|;  if amax < 2^-100 the block is zero (d = 0, q1 = q2 = 0), else
//   d = amax / 127,  id = 1 / d,  q1 = rne(x · id),  r = x - d · q1,  q2 = clamp(rne(r · (256 · id)), ±127)
// plus the block sums the kernels need for the weight formats' offsets and mins. A block that keeps
// one term (llama.cpp's Q8 activations; which blocks: the residual threshold, see ei_quant.h) has
// q2 stored as zeros, its sums follow, and its terms byte says 1. Every path
// performs exactly these IEEE operations (rne: round to nearest even), so the quantized bytes are
// identical across instruction sets.
#include <math.h>
#include "quant_layout.h"
#if defined(__x86_64__)
#include "simd_intrinsics.h"
#endif

#define EI_SMALLEST_BLOCK_MAX 7.888609052210118e-31f   // 2^-100

ei_activation_layout ei_activation_layout_for(uint32_t type, size_t column_count) {
    ei_activation_layout result = {0, 0, 0, 0, 0, 0, 0, 0};
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout) || layout.family == EI_FAMILY_FLOAT) return result;
    if (layout.family == EI_FAMILY_Q32) {
        result = (ei_activation_layout){ 0, EI_Q32_ACTIVATION_BLOCK, EI_Q32_ACTIVATION_RESIDUAL, EI_Q32_ACTIVATION_SCALE,
                                         EI_Q32_ACTIVATION_SUM, EI_Q32_ACTIVATION_MIN, 0, EI_Q32_ACTIVATION_TERMS };
    } else {
        result = (ei_activation_layout){ 0, EI_K_ACTIVATION_BLOCK, EI_K_ACTIVATION_RESIDUAL, EI_K_ACTIVATION_SCALE,
                                         EI_K_ACTIVATION_SUM32, 0, EI_K_ACTIVATION_SUM16, EI_K_ACTIVATION_TERMS };
    }
    result.row_bytes = ei_round_up(layout.block_count * result.block_bytes, 64);
    return result;
}

// d and 1/d of a block from its max |x|.
EI_INLINE void block_scale(float amax, float *d, float *inverse) {
    if (!(amax >= EI_SMALLEST_BLOCK_MAX)) { *d = 0.0f; *inverse = 0.0f; return; }
    *d = amax / 127.0f;
    *inverse = 1.0f / *d;
}

static int32_t sum_int8(const int8_t *q, int count) {
    int32_t sum = 0;
    for (int i = 0; i < count; i++) sum += q[i];
    return sum;
}

static void store_i16(uint8_t *p, int32_t value) { int16_t narrow = (int16_t)value; memcpy(p, &narrow, 2); }

// max |x| of the n elements at x (exact whatever the order, so every path agrees).
static float block_amax(const float *x, size_t n) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    return amax;
}

// The residual rule of ei_quant.h for one row: residual_threshold · Σ amax² / block_count in the
// form the comparison uses (amax_b² · block_count ≥ threshold · Σ amax²); 0 keeps every residual.
static double residual_energy_floor(const ei_layout *layout, const float *x, float residual_threshold) {
    if (residual_threshold == 0.0f) return 0.0;
    double total = 0.0;
    for (size_t b = 0; b < layout->block_count; b++) {
        double amax = block_amax(x + layout->block_elements * b, layout->block_elements);
        total += amax * amax;
    }
    return (double)residual_threshold * total;
}

EI_INLINE int block_terms(float amax, size_t block_count, double energy_floor) {
    return (double)amax * (double)amax * (double)block_count >= energy_floor ? 2 : 1;
}

// Scale, terms and block sums of one block whose quants q1, q2 are already stored.
static void write_block_parameters(const ei_layout *layout, const ei_activation_layout *al, uint8_t *block, float d, int terms) {
    const int8_t *q1 = (const int8_t *)block, *q2 = (const int8_t *)(block + al->residual_offset);
    if (terms == 1) memset(block + al->residual_offset, 0, layout->block_elements);
    memcpy(block + al->scale_offset, &d, 4);
    block[al->terms_offset] = (uint8_t)terms;
    if (layout->family == EI_FAMILY_Q32) {
        int32_t sum = 256 * sum_int8(q1, 32) + sum_int8(q2, 32);
        float scaled = (d * 0.00390625f) * (float)sum;
        memcpy(block + al->sum_offset, &sum, 4);
        memcpy(block + al->min_offset, &scaled, 4);
        return;
    }
    for (int j = 0; j < 8; j++) {
        store_i16(block + al->sum_offset + 2 * (size_t)j, sum_int8(q1 + 32 * j, 32));
        store_i16(block + al->sum_offset + 16 + 2 * (size_t)j, sum_int8(q2 + 32 * j, 32));
    }
    for (int j = 0; j < 16; j++) {
        store_i16(block + al->sum16_offset + 2 * (size_t)j, sum_int8(q1 + 16 * j, 16));
        store_i16(block + al->sum16_offset + 32 + 2 * (size_t)j, sum_int8(q2 + 16 * j, 16));
    }
}

static void quantize_row_portable(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row,
                                  double energy_floor) {
    size_t n = layout->block_elements;
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q1 = (int8_t *)block, *q2 = (int8_t *)(block + al->residual_offset);
        float amax = block_amax(xb, n);
        float d, id;
        block_scale(amax, &d, &id);
        const float id256 = id * 256.0f;
        for (size_t i = 0; i < n; i++) {
            long first = lrintf(xb[i] * id);
            float residual = xb[i] - d * (float)first;
            long second = lrintf(residual * id256);
            q1[i] = (int8_t)first;
            q2[i] = (int8_t)(second > 127 ? 127 : second < -127 ? -127 : second);
        }
        write_block_parameters(layout, al, block, d, block_terms(amax, layout->block_count, energy_floor));
    }
}

#if defined(__x86_64__)
EI_TARGET_AVX2 static void quantize_row_avx2(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row,
                                             double energy_floor) {
    size_t n = layout->block_elements;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i limit = _mm256_set1_epi8(-127);
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q1 = (int8_t *)block, *q2 = (int8_t *)(block + al->residual_offset);
        __m256 vmax = _mm256_setzero_ps();
        for (size_t i = 0; i < n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float d, id, amax = _mm_cvtss_f32(m4);
        block_scale(amax, &d, &id);
        const __m256 vd = _mm256_set1_ps(d), vid = _mm256_set1_ps(id), vid256 = _mm256_set1_ps(id * 256.0f);
        for (size_t i = 0; i < n; i += 32) {
            __m256i first[4], second[4];
            for (int k = 0; k < 4; k++) {
                __m256 v = _mm256_loadu_ps(xb + i + 8 * k);
                first[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v, vid));
                __m256 residual = _mm256_sub_ps(v, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(first[k])));
                second[k] = _mm256_cvtps_epi32(_mm256_mul_ps(residual, vid256));
            }
            // Saturating packs keep 32-bit order per 128-bit lane; the permute restores it.
            __m256i packed1 = _mm256_packs_epi16(_mm256_packs_epi32(first[0], first[1]), _mm256_packs_epi32(first[2], first[3]));
            __m256i packed2 = _mm256_packs_epi16(_mm256_packs_epi32(second[0], second[1]), _mm256_packs_epi32(second[2], second[3]));
            _mm256_storeu_si256((__m256i *)(q1 + i), _mm256_permutevar8x32_epi32(packed1, order));
            _mm256_storeu_si256((__m256i *)(q2 + i), _mm256_max_epi8(_mm256_permutevar8x32_epi32(packed2, order), limit));
        }
        write_block_parameters(layout, al, block, d, block_terms(amax, layout->block_count, energy_floor));
    }
}

EI_TARGET_AVX512 static void quantize_row_avx512(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row,
                                               double energy_floor) {
    size_t n = layout->block_elements;
    const __m128i limit = _mm_set1_epi8(-127);
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q1 = (int8_t *)block, *q2 = (int8_t *)(block + al->residual_offset);
        __m512 vmax = _mm512_setzero_ps();
        for (size_t i = 0; i < n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
        float d, id, amax = _mm512_reduce_max_ps(vmax);
        block_scale(amax, &d, &id);
        const __m512 vd = _mm512_set1_ps(d), vid = _mm512_set1_ps(id), vid256 = _mm512_set1_ps(id * 256.0f);
        for (size_t i = 0; i < n; i += 16) {
            __m512 v = _mm512_loadu_ps(xb + i);
            __m512i first = _mm512_cvtps_epi32(_mm512_mul_ps(v, vid));
            __m512 residual = _mm512_sub_ps(v, _mm512_mul_ps(vd, _mm512_cvtepi32_ps(first)));
            __m512i second = _mm512_cvtps_epi32(_mm512_mul_ps(residual, vid256));
            _mm_storeu_si128((__m128i *)(q1 + i), _mm512_cvtepi32_epi8(first));
            _mm_storeu_si128((__m128i *)(q2 + i), _mm_max_epi8(_mm512_cvtsepi32_epi8(second), limit));
        }
        write_block_parameters(layout, al, block, d, block_terms(amax, layout->block_count, energy_floor));
    }
}
#endif

void ei_quantize_activation_rows(ei_isa isa, uint32_t type, const float *input, size_t column_count,
                                 size_t row_begin, size_t row_end, void *activations, float residual_threshold) {
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout) || layout.family == EI_FAMILY_FLOAT) return;
    ei_activation_layout al = ei_activation_layout_for(type, column_count);
    isa = ei_usable_isa(isa);
    for (size_t r = row_begin; r < row_end; r++) {
        const float *x = input + r * column_count;
        uint8_t *row = (uint8_t *)activations + r * al.row_bytes;
        // INFINITY: no block keeps its residual (inf ≥ ... fails only against inf, so say it).
        const double energy_floor = isinf(residual_threshold) ? INFINITY : residual_energy_floor(&layout, x, residual_threshold);
#if defined(__x86_64__)
        if (isa == EI_ISA_AVX512) { quantize_row_avx512(&layout, &al, x, row, energy_floor); continue; }
        if (isa == EI_ISA_AVX2) { quantize_row_avx2(&layout, &al, x, row, energy_floor); continue; }
#endif
        quantize_row_portable(&layout, &al, x, row, energy_floor);
    }
}
