// Matrix multiplication for the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//
// For output (m, n), with q the stored unsigned weight quants of row n, and q1, q2 the two-term
// activation quants of row m (x ≈ d·q1 + d/256·q2), per block b of 32, in order from acc = 0:
//   isum = Σ_e q[e] · (256·q1[e] + q2[e]) - offset · S         exact int32 (S = 256·Σq1 + Σq2)
//   acc  = fma((float)isum, dw[b] · (d[b] / 256), acc)
//   acc  = fma(mw[b], (d[b] / 256) · S, acc)                   Q4_1 / Q5_1 only
// offset is the format's: Q4_0 8, Q5_0 16, Q8_0 128 (its int8 quants are stored +128), else 0.
// Every path below performs exactly these operations, so all agree bit for bit, and a row's
// result does not depend on which rows are computed with it.
#include "lane_vectors.h"

// Activation row accessors: block b of a row sits at row + 80 b (ei_activation_layout).
EI_INLINE const uint8_t *q32_activation_row(const ei_matmul_job *job, size_t m) {
    return job->activations + m * job->activation.row_bytes;
}
EI_INLINE const int8_t *q32_quants(const uint8_t *row, size_t b) { return (const int8_t *)(row + EI_Q32_ACTIVATION_BLOCK * b); }
EI_INLINE const int8_t *q32_residuals(const uint8_t *row, size_t b) {
    return (const int8_t *)(row + EI_Q32_ACTIVATION_BLOCK * b + EI_Q32_ACTIVATION_RESIDUAL);
}
// d / 256: the scale of the combined integer 256·q1 + q2.
EI_INLINE float q32_scale(const uint8_t *row, size_t b) {
    float v; memcpy(&v, row + EI_Q32_ACTIVATION_BLOCK * b + EI_Q32_ACTIVATION_SCALE, 4); return v * 0.00390625f;
}
// -offset · S: applies the weight format's offset to the integer sum.
EI_INLINE int32_t q32_corr(const uint8_t *row, size_t b, int offset) {
    return -offset * ei_load_i32(row + EI_Q32_ACTIVATION_BLOCK * b + EI_Q32_ACTIVATION_SUM);
}
EI_INLINE float q32_min(const uint8_t *row, size_t b) {
    float v; memcpy(&v, row + EI_Q32_ACTIVATION_BLOCK * b + EI_Q32_ACTIVATION_MIN, 4); return v;
}
// Whether block b of row `a` kept its residual term (q2 not all zeros).
EI_INLINE int q32_has_residual(const uint8_t *row, size_t b) { return row[EI_Q32_ACTIVATION_BLOCK * b + EI_Q32_ACTIVATION_TERMS] == 2; }
EI_INLINE int q32_offset(int bits, int has_min) { return has_min ? 0 : bits == 4 ? 8 : bits == 5 ? 16 : 128; }

// ---------------------------------------------------------------------------------------------
// Portable C

// Unpacks block tile `tile` into q[16][32] (unsigned quants, natural order).
static void q32_unpack_tile(const ei_layout *layout, const uint8_t *tile, uint8_t q[EI_GROUP_ROWS][32]) {
    for (int n = 0; n < EI_GROUP_ROWS; n++)
        for (int u = 0; u < 8; u++)
            for (int j = 0; j < 4; j++)
                q[n][4 * u + j] = layout->bits == 8 ? tile[64 * u + 4 * n + j]
                                : ei_run_quant(tile, tile + 256, layout->bits, n, u, j);
}

