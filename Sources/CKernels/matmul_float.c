// Matrix multiplication for float weights: F32, F16, BF16 (fp32 activations, no quantization).
//
// For output (m, n): acc = 0; for k = 0 ..< K in order: acc = fma(w[n][k], x[m][k], acc).
// One fused multiply-add per element in a fixed order: every path agrees bit for bit.
// Packed group layout: [K][16] values, lane n = row n, so a vector holds one k for 16 rows.
#include "quant_layout.h"
#if defined(__x86_64__)
#include "simd_intrinsics.h"
#endif

EI_INLINE float float_weight(uint32_t type, const uint8_t *group, size_t index) {
    if (type == EI_TYPE_F32) { float w; memcpy(&w, group + 4 * index, 4); return w; }
    uint16_t h = ei_load_u16(group + 2 * index);
    return type == EI_TYPE_F16 ? ei_half_to_float(h) : ei_bf16_to_float(h);
}

EI_INLINE uint32_t float_type(const ei_matmul_job *job) { return job->layout.type; }

void ei_matmul_float_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    uint32_t type = float_type(job);
    size_t K = job->column_count;
    for (size_t g = group_begin; g < group_end; g++) {
        const uint8_t *group = job->packed + g * job->layout.group_bytes;
        int lanes = ei_group_lanes(job, g);
        for (size_t m = 0; m < rows; m++) {
            const float *x = job->input + m * K;
            float *out = job->output + m * job->row_count + g * EI_GROUP_ROWS;
            for (int n = 0; n < lanes; n++) {
                float acc = 0.0f;
                for (size_t k = 0; k < K; k++) acc = fmaf(float_weight(type, group, 16 * k + (size_t)n), x[k], acc);
                out[n] = acc;
            }
        }
    }
}

#if defined(__x86_64__)
// ---------------------------------------------------------------------------------------------
// AVX-512: tiles of up to 4 groups × 2 rows (8 independent FMA chains).

EI_TARGET_AVX512 EI_INLINE __m512 float_load16_avx512(uint32_t type, const uint8_t *group, size_t k) {
    if (type == EI_TYPE_F32) return _mm512_load_ps(group + 64 * k);
    __m256i h = _mm256_load_si256((const __m256i *)(group + 32 * k));
    if (type == EI_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

EI_TARGET_AVX512 EI_INLINE void float_avx512_tile(const ei_matmul_job *job, uint32_t type, size_t g0, const int G,
                                                 size_t m0, const int M) {
    size_t K = job->column_count;
    const uint8_t *groups[4];
    __m512 acc[4][2];
    for (int i = 0; i < G; i++) {
        groups[i] = job->packed + (g0 + (size_t)i) * job->layout.group_bytes;
        for (int m = 0; m < M; m++) acc[i][m] = _mm512_setzero_ps();
    }
    const float *x[2];
    for (int m = 0; m < M; m++) x[m] = job->input + (m0 + (size_t)m) * K;
    for (size_t k = 0; k < K; k++) {
        __m512 w[4];
        for (int i = 0; i < G; i++) w[i] = float_load16_avx512(type, groups[i], k);
        for (int m = 0; m < M; m++) {
            const __m512 xk = _mm512_set1_ps(x[m][k]);
            for (int i = 0; i < G; i++) acc[i][m] = _mm512_fmadd_ps(w[i], xk, acc[i][m]);
        }
    }
    for (int i = 0; i < G; i++) {
        int lanes = ei_group_lanes(job, g0 + (size_t)i);
        for (int m = 0; m < M; m++) {
            float *out = job->output + (m0 + (size_t)m) * job->row_count + (g0 + (size_t)i) * EI_GROUP_ROWS;
            if (lanes == EI_GROUP_ROWS) _mm512_storeu_ps(out, acc[i][m]);
            else _mm512_mask_storeu_ps(out, (__mmask16)((1u << lanes) - 1), acc[i][m]);
        }
    }
}

EI_TARGET_AVX512 EI_INLINE void float_avx512_rows(const ei_matmul_job *job, uint32_t type, size_t g, const int G, size_t r0, size_t r1) {
    size_t m = r0;
    for (; m + 2 <= r1; m += 2) float_avx512_tile(job, type, g, G, m, 2);
    if (m < r1) float_avx512_tile(job, type, g, G, m, 1);
}

EI_TARGET_AVX512 EI_INLINE void float_avx512_run(const ei_matmul_job *job, uint32_t type, size_t rows, size_t group_begin, size_t group_end) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        size_t g = group_begin;
        for (; g + 4 <= group_end; g += 4) float_avx512_rows(job, type, g, 4, r0, r1);
        switch (group_end - g) {
        case 3: float_avx512_rows(job, type, g, 3, r0, r1); break;
        case 2: float_avx512_rows(job, type, g, 2, r0, r1); break;
        case 1: float_avx512_rows(job, type, g, 1, r0, r1); break;
        }
    }
}

