// Private to CKernels: the x86 intrinsics the kernels use.
//
// With EI_EMULATE_AVX512 (developer checks only, scripts/check-avx512-emulated.sh), the AVX-512
// intrinsics come from SIMDe's portable implementations instead, so the AVX-512 kernels can be
// verified bit for bit on a CPU without AVX-512. Never defined in the package build.
#ifndef ENTROPYINFER_SIMD_INTRINSICS_H
#define ENTROPYINFER_SIMD_INTRINSICS_H
#if defined(__x86_64__)
#if defined(EI_EMULATE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>
#include <math.h>
#include <string.h>
// Intrinsics SIMDe 0.7.4 lacks, by their documented element-wise semantics (the f16 ones on native
// F16C halves). Macros, so they shadow clang's AVX-512 declarations.
#define EI_EMULATED(result_type, name, parameters, body) \
    static inline result_type ei_emulated##name parameters { body }
EI_EMULATED(__m512, _mm512_cvtepi32_ps, (__m512i a), int32_t in[16]; float out[16]; memcpy(in, &a, 64);
            for (int i = 0; i < 16; i++) out[i] = (float)in[i]; __m512 r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m512i, _mm512_cvtps_epi32, (__m512 a), float in[16]; int32_t out[16]; memcpy(in, &a, 64);
            for (int i = 0; i < 16; i++) out[i] = (int32_t)lrintf(in[i]); __m512i r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m512i, _mm512_cvtepu8_epi32, (__m128i a), uint8_t in[16]; int32_t out[16]; memcpy(in, &a, 16);
            for (int i = 0; i < 16; i++) out[i] = in[i]; __m512i r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m512i, _mm512_cvtepi8_epi32, (__m128i a), int8_t in[16]; int32_t out[16]; memcpy(in, &a, 16);
            for (int i = 0; i < 16; i++) out[i] = in[i]; __m512i r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m512i, _mm512_cvtepu16_epi32, (__m256i a), uint16_t in[16]; int32_t out[16]; memcpy(in, &a, 32);
            for (int i = 0; i < 16; i++) out[i] = in[i]; __m512i r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m128i, _mm512_cvtepi32_epi8, (__m512i a), int32_t in[16]; int8_t out[16]; memcpy(in, &a, 64);
            for (int i = 0; i < 16; i++) out[i] = (int8_t)in[i]; __m128i r; memcpy(&r, out, 16); return r;)
EI_EMULATED(__m512, _mm512_cvtph_ps, (__m256i a), __m128i half[2]; __m256 out[2]; memcpy(half, &a, 32);
            out[0] = _mm256_cvtph_ps(half[0]); out[1] = _mm256_cvtph_ps(half[1]); __m512 r; memcpy(&r, out, 64); return r;)
EI_EMULATED(__m256i, _mm512_cvtps_ph, (__m512 a), __m256 in[2]; __m128i out[2]; memcpy(in, &a, 64);
            out[0] = _mm256_cvtps_ph(in[0], 0); out[1] = _mm256_cvtps_ph(in[1], 0); __m256i r; memcpy(&r, out, 32); return r;)
EI_EMULATED(float, _mm512_reduce_max_ps, (__m512 a), float in[16]; memcpy(in, &a, 64); float m = in[0];
            for (int i = 1; i < 16; i++) m = in[i] > m ? in[i] : m; return m;)
EI_EMULATED(void, _mm512_mask_storeu_ps, (void *p, __mmask16 k, __m512 a), float in[16]; memcpy(in, &a, 64);
            for (int i = 0; i < 16; i++) if ((k >> i) & 1) memcpy((char *)p + 4 * i, &in[i], 4);)
EI_EMULATED(__m512, _mm512_maskz_loadu_ps, (__mmask16 k, const void *p), float out[16];
            for (int i = 0; i < 16; i++) { out[i] = 0; if ((k >> i) & 1) memcpy(&out[i], (const char *)p + 4 * i, 4); }
            __m512 r; memcpy(&r, out, 64); return r;)
EI_EMULATED(void, _mm256_mask_storeu_epi16, (void *p, __mmask16 k, __m256i a), uint16_t in[16]; memcpy(in, &a, 32);
            for (int i = 0; i < 16; i++) if ((k >> i) & 1) memcpy((char *)p + 2 * i, &in[i], 2);)
EI_EMULATED(__m256i, _mm256_maskz_loadu_epi16, (__mmask16 k, const void *p), uint16_t out[16];
            for (int i = 0; i < 16; i++) { out[i] = 0; if ((k >> i) & 1) memcpy(&out[i], (const char *)p + 2 * i, 2); }
            __m256i r; memcpy(&r, out, 32); return r;)
#undef _mm512_cvtps_ph
#define _mm512_cvtepi32_ps ei_emulated_mm512_cvtepi32_ps
#define _mm512_cvtps_epi32 ei_emulated_mm512_cvtps_epi32
#define _mm512_cvtepu8_epi32 ei_emulated_mm512_cvtepu8_epi32
#define _mm512_cvtepi8_epi32 ei_emulated_mm512_cvtepi8_epi32
#define _mm512_cvtepu16_epi32 ei_emulated_mm512_cvtepu16_epi32
#define _mm512_cvtepi32_epi8 ei_emulated_mm512_cvtepi32_epi8
#define _mm512_cvtph_ps ei_emulated_mm512_cvtph_ps
#define _mm512_cvtps_ph(a, rounding) ei_emulated_mm512_cvtps_ph(a)
#define _mm512_reduce_max_ps ei_emulated_mm512_reduce_max_ps
#define _mm512_mask_storeu_ps ei_emulated_mm512_mask_storeu_ps
#define _mm512_maskz_loadu_ps ei_emulated_mm512_maskz_loadu_ps
#define _mm256_mask_storeu_epi16 ei_emulated_mm256_mask_storeu_epi16
#define _mm256_maskz_loadu_epi16 ei_emulated_mm256_maskz_loadu_epi16
#else
#include <immintrin.h>
#endif
#endif
#endif