void ei_matmul_q32_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    enum { ROW_TILE = 8 };
    const ei_layout *layout = &job->layout;
    size_t blocks = layout->block_count;
    uint8_t q[EI_GROUP_ROWS][32];
    for (size_t g = group_begin; g < group_end; g++) {
        const uint8_t *group = job->packed + g * layout->group_bytes;
        const uint16_t *dw = (const uint16_t *)(group + layout->scale_offset), *mw = dw + 16 * blocks;
        int lanes = ei_group_lanes(job, g);
        for (size_t m0 = 0; m0 < rows; m0 += ROW_TILE) {
            size_t tile_rows = rows - m0 < ROW_TILE ? rows - m0 : ROW_TILE;
            float acc[ROW_TILE][EI_GROUP_ROWS] = {{0}};
            for (size_t b = 0; b < blocks; b++) {
                q32_unpack_tile(layout, group + b * layout->tile_bytes, q);
                for (size_t i = 0; i < tile_rows; i++) {
                    const uint8_t *a = q32_activation_row(job, m0 + i);
                    const int8_t *q1 = q32_quants(a, b), *q2 = q32_residuals(a, b);
                    for (int n = 0; n < lanes; n++) {
                        int32_t isum = q32_corr(a, b, layout->offset);
                        for (int e = 0; e < 32; e++) isum += (int32_t)q[n][e] * (256 * q1[e] + q2[e]);
                        acc[i][n] = fmaf((float)isum, ei_half_to_float(dw[16 * b + n]) * q32_scale(a, b), acc[i][n]);
                        if (layout->has_min) acc[i][n] = fmaf(ei_half_to_float(mw[16 * b + n]), q32_min(a, b), acc[i][n]);
                    }
                }
            }
            for (size_t i = 0; i < tile_rows; i++)
                memcpy(job->output + (m0 + i) * job->row_count + g * EI_GROUP_ROWS, acc[i], sizeof(float) * (size_t)lanes);
        }
    }
}

#if defined(__x86_64__)
// ---------------------------------------------------------------------------------------------
// AVX-512 VNNI: one 512-bit lane vector per unpacked vector u, vpdpbusd against the activation
// words of elements 4u..4u+3 (q1 and q2) broadcast to all lanes. Tiles of up to 4 activation rows
// reuse each unpacked weight vector.

EI_TARGET_AVX512 EI_INLINE void q32_avx512_tile(const ei_matmul_job *job, size_t g, size_t m0, const int M,
                                               const int bits, const int has_min) {
    const ei_layout *layout = &job->layout;
    const size_t blocks = layout->block_count, tile_bytes = layout->tile_bytes;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    const uint16_t *dw = (const uint16_t *)(group + layout->scale_offset), *mw = dw + 16 * blocks;
    const uint8_t *a[4];
    __m512 acc[4];
    for (int m = 0; m < M; m++) { a[m] = q32_activation_row(job, m0 + (size_t)m); acc[m] = _mm512_setzero_ps(); }
    const __m512i low_mask = _mm512_set1_epi8(0x0F);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *tile = group + b * tile_bytes;
        __m512i first[4], second[4];   // Σ q·q1 and Σ q·q2 - offset·S
        for (int m = 0; m < M; m++) {
            first[m] = _mm512_setzero_si512();
            second[m] = _mm512_set1_epi32(q32_corr(a[m], b, q32_offset(bits, has_min)));
        }
        if (bits == 8) {
            for (int u = 0; u < 8; u++) {
                __m512i w = _mm512_load_si512(tile + 64 * u);
                for (int m = 0; m < M; m++) {
                    first[m] = _mm512_dpbusd_epi32(first[m], w, ei_avx512_word(q32_quants(a[m], b) + 4 * u));
                    second[m] = _mm512_dpbusd_epi32(second[m], w, ei_avx512_word(q32_residuals(a[m], b) + 4 * u));
                }
            }
        } else {
            const __m512i high = bits == 5 ? _mm512_load_si512(tile + 256) : _mm512_setzero_si512();
            for (int c = 0; c < 4; c++) {
                __m512i packed = _mm512_load_si512(tile + 64 * c);
                __m512i lo = _mm512_and_si512(packed, low_mask);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    lo = ei_avx512_add_high_bit(lo, high, 2 * c);
                    hi = ei_avx512_add_high_bit(hi, high, 2 * c + 1);
                }
                for (int m = 0; m < M; m++) {
                    first[m] = _mm512_dpbusd_epi32(first[m], lo, ei_avx512_word(q32_quants(a[m], b) + 8 * c));
                    first[m] = _mm512_dpbusd_epi32(first[m], hi, ei_avx512_word(q32_quants(a[m], b) + 8 * c + 4));
                    second[m] = _mm512_dpbusd_epi32(second[m], lo, ei_avx512_word(q32_residuals(a[m], b) + 8 * c));
                    second[m] = _mm512_dpbusd_epi32(second[m], hi, ei_avx512_word(q32_residuals(a[m], b) + 8 * c + 4));
                }
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(dw + 16 * b)));
        __m512 min = _mm512_setzero_ps();
        if (has_min) min = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(mw + 16 * b)));
        for (int m = 0; m < M; m++) {
            __m512 isum = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(first[m], 8), second[m]));
            acc[m] = _mm512_fmadd_ps(isum, _mm512_mul_ps(d, _mm512_set1_ps(q32_scale(a[m], b))), acc[m]);
            if (has_min) acc[m] = _mm512_fmadd_ps(min, _mm512_set1_ps(q32_min(a[m], b)), acc[m]);
        }
    }
    int lanes = ei_group_lanes(job, g);
    for (int m = 0; m < M; m++) {
        float *out = job->output + (m0 + (size_t)m) * job->row_count + g * EI_GROUP_ROWS;
        if (lanes == EI_GROUP_ROWS) _mm512_storeu_ps(out, acc[m]);
        else _mm512_mask_storeu_ps(out, (__mmask16)((1u << lanes) - 1), acc[m]);
    }
}

