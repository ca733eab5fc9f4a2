// exp(x) for x <= 0 on 8 AVX2 lanes, shared by the attention kernels (attention.c) and the
// KV-compression scores (kv_scores.c), so both round exactly alike.
#ifndef ENTROPYINFER_EXP_NONPOSITIVE_H
#define ENTROPYINFER_EXP_NONPOSITIVE_H
#if defined(__x86_64__)
#include <immintrin.h>

/// exp(x) for x <= 0 on 8 lanes (inputs below -87 give ~exp(-87)); the same reduction and
/// polynomial as the AVX-512 version in attention.c, with 2^n built in the exponent bits.
__attribute__((target("avx2,fma,f16c")))
static inline __m256 ei_exp_nonpositive_avx2(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 poly = _mm256_set1_ps(1.0f / 720.0f);
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 120.0f));
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 24.0f));
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f / 6.0f));
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(0.5f));
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f));
    poly = _mm256_fmadd_ps(poly, r, _mm256_set1_ps(1.0f));
    __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(poly, _mm256_castsi256_ps(exponent));
}

#endif
#endif
