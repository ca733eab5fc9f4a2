// Matrix multiplication for the K-quant types: Q4_K, Q5_K, Q6_K (superblocks of 256 elements).
//
// For output (m, n), per superblock s in order (acc starts at 0; q unsigned stored quants, a the
// activation quants of one 256-element Q8_K-style block with scale da):
//   Q4_K / Q5_K (8 sub-blocks j of 32, 6-bit scale sc_j and min m_j):
//     isum = Σ_j sc_j · Σ_{e∈j} q[e] · a[e]          msum = Σ_j m_j · Σ_{e∈j} a[e]     (exact int32)
//     acc = fma((float)isum, d · da, acc);  acc = fma(-(float)msum, dmin · da, acc)
//   Q6_K (16 sub-blocks j of 16, int8 scale sc_j, q stored with +32):
//     isum = Σ_j sc_j · (Σ_{e∈j} q[e] · a[e] - 32 · Σ_{e∈j} a[e])
//     acc = fma((float)isum, d · da, acc)
// All paths perform exactly these operations (bit-identical results, batch invariant).
#include "quant_layout.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
    const int8_t *q;        // [K]
    const float *d;         // [superblocks]
    const int16_t *sum32;   // Q4_K / Q5_K: [K / 32] Σq per sub-block
    const int32_t *corr16;  // Q6_K: [K / 16] -32 · Σq per sub-block
} k_activation;

EI_INLINE k_activation k_activation_row(const ei_matmul_job *job, size_t m) {
    const uint8_t *row = job->activations + m * job->activation.row_bytes;
    const uint8_t *sums = row + job->activation.sum_offset;
    return (k_activation){ (const int8_t *)row, (const float *)(row + job->activation.scale_offset),
                           (const int16_t *)sums, (const int32_t *)sums };
}

// ---------------------------------------------------------------------------------------------
// Portable C

