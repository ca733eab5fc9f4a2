// Matrix multiplication for the K-quant types: Q4_K, Q5_K, Q6_K (superblocks of 256 elements).
//
// For output (m, n), per superblock s in order from acc = 0, with q the unsigned stored weight
// quants, q1, q2 the two-term activation quants (x ≈ da·q1 + da/256·q2) and da256 = da / 256:
//   Q4_K / Q5_K (8 sub-blocks j of 32, 6-bit scale sc_j and min m_j):
//     isum1 = Σ_j sc_j · Σ_{e∈j} q·q1      isum2 = Σ_j sc_j · Σ_{e∈j} q·q2
//     msum  = Σ_j m_j · (256 · Σ_{e∈j} q1 + Σ_{e∈j} q2)                              (exact int32)
//     acc = fma((float)isum1, d·da, acc);  acc = fma((float)isum2, d·da256, acc)
//     acc = fma(-(float)msum, dmin·da256, acc)
//   Q6_K (16 sub-blocks j of 16, int8 scale sc_j, q stored with +32):
//     isum1 = Σ_j sc_j · Σ_{e∈j} (q - 32)·q1      isum2 = Σ_j sc_j · Σ_{e∈j} (q - 32)·q2
//     acc = fma((float)isum1, d·da, acc);  acc = fma((float)isum2, d·da256, acc)
// All paths perform exactly these operations (bit-identical results, batch invariant).
#include "lane_vectors.h"

// Activation row accessors: superblock s of a row sits at row + 624 s (ei_activation_layout).
EI_INLINE const uint8_t *k_activation_row(const ei_matmul_job *job, size_t m) {
    return job->activations + m * job->activation.row_bytes;
}
EI_INLINE const uint8_t *k_block(const uint8_t *row, size_t s) { return row + EI_K_ACTIVATION_BLOCK * s; }
// term 0: q1, term 1: q2
EI_INLINE const int8_t *k_quants(const uint8_t *row, size_t s, int term) {
    return (const int8_t *)(k_block(row, s) + (term ? EI_K_ACTIVATION_RESIDUAL : 0));
}
EI_INLINE float k_scale(const uint8_t *row, size_t s) { float v; memcpy(&v, k_block(row, s) + EI_K_ACTIVATION_SCALE, 4); return v; }
// Σ of one term over sub-block j of 16 elements, times -32: applies Q6_K's +32 offset.
EI_INLINE int32_t k_corr16(const uint8_t *row, size_t s, int term, int j) {
    int16_t sum; memcpy(&sum, k_block(row, s) + EI_K_ACTIVATION_SUM16 + 32 * term + 2 * j, 2); return -32 * sum;
}
// Σ of one term over sub-blocks 2p and 2p + 1 (32 elements each) as one int16 pair.
EI_INLINE int32_t k_sum_pair(const uint8_t *row, size_t s, int term, int p) {
    return ei_load_i32(k_block(row, s) + EI_K_ACTIVATION_SUM32 + 16 * term + 4 * p);
}
// Σ of one term over sub-blocks 2p and 2p + 1 of 16 elements, as one int16 pair.
EI_INLINE int32_t k_sum16_pair(const uint8_t *row, size_t s, int term, int p) {
    return ei_load_i32(k_block(row, s) + EI_K_ACTIVATION_SUM16 + 32 * term + 4 * p);
}
EI_INLINE int32_t k_sum32(const uint8_t *row, size_t s, int term, int j) {
    int16_t v; memcpy(&v, k_block(row, s) + EI_K_ACTIVATION_SUM32 + 16 * term + 2 * j, 2); return v;
}

// ---------------------------------------------------------------------------------------------
// Portable C

static void k_unpack_tile(const ei_layout *layout, const uint8_t *tile, uint8_t q[EI_GROUP_ROWS][256]) {
    for (int r = 0; r < 8; r++) {
        const uint8_t *high = tile + layout->planes_offset + (layout->bits == 5 ? 64 * r : 128 * r);
        for (int n = 0; n < EI_GROUP_ROWS; n++)
            for (int u = 0; u < 8; u++)
                for (int j = 0; j < 4; j++) q[n][32 * r + 4 * u + j] = ei_run_quant(tile + 256 * r, high, layout->bits, n, u, j);
    }
}