EI_TARGET_AVX512 EI_INLINE void q32_avx512_run(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end,
                                              const int bits, const int has_min) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        for (size_t g = group_begin; g < group_end; g++) {
            size_t m = r0;
            for (; m + 4 <= r1; m += 4) q32_avx512_tile(job, g, m, 4, bits, has_min);
            switch (r1 - m) {
            case 3: q32_avx512_tile(job, g, m, 3, bits, has_min); break;
            case 2: q32_avx512_tile(job, g, m, 2, bits, has_min); break;
            case 1: q32_avx512_tile(job, g, m, 1, bits, has_min); break;
            }
        }
    }
}

EI_TARGET_AVX512 void ei_matmul_q32_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    switch (job->layout.bits * 2 + job->layout.has_min) {
    case 8: q32_avx512_run(job, rows, group_begin, group_end, 4, 0); break;
    case 9: q32_avx512_run(job, rows, group_begin, group_end, 4, 1); break;
    case 10: q32_avx512_run(job, rows, group_begin, group_end, 5, 0); break;
    case 11: q32_avx512_run(job, rows, group_begin, group_end, 5, 1); break;
    default: q32_avx512_run(job, rows, group_begin, group_end, 8, 0); break;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2: each 64-byte lane vector is two 256-bit halves (rows 0-7, rows 8-15); u8×s8 products via
// vpmaddubsw, whose int16 pair sums are added in int16 while they cannot overflow (8 for 4-bit
// quants: 8 · 2 · 15 · 127 < 2^15; 4 for 5-bit) before one vpmaddwd widens them. Q8_0 uses the sign
// trick instead of the +128 offset (vpmaddubsw would saturate); both give the same exact integer.

// Rows per AVX2 pass: a block's unpacked weights stay in registers while every row of the pass
// uses them, and each row's float accumulator lives in L1 (one load and store per block), so the
// weight loads and unpacking are paid once per 16 rows instead of once per 2-3 (the register
// limit when every row's accumulators stay in registers). Measured on Zen 3 (cpu time, 6 A/B
// pairs): Q5_0 8-64 rows 4-16 % faster, Q4_1 and Q8_0 unchanged (vpmaddubsw-bound), decode equal.
enum { Q32_AVX2_PASS_ROWS = 16 };

// Σ q·(256·q1 + q2) - offset·S of one block for activation row `a`, from the unpacked weight
// half-vectors lo[c] (elements 8c..8c+3) and hi[c] (8c+4..8c+7) of 4/5-bit quants.
EI_TARGET_AVX2 EI_INLINE __m256i q32_avx2_block_isum_nibbles(const __m256i lo[4], const __m256i hi[4], const uint8_t *a,
                                                             size_t b, const int bits, const int has_min, const int terms) {
    __m256i first = _mm256_setzero_si256();
    __m256i second = _mm256_set1_epi32(q32_corr(a, b, q32_offset(bits, has_min)));
    __m256i pairs1 = _mm256_setzero_si256(), pairs2 = _mm256_setzero_si256();
    const int8_t *q1 = q32_quants(a, b), *q2 = q32_residuals(a, b);
    const int residual = terms == 2 && q32_has_residual(a, b);
    for (int c = 0; c < 4; c++) {
        pairs1 = _mm256_add_epi16(pairs1, _mm256_maddubs_epi16(lo[c], ei_avx2_word(q1 + 8 * c)));
        pairs1 = _mm256_add_epi16(pairs1, _mm256_maddubs_epi16(hi[c], ei_avx2_word(q1 + 8 * c + 4)));
        if (residual) {   // one term: the residuals are zero, and so are their products
            pairs2 = _mm256_add_epi16(pairs2, _mm256_maddubs_epi16(lo[c], ei_avx2_word(q2 + 8 * c)));
            pairs2 = _mm256_add_epi16(pairs2, _mm256_maddubs_epi16(hi[c], ei_avx2_word(q2 + 8 * c + 4)));
        }
        if (bits == 5 && c == 1) {   // 5-bit pair sums may add up 4 times in int16, 4-bit 8 times
            first = ei_avx2_widen_add(first, pairs1);
            if (residual) second = ei_avx2_widen_add(second, pairs2);
            pairs1 = _mm256_setzero_si256();
            pairs2 = _mm256_setzero_si256();
        }
    }
    first = ei_avx2_widen_add(first, pairs1);
    if (residual) second = ei_avx2_widen_add(second, pairs2);
    return _mm256_add_epi32(_mm256_slli_epi32(first, 8), second);
}

// The same for Q8_0 from the weights' magnitudes (registers) and signed weights (L1): the sign
// trick, since vpmaddubsw would saturate on the +128-offset bytes.
EI_TARGET_AVX2 EI_INLINE __m256i q32_avx2_block_isum_q8(const __m256i magnitude[8], const __m256i *signed_weights,
                                                        const uint8_t *a, size_t b, const int terms) {
    __m256i first = _mm256_setzero_si256(), second = _mm256_setzero_si256();
    const int8_t *q1 = q32_quants(a, b), *q2 = q32_residuals(a, b);
    const int residual = terms == 2 && q32_has_residual(a, b);
    for (int u = 0; u < 8; u++) {
        first = ei_avx2_widen_add(first, _mm256_maddubs_epi16(magnitude[u], _mm256_sign_epi8(ei_avx2_word(q1 + 4 * u), signed_weights[u])));
        if (residual)
            second = ei_avx2_widen_add(second, _mm256_maddubs_epi16(magnitude[u], _mm256_sign_epi8(ei_avx2_word(q2 + 4 * u), signed_weights[u])));
    }
    return _mm256_add_epi32(_mm256_slli_epi32(first, 8), second);
}

// Batched Q8_0 with two terms: the combined integer 256·q1 + q2 fits int16 (|·| ≤ 32639, both
// terms are clamped to ±127), so vpmaddwd against the weights widened to int16 makes 16 products
// of the final integer per instruction, where the int8 form spends two vpmaddubsw (one per term),
// two sign operations and two widenings per 32. The widening is paid once per block for all rows
// of the pass; one row (decode, memory-bound) keeps the int8 form. Same exact integer either way.
// Measured on Zen 3 (kernel-bench, Q8_0 151936×896, one thread, 2 interleaved pairs): 8 rows
// 48-57 → 48-50 CPU ms per call, 16 rows 91-109 → 83-92.

// Row a's block b as 32 int16: 256·q1[e] + q2[e].
EI_TARGET_AVX2 EI_INLINE void q32_avx2_combined_activations(const uint8_t *a, size_t b, int16_t combined[32]) {
    const int8_t *q1 = q32_quants(a, b), *q2 = q32_residuals(a, b);
    for (int h = 0; h < 2; h++) {
        __m256i first = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q1 + 16 * h)));
        __m256i second = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q2 + 16 * h)));
        _mm256_store_si256((__m256i *)(combined + 16 * h), _mm256_add_epi16(_mm256_slli_epi16(first, 8), second));
    }
}

