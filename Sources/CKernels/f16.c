// fp32 <-> IEEE half rows (the KV cache and attention store f16). Round to nearest even; the
// F16C and AVX-512 instructions give the same bits as the portable conversion.
#include "quant_layout.h"
#if defined(__x86_64__)
#include "simd_intrinsics.h"
#endif

static void f32_to_f16_portable(const float *source, uint16_t *destination, size_t count) {
    for (size_t i = 0; i < count; i++) destination[i] = ei_float_to_half(source[i]);
}

static void f16_to_f32_portable(const uint16_t *source, float *destination, size_t count) {
    for (size_t i = 0; i < count; i++) destination[i] = ei_half_to_float(source[i]);
}

#if defined(__x86_64__)
EI_TARGET_AVX2 static void f32_to_f16_avx2(const float *source, uint16_t *destination, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm_storeu_si128((__m128i *)(destination + i), _mm256_cvtps_ph(_mm256_loadu_ps(source + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < count; i++) destination[i] = ei_float_to_half(source[i]);
}

EI_TARGET_AVX2 static void f16_to_f32_avx2(const uint16_t *source, float *destination, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(destination + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(source + i))));
    for (; i < count; i++) destination[i] = ei_half_to_float(source[i]);
}

EI_TARGET_AVX512 static void f32_to_f16_avx512(const float *source, uint16_t *destination, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm256_storeu_si256((__m256i *)(destination + i), _mm512_cvtps_ph(_mm512_loadu_ps(source + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < count) {
        __mmask16 mask = (__mmask16)((1u << (count - i)) - 1);
        __m256i half = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mask, source + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_mask_storeu_epi16(destination + i, mask, half);
    }
}

EI_TARGET_AVX512 static void f16_to_f32_avx512(const uint16_t *source, float *destination, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16)
        _mm512_storeu_ps(destination + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(source + i))));
    if (i < count) {
        __mmask16 mask = (__mmask16)((1u << (count - i)) - 1);
        _mm512_mask_storeu_ps(destination + i, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, source + i)));
    }
}
#endif

void ei_f32_to_f16_row_isa(ei_isa isa, const float *source, uint16_t *destination, size_t count) {
    isa = ei_usable_isa(isa);
#if defined(__x86_64__)
    if (isa == EI_ISA_AVX512) { f32_to_f16_avx512(source, destination, count); return; }
    if (isa == EI_ISA_AVX2) { f32_to_f16_avx2(source, destination, count); return; }
#endif
    f32_to_f16_portable(source, destination, count);
}

void ei_f16_to_f32_row_isa(ei_isa isa, const uint16_t *source, float *destination, size_t count) {
    isa = ei_usable_isa(isa);
#if defined(__x86_64__)
    if (isa == EI_ISA_AVX512) { f16_to_f32_avx512(source, destination, count); return; }
    if (isa == EI_ISA_AVX2) { f16_to_f32_avx2(source, destination, count); return; }
#endif
    f16_to_f32_portable(source, destination, count);
}

void ei_f32_to_f16_row(const float *source, uint16_t *destination, size_t count) {
    ei_f32_to_f16_row_isa(ei_active_isa(), source, destination, count);
}

void ei_f16_to_f32_row(const uint16_t *source, float *destination, size_t count) {
    ei_f16_to_f32_row_isa(ei_active_isa(), source, destination, count);
}