void ei_matmul_kquants_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    enum { ROW_TILE = 8 };
    const ei_layout *layout = &job->layout;
    uint8_t q[EI_GROUP_ROWS][256];
    for (size_t g = group_begin; g < group_end; g++) {
        const uint8_t *group = job->packed + g * layout->group_bytes;
        int lanes = ei_group_lanes(job, g);
        for (size_t m0 = 0; m0 < rows; m0 += ROW_TILE) {
            size_t tile_rows = rows - m0 < ROW_TILE ? rows - m0 : ROW_TILE;
            float acc[ROW_TILE][EI_GROUP_ROWS] = {{0}};
            for (size_t s = 0; s < layout->block_count; s++) {
                const uint8_t *tile = group + s * layout->tile_bytes;
                k_unpack_tile(layout, tile, q);
                for (size_t i = 0; i < tile_rows; i++) {
                    const uint8_t *a = k_activation_row(job, m0 + i);
                    const float da = k_scale(a, s), da256 = da * 0.00390625f;
                    for (int n = 0; n < lanes; n++) {
                        float d = ei_half_to_float(((const uint16_t *)(tile + layout->d_offset))[n]);
                        int32_t isum[2] = {0, 0};
                        if (layout->bits == 6) {
                            for (int term = 0; term < 2; term++) {
                                const int8_t *x = k_quants(a, s, term);
                                for (int j = 0; j < 16; j++) {
                                    int32_t sub = k_corr16(a, s, term, j);
                                    for (int e = 16 * j; e < 16 * j + 16; e++) sub += (int32_t)q[n][e] * x[e];
                                    isum[term] += sub * ((const int8_t *)(tile + layout->scales_offset))[16 * j + n];
                                }
                            }
                            acc[i][n] = fmaf((float)isum[0], d * da, acc[i][n]);
                            acc[i][n] = fmaf((float)isum[1], d * da256, acc[i][n]);
                            continue;
                        }
                        const int16_t *mins = (const int16_t *)(tile + layout->mins_offset);
                        int32_t msum = 0;
                        for (int j = 0; j < 8; j++) {
                            int32_t scale = tile[layout->scales_offset + 16 * (size_t)j + (size_t)n];
                            for (int term = 0; term < 2; term++) {
                                const int8_t *x = k_quants(a, s, term);
                                int32_t sub = 0;
                                for (int e = 32 * j; e < 32 * j + 32; e++) sub += (int32_t)q[n][e] * x[e];
                                isum[term] += sub * scale;
                            }
                            msum += (int32_t)mins[32 * (j / 2) + 2 * n + (j % 2)] * (256 * k_sum32(a, s, 0, j) + k_sum32(a, s, 1, j));
                        }
                        float dmin = ei_half_to_float(((const uint16_t *)(tile + layout->dmin_offset))[n]);
                        acc[i][n] = fmaf((float)isum[0], d * da, acc[i][n]);
                        acc[i][n] = fmaf((float)isum[1], d * da256, acc[i][n]);
                        acc[i][n] = fmaf(-(float)msum, dmin * da256, acc[i][n]);
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
// AVX-512 VNNI

EI_TARGET_AVX512 EI_INLINE void k_avx512_tile(const ei_matmul_job *job, size_t g, size_t m0, const int M, const int bits) {
    const ei_layout *layout = &job->layout;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    const uint8_t *a[4];
    __m512 acc[4];
    for (int m = 0; m < M; m++) { a[m] = k_activation_row(job, m0 + (size_t)m); acc[m] = _mm512_setzero_ps(); }
    const __m512i low_mask = _mm512_set1_epi8(0x0F);
    for (size_t s = 0; s < layout->block_count; s++) {
        const uint8_t *tile = group + s * layout->tile_bytes;
        __m512i isum1[4], isum2[4];
        for (int m = 0; m < M; m++) { isum1[m] = _mm512_setzero_si512(); isum2[m] = _mm512_setzero_si512(); }
        const int sub_count = bits == 6 ? 16 : 8;
        for (int j = 0; j < sub_count; j++) {
            const int r = bits == 6 ? j / 2 : j, c0 = bits == 6 ? 2 * (j % 2) : 0, chunks = bits == 6 ? 2 : 4;
            __m512i sub1[4], sub2[4];
            for (int m = 0; m < M; m++) {
                sub1[m] = bits == 6 ? _mm512_set1_epi32(k_corr16(a[m], s, 0, j)) : _mm512_setzero_si512();
                sub2[m] = bits == 6 ? _mm512_set1_epi32(k_corr16(a[m], s, 1, j)) : _mm512_setzero_si512();
            }
            const __m512i high = bits == 5 ? _mm512_load_si512(tile + layout->planes_offset + 64 * r)
                               : bits == 6 ? _mm512_load_si512(tile + layout->planes_offset + 128 * r + 64 * (j % 2))
                                           : _mm512_setzero_si512();
            for (int c = c0; c < c0 + chunks; c++) {
                __m512i packed = _mm512_load_si512(tile + 256 * r + 64 * c);
                __m512i lo = _mm512_and_si512(packed, low_mask);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    lo = ei_avx512_add_high_bit(lo, high, 2 * c);
                    hi = ei_avx512_add_high_bit(hi, high, 2 * c + 1);
                } else if (bits == 6) {
                    lo = ei_avx512_add_high_crumb(lo, high, (2 * c) % 4);
                    hi = ei_avx512_add_high_crumb(hi, high, (2 * c + 1) % 4);
                }
                for (int m = 0; m < M; m++) {
                    const int8_t *q1 = k_quants(a[m], s, 0) + 32 * r + 8 * c, *q2 = k_quants(a[m], s, 1) + 32 * r + 8 * c;
                    sub1[m] = _mm512_dpbusd_epi32(sub1[m], lo, ei_avx512_word(q1));
                    sub1[m] = _mm512_dpbusd_epi32(sub1[m], hi, ei_avx512_word(q1 + 4));
                    sub2[m] = _mm512_dpbusd_epi32(sub2[m], lo, ei_avx512_word(q2));
                    sub2[m] = _mm512_dpbusd_epi32(sub2[m], hi, ei_avx512_word(q2 + 4));
                }
            }
            const __m128i raw = _mm_load_si128((const __m128i *)(tile + layout->scales_offset + 16 * j));
            const __m512i scale = bits == 6 ? _mm512_cvtepi8_epi32(raw) : _mm512_cvtepu8_epi32(raw);
            for (int m = 0; m < M; m++) {
                isum1[m] = _mm512_add_epi32(isum1[m], _mm512_mullo_epi32(sub1[m], scale));
                isum2[m] = _mm512_add_epi32(isum2[m], _mm512_mullo_epi32(sub2[m], scale));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + layout->d_offset)));
        if (bits == 6) {
            for (int m = 0; m < M; m++) {
                const float da = k_scale(a[m], s);
                acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum1[m]), _mm512_mul_ps(d, _mm512_set1_ps(da)), acc[m]);
                acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum2[m]), _mm512_mul_ps(d, _mm512_set1_ps(da * 0.00390625f)), acc[m]);
            }
            continue;
        }
        __m512i msum1[4], msum2[4];
        for (int m = 0; m < M; m++) { msum1[m] = _mm512_setzero_si512(); msum2[m] = _mm512_setzero_si512(); }
        for (int p = 0; p < 4; p++) {
            const __m512i mins = _mm512_load_si512(tile + layout->mins_offset + 64 * p);
            for (int m = 0; m < M; m++) {
                msum1[m] = _mm512_dpwssd_epi32(msum1[m], mins, _mm512_set1_epi32(k_sum_pair(a[m], s, 0, p)));
                msum2[m] = _mm512_dpwssd_epi32(msum2[m], mins, _mm512_set1_epi32(k_sum_pair(a[m], s, 1, p)));
            }
        }
        const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + layout->dmin_offset)));
        for (int m = 0; m < M; m++) {
            const float da = k_scale(a[m], s);
            const __m512 da256 = _mm512_set1_ps(da * 0.00390625f);
            const __m512i msum = _mm512_add_epi32(_mm512_slli_epi32(msum1[m], 8), msum2[m]);
            acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum1[m]), _mm512_mul_ps(d, _mm512_set1_ps(da)), acc[m]);
            acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum2[m]), _mm512_mul_ps(d, da256), acc[m]);
            acc[m] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, da256), acc[m]);
        }
    }
    int lanes = ei_group_lanes(job, g);
    for (int m = 0; m < M; m++) {
        float *out = job->output + (m0 + (size_t)m) * job->row_count + g * EI_GROUP_ROWS;
        if (lanes == EI_GROUP_ROWS) _mm512_storeu_ps(out, acc[m]);
        else _mm512_mask_storeu_ps(out, (__mmask16)((1u << lanes) - 1), acc[m]);
    }
}