static void k_unpack_tile(const ei_layout *layout, const uint8_t *tile, uint8_t q[EI_GROUP_ROWS][256]) {
    for (int n = 0; n < EI_GROUP_ROWS; n++)
        for (int r = 0; r < 8; r++) {
            for (int c = 0; c < 4; c++)
                for (int j = 0; j < 4; j++) {
                    uint8_t byte = tile[256 * r + 64 * c + 4 * n + j];
                    q[n][32 * r + 8 * c + j] = byte & 0xF;
                    q[n][32 * r + 8 * c + 4 + j] = byte >> 4;
                }
            for (int u = 0; u < 8 && layout->bits > 4; u++) {
                const uint8_t *planes = tile + layout->planes_offset + (layout->bits == 5 ? 64 * r + 8 * u : 128 * r + 16 * u);
                uint64_t bit4 = ei_load_u64(planes), bit5 = layout->bits == 6 ? ei_load_u64(planes + 8) : 0;
                for (int j = 0; j < 4; j++)
                    q[n][32 * r + 4 * u + j] |= (uint8_t)((((bit4 >> (4 * n + j)) & 1) << 4) | (((bit5 >> (4 * n + j)) & 1) << 5));
            }
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
                    k_activation a = k_activation_row(job, m0 + i);
                    const int8_t *aq = a.q + 256 * s;
                    for (int n = 0; n < lanes; n++) {
                        float d = ei_half_to_float(((const uint16_t *)(tile + layout->d_offset))[n]);
                        int32_t isum = 0;
                        if (layout->bits == 6) {
                            for (int j = 0; j < 16; j++) {
                                int32_t sub = a.corr16[16 * s + (size_t)j];
                                for (int e = 16 * j; e < 16 * j + 16; e++) sub += (int32_t)q[n][e] * aq[e];
                                isum += sub * ((const int8_t *)(tile + layout->scales_offset))[16 * j + n];
                            }
                            acc[i][n] = fmaf((float)isum, d * a.d[s], acc[i][n]);
                            continue;
                        }
                        const int16_t *mins = (const int16_t *)(tile + layout->mins_offset);
                        int32_t msum = 0;
                        for (int j = 0; j < 8; j++) {
                            int32_t sub = 0;
                            for (int e = 32 * j; e < 32 * j + 32; e++) sub += (int32_t)q[n][e] * aq[e];
                            isum += sub * tile[layout->scales_offset + 16 * (size_t)j + (size_t)n];
                            msum += (int32_t)mins[32 * (j / 2) + 2 * n + (j % 2)] * a.sum32[8 * s + (size_t)j];
                        }
                        float dmin = ei_half_to_float(((const uint16_t *)(tile + layout->dmin_offset))[n]);
                        acc[i][n] = fmaf((float)isum, d * a.d[s], acc[i][n]);
                        acc[i][n] = fmaf(-(float)msum, dmin * a.d[s], acc[i][n]);
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

EI_TARGET_AVX512 EI_INLINE __m512i k_broadcast512(const void *p) { return _mm512_set1_epi32(ei_load_i32(p)); }

EI_TARGET_AVX512 EI_INLINE void k_avx512_tile(const ei_matmul_job *job, size_t g, size_t m0, const int M, const int bits) {
    const ei_layout *layout = &job->layout;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    k_activation a[4];
    __m512 acc[4];
    for (int m = 0; m < M; m++) { a[m] = k_activation_row(job, m0 + (size_t)m); acc[m] = _mm512_setzero_ps(); }
    const __m512i low_mask = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10), bit5 = _mm512_set1_epi8(0x20);
    for (size_t s = 0; s < layout->block_count; s++) {
        const uint8_t *tile = group + s * layout->tile_bytes;
        __m512i isum[4];
        for (int m = 0; m < M; m++) isum[m] = _mm512_setzero_si512();
        if (bits == 6) {
            for (int j = 0; j < 16; j++) {          // sub-blocks of 16: half of run j / 2
                const int r = j / 2, c0 = 2 * (j % 2);
                __m512i even[4], odd[4];
                for (int m = 0; m < M; m++) { even[m] = _mm512_set1_epi32(a[m].corr16[16 * s + (size_t)j]); odd[m] = _mm512_setzero_si512(); }
                for (int c = c0; c < c0 + 2; c++) {
                    __m512i packed = _mm512_load_si512(tile + 256 * r + 64 * c);
                    __m512i lo = _mm512_and_si512(packed, low_mask);
                    __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
                    const uint8_t *planes = tile + layout->planes_offset + 128 * r + 32 * c;
                    lo = _mm512_mask_add_epi8(lo, (__mmask64)ei_load_u64(planes), lo, bit4);
                    lo = _mm512_mask_add_epi8(lo, (__mmask64)ei_load_u64(planes + 8), lo, bit5);
                    hi = _mm512_mask_add_epi8(hi, (__mmask64)ei_load_u64(planes + 16), hi, bit4);
                    hi = _mm512_mask_add_epi8(hi, (__mmask64)ei_load_u64(planes + 24), hi, bit5);
                    for (int m = 0; m < M; m++) {
                        even[m] = _mm512_dpbusd_epi32(even[m], lo, k_broadcast512(a[m].q + 256 * s + 32 * r + 8 * c));
                        odd[m] = _mm512_dpbusd_epi32(odd[m], hi, k_broadcast512(a[m].q + 256 * s + 32 * r + 8 * c + 4));
                    }
                }
                const __m512i scale = _mm512_cvtepi8_epi32(_mm_load_si128((const __m128i *)(tile + layout->scales_offset + 16 * j)));
                for (int m = 0; m < M; m++)
                    isum[m] = _mm512_add_epi32(isum[m], _mm512_mullo_epi32(_mm512_add_epi32(even[m], odd[m]), scale));
            }
            const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + layout->d_offset)));
            for (int m = 0; m < M; m++)
                acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[m]), _mm512_mul_ps(d, _mm512_set1_ps(a[m].d[s])), acc[m]);
            continue;
        }
        for (int r = 0; r < 8; r++) {               // sub-blocks of 32
            __m512i even[4], odd[4];
            for (int m = 0; m < M; m++) { even[m] = _mm512_setzero_si512(); odd[m] = _mm512_setzero_si512(); }
            for (int c = 0; c < 4; c++) {
                __m512i packed = _mm512_load_si512(tile + 256 * r + 64 * c);
                __m512i lo = _mm512_and_si512(packed, low_mask);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    const uint8_t *planes = tile + layout->planes_offset + 64 * r + 16 * c;
                    lo = _mm512_mask_add_epi8(lo, (__mmask64)ei_load_u64(planes), lo, bit4);
                    hi = _mm512_mask_add_epi8(hi, (__mmask64)ei_load_u64(planes + 8), hi, bit4);
                }
                for (int m = 0; m < M; m++) {
                    even[m] = _mm512_dpbusd_epi32(even[m], lo, k_broadcast512(a[m].q + 256 * s + 32 * r + 8 * c));
                    odd[m] = _mm512_dpbusd_epi32(odd[m], hi, k_broadcast512(a[m].q + 256 * s + 32 * r + 8 * c + 4));
                }
            }
            const __m512i scale = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(tile + layout->scales_offset + 16 * r)));
            for (int m = 0; m < M; m++)
                isum[m] = _mm512_add_epi32(isum[m], _mm512_mullo_epi32(_mm512_add_epi32(even[m], odd[m]), scale));
        }
        __m512i msum[4];
        for (int m = 0; m < M; m++) msum[m] = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++) {
            const __m512i mins = _mm512_load_si512(tile + layout->mins_offset + 64 * p);
            for (int m = 0; m < M; m++) msum[m] = _mm512_dpwssd_epi32(msum[m], mins, k_broadcast512(a[m].sum32 + 8 * s + 2 * (size_t)p));
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + layout->d_offset)));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + layout->dmin_offset)));
        for (int m = 0; m < M; m++) {
            const __m512 da = _mm512_set1_ps(a[m].d[s]);
            acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[m]), _mm512_mul_ps(d, da), acc[m]);
            acc[m] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[m]), _mm512_mul_ps(dmin, da), acc[m]);
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
// AVX2 (half groups of 8 rows; vpmaddubsw + vpmaddwd for u8×s8, vpmaddwd for the mins)