EI_TARGET_AVX512 void ei_matmul_float_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    switch (float_type(job)) {
    case EI_TYPE_F32: float_avx512_run(job, EI_TYPE_F32, rows, group_begin, group_end); break;
    case EI_TYPE_F16: float_avx512_run(job, EI_TYPE_F16, rows, group_begin, group_end); break;
    default: float_avx512_run(job, EI_TYPE_BF16, rows, group_begin, group_end); break;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA + F16C: half groups of 8 rows; tiles of up to 4 half groups × 2 rows.

EI_TARGET_AVX2 EI_INLINE __m256 float_load8_avx2(uint32_t type, const uint8_t *group, size_t k, int half) {
    if (type == EI_TYPE_F32) return _mm256_load_ps((const float *)(group + 64 * k + 32 * half));
    __m128i h = _mm_load_si128((const __m128i *)(group + 32 * k + 16 * half));
    if (type == EI_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// Half group h of tile slot i is half (h % 2) of group g0 + h / 2.
EI_TARGET_AVX2 EI_INLINE void float_avx2_tile(const ei_matmul_job *job, uint32_t type, size_t g0, const int H,
                                             size_t m0, const int M) {
    size_t K = job->column_count;
    const uint8_t *groups[4];
    __m256 acc[4][2];
    for (int i = 0; i < H; i++) {
        groups[i] = job->packed + (g0 + (size_t)(i / 2)) * job->layout.group_bytes;
        for (int m = 0; m < M; m++) acc[i][m] = _mm256_setzero_ps();
    }
    const float *x[2];
    for (int m = 0; m < M; m++) x[m] = job->input + (m0 + (size_t)m) * K;
    for (size_t k = 0; k < K; k++) {
        __m256 w[4];
        for (int i = 0; i < H; i++) w[i] = float_load8_avx2(type, groups[i], k, i % 2);
        for (int m = 0; m < M; m++) {
            const __m256 xk = _mm256_set1_ps(x[m][k]);
            for (int i = 0; i < H; i++) acc[i][m] = _mm256_fmadd_ps(w[i], xk, acc[i][m]);
        }
    }
    for (int i = 0; i < H; i++) {
        size_t g = g0 + (size_t)(i / 2);
        int lanes = ei_group_lanes(job, g) - 8 * (i % 2);
        if (lanes <= 0) continue;
        for (int m = 0; m < M; m++) {
            float lane_values[8];
            _mm256_storeu_ps(lane_values, acc[i][m]);
            memcpy(job->output + (m0 + (size_t)m) * job->row_count + g * EI_GROUP_ROWS + 8 * (i % 2), lane_values,
                   sizeof(float) * (size_t)(lanes < 8 ? lanes : 8));
        }
    }
}

EI_TARGET_AVX2 EI_INLINE void float_avx2_run(const ei_matmul_job *job, uint32_t type, size_t rows, size_t group_begin, size_t group_end) {
    size_t chunk = ei_activation_row_block(job);
    for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t r1 = rows - r0 < chunk ? rows : r0 + chunk;
        size_t g = group_begin;
        for (; g + 2 <= group_end; g += 2) {
            size_t m = r0;
            for (; m + 2 <= r1; m += 2) float_avx2_tile(job, type, g, 4, m, 2);
            if (m < r1) float_avx2_tile(job, type, g, 4, m, 1);
        }
        if (g < group_end) {
            size_t m = r0;
            for (; m + 2 <= r1; m += 2) float_avx2_tile(job, type, g, 2, m, 2);
            if (m < r1) float_avx2_tile(job, type, g, 2, m, 1);
        }
    }
}

EI_TARGET_AVX2 void ei_matmul_float_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end) {
    switch (float_type(job)) {
    case EI_TYPE_F32: float_avx2_run(job, EI_TYPE_F32, rows, group_begin, group_end); break;
    case EI_TYPE_F16: float_avx2_run(job, EI_TYPE_F16, rows, group_begin, group_end); break;
    default: float_avx2_run(job, EI_TYPE_BF16, rows, group_begin, group_end); break;
    }
}
#else
void ei_matmul_float_avx512(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_float_portable(job, rows, g0, g1); }
void ei_matmul_float_avx2(const ei_matmul_job *job, size_t rows, size_t g0, size_t g1) { ei_matmul_float_portable(job, rows, g0, g1); }
#endif