EI_TARGET_AVX512 EI_INLINE void k_avx512_run(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end, const int bits) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        for (size_t g = group_begin; g < group_end; g++) {
            size_t m = r0;
            for (; m + 4 <= r1; m += 4) k_avx512_tile(job, g, m, 4, bits);
            switch (r1 - m) {
            case 3: k_avx512_tile(job, g, m, 3, bits); break;
            case 2: k_avx512_tile(job, g, m, 2, bits); break;
            case 1: k_avx512_tile(job, g, m, 1, bits); break;
            }
        }
    }
}

EI_TARGET_AVX512 void ei_matmul_kquants_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    switch (job->layout.bits) {
    case 4: k_avx512_run(job, rows, group_begin, group_end, 4); break;
    case 5: k_avx512_run(job, rows, group_begin, group_end, 5); break;
    default: k_avx512_run(job, rows, group_begin, group_end, 6); break;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 (half groups of 8 rows): vpmaddubsw int16 pair sums added in int16 while they cannot
// overflow, then vpmaddwd, which for Q4_K/Q5_K also applies the sub-block scale; vpmaddwd for the mins.

EI_TARGET_AVX2 EI_INLINE void k_avx2_tile(const ei_matmul_job *job, size_t g, int half, size_t m0, const int M, const int bits,
                                          const int terms) {
    const ei_layout *layout = &job->layout;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    const uint8_t *a[4];
    __m256 acc[4];
    for (int m = 0; m < M; m++) { a[m] = k_activation_row(job, m0 + (size_t)m); acc[m] = _mm256_setzero_ps(); }
    const __m256i low_mask = _mm256_set1_epi8(0x0F);
    for (size_t s = 0; s < layout->block_count; s++) {
        const uint8_t *tile = group + s * layout->tile_bytes;
        // As in matmul_q32.c: fetch the next group's superblock while this one is computed.
        if (half == 0)
            for (size_t line = 0; line < layout->tile_bytes; line += 64)
                _mm_prefetch((const char *)(tile + layout->group_bytes + line), _MM_HINT_T0);
        __m256i isum1[4], isum2[4];
        int residual[4];   // the row's block kept its residual term (else its q2 and their sums are zero)
        for (int m = 0; m < M; m++) {
            isum1[m] = _mm256_setzero_si256(); isum2[m] = _mm256_setzero_si256();
            residual[m] = terms == 2 && k_block(a[m], s)[EI_K_ACTIVATION_TERMS] == 2;
        }
        if (bits == 6) {
            // isum_t = Σ_j sc_j · Σ_{e∈j} q·x_t  -  32 · Σ_j sc_j · Σ_{e∈j} x_t  (t = q1, q2): the first
            // sum via vpmaddwd with (sc_j, sc_j) pairs, the second via vpmaddwd of (sc_2p, sc_2p+1)
            // pairs against the activation's Σx per 16 pairs.
            const int8_t *scales = (const int8_t *)(tile + layout->scales_offset);
            for (int j = 0; j < 16; j++) {          // sub-blocks of 16: half of run j / 2
                const int r = j / 2, c0 = 2 * (j % 2);
                const __m256i crumbs = _mm256_load_si256((const __m256i *)(tile + layout->planes_offset + 128 * r + 64 * (j % 2) + 32 * half));
                const __m256i scale32 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 16 * j + 8 * half)));
                const __m256i scale_pairs = _mm256_or_si256(_mm256_and_si256(scale32, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(scale32, 16));
                for (int c = c0; c < c0 + 2; c++) {
                    __m256i packed = _mm256_load_si256((const __m256i *)(tile + 256 * r + 64 * c + 32 * half));
                    __m256i lo = _mm256_or_si256(_mm256_and_si256(packed, low_mask), ei_avx2_high_crumb(crumbs, (2 * c) % 4));
                    __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask), ei_avx2_high_crumb(crumbs, (2 * c + 1) % 4));
                    for (int m = 0; m < M; m++) {   // 4 · 2 · 63 · 127 overflows int16: 2 products per accumulator
                        const int8_t *q1 = k_quants(a[m], s, 0) + 32 * r + 8 * c, *q2 = k_quants(a[m], s, 1) + 32 * r + 8 * c;
                        __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ei_avx2_word(q1)), _mm256_maddubs_epi16(hi, ei_avx2_word(q1 + 4)));
                        isum1[m] = _mm256_add_epi32(isum1[m], _mm256_madd_epi16(p1, scale_pairs));
                        if (residual[m]) {   // one term: the residuals are zero, and so are their products
                            __m256i p2 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ei_avx2_word(q2)), _mm256_maddubs_epi16(hi, ei_avx2_word(q2 + 4)));
                            isum2[m] = _mm256_add_epi32(isum2[m], _mm256_madd_epi16(p2, scale_pairs));
                        }
                    }
                }
            }
            for (int p = 0; p < 8; p++) {           // -32 · Σ_j sc_j · Σx_j over sub-block pairs (2p, 2p + 1)
                const __m128i even = _mm_loadl_epi64((const __m128i *)(scales + 32 * p + 8 * half));
                const __m128i odd = _mm_loadl_epi64((const __m128i *)(scales + 32 * p + 16 + 8 * half));
                const __m256i sc_pairs = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(even, odd));   // (sc_2p, sc_2p+1) per lane
                for (int m = 0; m < M; m++) {
                    const __m256i products1 = _mm256_madd_epi16(sc_pairs, _mm256_set1_epi32(k_sum16_pair(a[m], s, 0, p)));
                    isum1[m] = _mm256_sub_epi32(isum1[m], _mm256_slli_epi32(products1, 5));
                    if (residual[m]) {
                        const __m256i products2 = _mm256_madd_epi16(sc_pairs, _mm256_set1_epi32(k_sum16_pair(a[m], s, 1, p)));
                        isum2[m] = _mm256_sub_epi32(isum2[m], _mm256_slli_epi32(products2, 5));
                    }
                }
            }
            const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + layout->d_offset + 16 * half)));
            for (int m = 0; m < M; m++) {
                const float da = k_scale(a[m], s);
                acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum1[m]), _mm256_mul_ps(d, _mm256_set1_ps(da)), acc[m]);
                acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum2[m]), _mm256_mul_ps(d, _mm256_set1_ps(da * 0.00390625f)), acc[m]);
            }
            continue;
        }
        for (int r = 0; r < 8; r++) {               // sub-blocks of 32
            const __m256i high = bits == 5 ? _mm256_load_si256((const __m256i *)(tile + layout->planes_offset + 64 * r + 32 * half))
                                           : _mm256_setzero_si256();
            const __m256i scale32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(tile + layout->scales_offset + 16 * r + 8 * half)));
            const __m256i scale_pairs = _mm256_or_si256(scale32, _mm256_slli_epi32(scale32, 16));   // (sc, sc) int16 per lane
            __m256i pairs1[4], pairs2[4];
            for (int m = 0; m < M; m++) { pairs1[m] = _mm256_setzero_si256(); pairs2[m] = _mm256_setzero_si256(); }
            for (int c = 0; c < 4; c++) {
                __m256i packed = _mm256_load_si256((const __m256i *)(tile + 256 * r + 64 * c + 32 * half));
                __m256i lo = _mm256_and_si256(packed, low_mask);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    lo = _mm256_or_si256(lo, ei_avx2_high_bit(high, 2 * c));
                    hi = _mm256_or_si256(hi, ei_avx2_high_bit(high, 2 * c + 1));
                }
                for (int m = 0; m < M; m++) {
                    const int8_t *q1 = k_quants(a[m], s, 0) + 32 * r + 8 * c, *q2 = k_quants(a[m], s, 1) + 32 * r + 8 * c;
                    pairs1[m] = _mm256_add_epi16(pairs1[m], _mm256_maddubs_epi16(lo, ei_avx2_word(q1)));
                    pairs1[m] = _mm256_add_epi16(pairs1[m], _mm256_maddubs_epi16(hi, ei_avx2_word(q1 + 4)));
                    if (residual[m]) {
                        pairs2[m] = _mm256_add_epi16(pairs2[m], _mm256_maddubs_epi16(lo, ei_avx2_word(q2)));
                        pairs2[m] = _mm256_add_epi16(pairs2[m], _mm256_maddubs_epi16(hi, ei_avx2_word(q2 + 4)));
                    }
                }
                if (bits == 5 && c == 1)
                    for (int m = 0; m < M; m++) {
                        isum1[m] = _mm256_add_epi32(isum1[m], _mm256_madd_epi16(pairs1[m], scale_pairs));
                        if (residual[m]) isum2[m] = _mm256_add_epi32(isum2[m], _mm256_madd_epi16(pairs2[m], scale_pairs));
                        pairs1[m] = _mm256_setzero_si256();
                        pairs2[m] = _mm256_setzero_si256();
                    }
            }
            for (int m = 0; m < M; m++) {
                isum1[m] = _mm256_add_epi32(isum1[m], _mm256_madd_epi16(pairs1[m], scale_pairs));
                if (residual[m]) isum2[m] = _mm256_add_epi32(isum2[m], _mm256_madd_epi16(pairs2[m], scale_pairs));
            }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + layout->d_offset + 16 * half)));
        __m256i msum1[4], msum2[4];
        for (int m = 0; m < M; m++) { msum1[m] = _mm256_setzero_si256(); msum2[m] = _mm256_setzero_si256(); }
        for (int p = 0; p < 4; p++) {
            const __m256i mins = _mm256_load_si256((const __m256i *)(tile + layout->mins_offset + 64 * p + 32 * half));
            for (int m = 0; m < M; m++) {
                msum1[m] = _mm256_add_epi32(msum1[m], _mm256_madd_epi16(mins, _mm256_set1_epi32(k_sum_pair(a[m], s, 0, p))));
                if (residual[m]) msum2[m] = _mm256_add_epi32(msum2[m], _mm256_madd_epi16(mins, _mm256_set1_epi32(k_sum_pair(a[m], s, 1, p))));
            }
        }
        const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + layout->dmin_offset + 16 * half)));
        for (int m = 0; m < M; m++) {
            const float da = k_scale(a[m], s);
            const __m256 da256 = _mm256_set1_ps(da * 0.00390625f);
            const __m256i msum = _mm256_add_epi32(_mm256_slli_epi32(msum1[m], 8), msum2[m]);
            acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum1[m]), _mm256_mul_ps(d, _mm256_set1_ps(da)), acc[m]);
            acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum2[m]), _mm256_mul_ps(d, da256), acc[m]);
            acc[m] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, da256), acc[m]);
        }
    }
    int lanes = ei_group_lanes(job, g) - 8 * half;
    for (int m = 0; m < M; m++) {
        float *out = job->output + (m0 + (size_t)m) * job->row_count + g * EI_GROUP_ROWS + 8 * half;
        if (lanes >= 8) {
            _mm256_storeu_ps(out, acc[m]);
        } else {
            float lane_values[8];
            _mm256_storeu_ps(lane_values, acc[m]);
            memcpy(out, lane_values, sizeof(float) * (size_t)lanes);
        }
    }
}