// Σ q·(256·q1 + q2) of one Q8_0 block for row a, from wide_weights[2u] (output rows 0-3 of the
// half, elements 4u..4u+3, int16) and wide_weights[2u + 1] (rows 4-7).
EI_TARGET_AVX2 EI_INLINE __m256i q32_avx2_block_isum_q8_wide(const __m256i wide_weights[16], const int16_t combined[32]) {
    __m256i rows_low = _mm256_setzero_si256(), rows_high = _mm256_setzero_si256();   // per row: two pair sums
    for (int u = 0; u < 8; u++) {
        int64_t word;
        memcpy(&word, combined + 4 * u, 8);
        const __m256i x = _mm256_set1_epi64x(word);
        rows_low = _mm256_add_epi32(rows_low, _mm256_madd_epi16(wide_weights[2 * u], x));
        rows_high = _mm256_add_epi32(rows_high, _mm256_madd_epi16(wide_weights[2 * u + 1], x));
    }
    // hadd gives rows 0 1 4 5 | 2 3 6 7; the qword permute puts them in order.
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(rows_low, rows_high), 0xD8);
}

// Output rows 8·half..8·half+7 of group g for activation rows m0..m0+M-1 (M ≤ Q32_AVX2_PASS_ROWS).
EI_TARGET_AVX2 EI_INLINE void q32_avx2_pass(const ei_matmul_job *job, size_t g, int half, size_t m0, const size_t M,
                                           const int bits, const int has_min, const int terms) {
    const ei_layout *layout = &job->layout;
    const size_t blocks = layout->block_count, tile_bytes = layout->tile_bytes;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    const uint16_t *dw = (const uint16_t *)(group + layout->scale_offset) + 8 * half, *mw = dw + 16 * blocks;
    const uint8_t *rows[Q32_AVX2_PASS_ROWS];
    __m256 acc[Q32_AVX2_PASS_ROWS];
    for (size_t m = 0; m < M; m++) { rows[m] = q32_activation_row(job, m0 + m); acc[m] = _mm256_setzero_ps(); }
    const __m256i low_mask = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8((char)0x80);
    __m256i signed_weights[8];
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *tile = group + b * tile_bytes + 32 * half;
        // Decode streams weights from memory once: fetch the next group's tile while this one is
        // computed (the hardware prefetcher alone leaves a third of the bandwidth unused here).
        if (half == 0 && m0 == 0)
            for (size_t line = 0; line < tile_bytes; line += 64)
                _mm_prefetch((const char *)(tile + layout->group_bytes + line), _MM_HINT_T0);
        const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(dw + 16 * b)));
        const __m256 min = has_min ? _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(mw + 16 * b))) : _mm256_setzero_ps();
        if (bits == 8 && terms == 2 && M > 1) {
            __m256i wide_weights[16];
            for (int u = 0; u < 8; u++) {
                __m256i weights = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(tile + 64 * u)), flip);
                wide_weights[2 * u] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(weights));
                wide_weights[2 * u + 1] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(weights, 1));
            }
            int16_t combined[Q32_AVX2_PASS_ROWS][32] __attribute__((aligned(32)));
            for (size_t m = 0; m < M; m++) q32_avx2_combined_activations(rows[m], b, combined[m]);
            for (size_t m = 0; m < M; m++) {
                __m256 isum = _mm256_cvtepi32_ps(q32_avx2_block_isum_q8_wide(wide_weights, combined[m]));
                acc[m] = _mm256_fmadd_ps(isum, _mm256_mul_ps(d, _mm256_set1_ps(q32_scale(rows[m], b))), acc[m]);
            }
        } else if (bits == 8) {
            __m256i magnitude[8];
            for (int u = 0; u < 8; u++) {
                signed_weights[u] = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(tile + 64 * u)), flip);
                magnitude[u] = _mm256_sign_epi8(signed_weights[u], signed_weights[u]);
            }
            for (size_t m = 0; m < M; m++) {
                __m256 isum = _mm256_cvtepi32_ps(q32_avx2_block_isum_q8(magnitude, signed_weights, rows[m], b, terms));
                acc[m] = _mm256_fmadd_ps(isum, _mm256_mul_ps(d, _mm256_set1_ps(q32_scale(rows[m], b))), acc[m]);
            }
        } else {
            __m256i lo[4], hi[4];
            const __m256i high = bits == 5 ? _mm256_load_si256((const __m256i *)(tile + 256)) : _mm256_setzero_si256();
            for (int c = 0; c < 4; c++) {
                __m256i packed = _mm256_load_si256((const __m256i *)(tile + 64 * c));
                lo[c] = _mm256_and_si256(packed, low_mask);
                hi[c] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    lo[c] = _mm256_or_si256(lo[c], ei_avx2_high_bit(high, 2 * c));
                    hi[c] = _mm256_or_si256(hi[c], ei_avx2_high_bit(high, 2 * c + 1));
                }
            }
            for (size_t m = 0; m < M; m++) {
                __m256 isum = _mm256_cvtepi32_ps(q32_avx2_block_isum_nibbles(lo, hi, rows[m], b, bits, has_min, terms));
                acc[m] = _mm256_fmadd_ps(isum, _mm256_mul_ps(d, _mm256_set1_ps(q32_scale(rows[m], b))), acc[m]);
                if (has_min) acc[m] = _mm256_fmadd_ps(min, _mm256_set1_ps(q32_min(rows[m], b)), acc[m]);
            }
        }
    }
    int lanes = ei_group_lanes(job, g) - 8 * half;
    for (size_t m = 0; m < M; m++) {
        float *out = job->output + (m0 + m) * job->row_count + g * EI_GROUP_ROWS + 8 * half;
        if (lanes >= 8) {
            _mm256_storeu_ps(out, acc[m]);
        } else {
            float lane_values[8];
            _mm256_storeu_ps(lane_values, acc[m]);
            memcpy(out, lane_values, sizeof(float) * (size_t)lanes);
        }
    }
}

