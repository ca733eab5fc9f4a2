// fp32 activation rows -> 8-bit blocks matching the weight type (ei_activation_layout).
//
// Per block of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) or 256 (K-quants) elements:
//   amax = max |x|,  d = amax / 127,  id = d ? 1 / d : 0,  q = round_to_nearest_even(x · id)
// plus the block sums the kernels need to apply the weight format's offset or mins. Every path
// performs exactly these IEEE operations, so the quantized bytes are identical across ISAs.
#include "quant_layout.h"
#if defined(__x86_64__)
#include "simd_intrinsics.h"
#endif

ei_activation_layout ei_activation_layout_for(uint32_t type, size_t column_count) {
    ei_activation_layout result = {0, 0, 0, 0, 0, 0};
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout) || layout.family == EI_FAMILY_FLOAT) return result;
    if (layout.family == EI_FAMILY_Q32) {
        result = (ei_activation_layout){ 0, EI_Q32_ACTIVATION_BLOCK, EI_Q32_ACTIVATION_SCALE, EI_Q32_ACTIVATION_SUM,
                                         EI_Q32_ACTIVATION_MIN, 0 };
    } else {
        result = (ei_activation_layout){ 0, EI_K_ACTIVATION_BLOCK, EI_K_ACTIVATION_SCALE, EI_K_ACTIVATION_SUM32, 0,
                                         EI_K_ACTIVATION_SUM16 };
    }
    result.row_bytes = ei_round_up(layout.block_count * result.block_bytes, 64);
    return result;
}

// Scale and block sums of one block whose quants q are already stored at `block`.
static void write_block_parameters(const ei_layout *layout, const ei_activation_layout *al, uint8_t *block,
                                   const int8_t *q, float d) {
    memcpy(block + al->scale_offset, &d, 4);
    if (layout->family == EI_FAMILY_Q32) {
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) sum += q[i];
        float scaled = d * (float)sum;
        memcpy(block + al->sum_offset, &sum, 4);
        memcpy(block + al->min_offset, &scaled, 4);
        return;
    }
    for (int j = 0; j < 16; j++) {
        int16_t sum = 0;
        for (int i = 0; i < 16; i++) sum = (int16_t)(sum + q[16 * j + i]);
        memcpy(block + al->sum16_offset + 2 * (size_t)j, &sum, 2);
    }
    for (int j = 0; j < 8; j++) {
        int16_t low, high, sum;
        memcpy(&low, block + al->sum16_offset + 4 * (size_t)j, 2);
        memcpy(&high, block + al->sum16_offset + 4 * (size_t)j + 2, 2);
        sum = (int16_t)(low + high);
        memcpy(block + al->sum_offset + 2 * (size_t)j, &sum, 2);
    }
}

static void quantize_row_portable(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row) {
    size_t n = layout->block_elements;
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q = (int8_t *)block;
        float amax = 0.0f;
        for (size_t i = 0; i < n; i++) {
            float a = fabsf(xb[i]);
            amax = a > amax ? a : amax;
        }
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        for (size_t i = 0; i < n; i++) q[i] = (int8_t)lrintf(xb[i] * id);
        write_block_parameters(layout, al, block, q, d);
    }
}

#if defined(__x86_64__)
EI_TARGET_AVX2 static void quantize_row_avx2(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row) {
    size_t n = layout->block_elements;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q = (int8_t *)block;
        __m256 vmax = _mm256_setzero_ps();
        for (size_t i = 0; i < n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        for (size_t i = 0; i < n; i += 32) {
            __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i), vid));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i + 8), vid));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i + 16), vid));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + i + 24), vid));
            __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(packed, order));
        }
        write_block_parameters(layout, al, block, q, d);
    }
}

EI_TARGET_AVX512 static void quantize_row_avx512(const ei_layout *layout, const ei_activation_layout *al, const float *x, uint8_t *row) {
    size_t n = layout->block_elements;
    for (size_t b = 0; b < layout->block_count; b++) {
        const float *xb = x + n * b;
        uint8_t *block = row + al->block_bytes * b;
        int8_t *q = (int8_t *)block;
        __m512 vmax = _mm512_setzero_ps();
        for (size_t i = 0; i < n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
        float amax = _mm512_reduce_max_ps(vmax);
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m512 vid = _mm512_set1_ps(id);
        for (size_t i = 0; i < n; i += 16)
            _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + i), vid))));
        write_block_parameters(layout, al, block, q, d);
    }
}
#endif

void ei_quantize_activation_rows(ei_isa isa, uint32_t type, const float *input, size_t column_count,
                                 size_t row_begin, size_t row_end, void *activations) {
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout) || layout.family == EI_FAMILY_FLOAT) return;
    ei_activation_layout al = ei_activation_layout_for(type, column_count);
    isa = ei_usable_isa(isa);
    for (size_t r = row_begin; r < row_end; r++) {
        const float *x = input + r * column_count;
        uint8_t *row = (uint8_t *)activations + r * al.row_bytes;
#if defined(__x86_64__)
        if (isa == EI_ISA_AVX512) { quantize_row_avx512(&layout, &al, x, row); continue; }
        if (isa == EI_ISA_AVX2) { quantize_row_avx2(&layout, &al, x, row); continue; }
#endif
        quantize_row_portable(&layout, &al, x, row);
    }
}