// Activation rows per AVX2 tile (measured on Zen 3).
enum { EI_K_AVX2_ROWS = 2 };

EI_TARGET_AVX2 EI_INLINE void k_avx2_run(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end, const int bits,
                                        const int terms) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        for (size_t g = group_begin; g < group_end; g++) {
            for (int half = 0; half < 2 && ei_group_lanes(job, g) > 8 * half; half++) {
                size_t m = r0;
                for (; m + EI_K_AVX2_ROWS <= r1; m += EI_K_AVX2_ROWS) k_avx2_tile(job, g, half, m, EI_K_AVX2_ROWS, bits, terms);
                for (; m < r1; m++) k_avx2_tile(job, g, half, m, 1, bits, terms);
            }
        }
    }
}

EI_TARGET_AVX2 EI_INLINE void k_avx2_dispatch(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end,
                                             const int terms) {
    switch (job->layout.bits) {
    case 4: k_avx2_run(job, rows, group_begin, group_end, 4, terms); break;
    case 5: k_avx2_run(job, rows, group_begin, group_end, 5, terms); break;
    default: k_avx2_run(job, rows, group_begin, group_end, 6, terms); break;
    }
}

EI_TARGET_AVX2 void ei_matmul_kquants_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    if (job->activation_terms == 1) k_avx2_dispatch(job, rows, group_begin, group_end, 1);
    else k_avx2_dispatch(job, rows, group_begin, group_end, 2);
}
#else
void ei_matmul_kquants_avx512(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_kquants_portable(job, rows, g0, g1); }
void ei_matmul_kquants_avx2(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_kquants_portable(job, rows, g0, g1); }
#endif