EI_TARGET_AVX2 EI_INLINE void q32_avx2_run(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end,
                                          const int bits, const int has_min, const int terms) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        for (size_t g = group_begin; g < group_end; g++) {
            for (int half = 0; half < 2 && ei_group_lanes(job, g) > 8 * half; half++) {
                for (size_t m = r0; m < r1; m += Q32_AVX2_PASS_ROWS) {
                    size_t count = r1 - m < Q32_AVX2_PASS_ROWS ? r1 - m : Q32_AVX2_PASS_ROWS;
                    if (count == 1) q32_avx2_pass(job, g, half, m, 1, bits, has_min, terms);   // decode: constant M
                    else q32_avx2_pass(job, g, half, m, count, bits, has_min, terms);
                }
            }
        }
    }
}

EI_TARGET_AVX2 EI_INLINE void q32_avx2_dispatch(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end,
                                             const int terms) {
    switch (job->layout.bits * 2 + job->layout.has_min) {
    case 8: q32_avx2_run(job, rows, group_begin, group_end, 4, 0, terms); break;
    case 9: q32_avx2_run(job, rows, group_begin, group_end, 4, 1, terms); break;
    case 10: q32_avx2_run(job, rows, group_begin, group_end, 5, 0, terms); break;
    case 11: q32_avx2_run(job, rows, group_begin, group_end, 5, 1, terms); break;
    default: q32_avx2_run(job, rows, group_begin, group_end, 8, 0, terms); break;
    }
}

EI_TARGET_AVX2 void ei_matmul_q32_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    if (job->activation_terms == 1) q32_avx2_dispatch(job, rows, group_begin, group_end, 1);
    else q32_avx2_dispatch(job, rows, group_begin, group_end, 2);
}
#else
void ei_matmul_q32_avx512(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_q32_portable(job, rows, g0, g1); }
void ei_matmul_q32_avx2(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_q32_portable(job, rows, g0, g1); }
#endif