EI_TARGET_AVX2 EI_INLINE __m256i k_broadcast256(const void *p) { return _mm256_set1_epi32(ei_load_i32(p)); }

EI_TARGET_AVX2 EI_INLINE __m256i k_dot4_avx2(__m256i acc, __m256i u8, __m256i s8) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1)));
}

EI_TARGET_AVX2 EI_INLINE __m256i k_expand_bits_avx2(uint32_t bits, __m256i value) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, select), select), value);
}

EI_TARGET_AVX2 EI_INLINE void k_avx2_tile(const ei_matmul_job *job, size_t g, int half, size_t m0, const int M, const int bits) {
    const ei_layout *layout = &job->layout;
    const uint8_t *group = job->packed + g * layout->group_bytes;
    k_activation a[4];
    __m256 acc[4];
    for (int m = 0; m < M; m++) { a[m] = k_activation_row(job, m0 + (size_t)m); acc[m] = _mm256_setzero_ps(); }
    const __m256i low_mask = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10), bit5 = _mm256_set1_epi8(0x20);
    for (size_t s = 0; s < layout->block_count; s++) {
        const uint8_t *tile = group + s * layout->tile_bytes;
        __m256i isum[4];
        for (int m = 0; m < M; m++) isum[m] = _mm256_setzero_si256();
        const int sub_count = bits == 6 ? 16 : 8, chunks = bits == 6 ? 2 : 4;
        for (int j = 0; j < sub_count; j++) {
            const int r = bits == 6 ? j / 2 : j, c0 = bits == 6 ? 2 * (j % 2) : 0;
            __m256i sub[4];
            for (int m = 0; m < M; m++)
                sub[m] = bits == 6 ? _mm256_set1_epi32(a[m].corr16[16 * s + (size_t)j]) : _mm256_setzero_si256();
            for (int c = c0; c < c0 + chunks; c++) {
                __m256i packed = _mm256_load_si256((const __m256i *)(tile + 256 * r + 64 * c + 32 * half));
                __m256i lo = _mm256_and_si256(packed, low_mask);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask);
                if (bits == 5) {
                    const uint8_t *planes = tile + layout->planes_offset + 64 * r + 16 * c + 4 * half;
                    lo = _mm256_or_si256(lo, k_expand_bits_avx2((uint32_t)ei_load_i32(planes), bit4));
                    hi = _mm256_or_si256(hi, k_expand_bits_avx2((uint32_t)ei_load_i32(planes + 8), bit4));
                } else if (bits == 6) {
                    const uint8_t *planes = tile + layout->planes_offset + 128 * r + 32 * c + 4 * half;
                    lo = _mm256_or_si256(lo, k_expand_bits_avx2((uint32_t)ei_load_i32(planes), bit4));
                    lo = _mm256_or_si256(lo, k_expand_bits_avx2((uint32_t)ei_load_i32(planes + 8), bit5));
                    hi = _mm256_or_si256(hi, k_expand_bits_avx2((uint32_t)ei_load_i32(planes + 16), bit4));
                    hi = _mm256_or_si256(hi, k_expand_bits_avx2((uint32_t)ei_load_i32(planes + 24), bit5));
                }
                for (int m = 0; m < M; m++) {
                    sub[m] = k_dot4_avx2(sub[m], lo, k_broadcast256(a[m].q + 256 * s + 32 * r + 8 * c));
                    sub[m] = k_dot4_avx2(sub[m], hi, k_broadcast256(a[m].q + 256 * s + 32 * r + 8 * c + 4));
                }
            }
            const __m128i raw = _mm_loadl_epi64((const __m128i *)(tile + layout->scales_offset + 16 * j + 8 * half));
            const __m256i scale = bits == 6 ? _mm256_cvtepi8_epi32(raw) : _mm256_cvtepu8_epi32(raw);
            for (int m = 0; m < M; m++) isum[m] = _mm256_add_epi32(isum[m], _mm256_mullo_epi32(sub[m], scale));
        }
        const __m256 d = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + layout->d_offset + 16 * half)));
        if (bits == 6) {
            for (int m = 0; m < M; m++)
                acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[m]), _mm256_mul_ps(d, _mm256_set1_ps(a[m].d[s])), acc[m]);
            continue;
        }
        __m256i msum[4];
        for (int m = 0; m < M; m++) msum[m] = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            const __m256i mins = _mm256_load_si256((const __m256i *)(tile + layout->mins_offset + 64 * p + 32 * half));
            for (int m = 0; m < M; m++)
                msum[m] = _mm256_add_epi32(msum[m], _mm256_madd_epi16(mins, k_broadcast256(a[m].sum32 + 8 * s + 2 * (size_t)p)));
        }
        const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + layout->dmin_offset + 16 * half)));
        for (int m = 0; m < M; m++) {
            const __m256 da = _mm256_set1_ps(a[m].d[s]);
            acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[m]), _mm256_mul_ps(d, da), acc[m]);
            acc[m] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[m]), _mm256_mul_ps(dmin, da), acc[m]);
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

EI_TARGET_AVX2 EI_INLINE void k_avx2_run(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end, const int bits) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        for (size_t g = group_begin; g < group_end; g++) {
            for (int half = 0; half < 2 && ei_group_lanes(job, g) > 8 * half; half++) {
                size_t m = r0;
                for (; m + 4 <= r1; m += 4) k_avx2_tile(job, g, half, m, 4, bits);
                switch (r1 - m) {
                case 3: k_avx2_tile(job, g, half, m, 3, bits); break;
                case 2: k_avx2_tile(job, g, half, m, 2, bits); break;
                case 1: k_avx2_tile(job, g, half, m, 1, bits); break;
                }
            }
        }
    }
}

EI_TARGET_AVX2 void ei_matmul_kquants_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    switch (job->layout.bits) {
    case 4: k_avx2_run(job, rows, group_begin, group_end, 4); break;
    case 5: k_avx2_run(job, rows, group_begin, group_end, 5); break;
    default: k_avx2_run(job, rows, group_begin, group_end, 6); break;
    }
}
#else
void ei_matmul_kquants_avx512(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_kquants_portable(job, rows, g0, g1); }
void ei_matmul_kquants_avx2(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_kquants_portable(job, rows, g0, g1); }
#endif
