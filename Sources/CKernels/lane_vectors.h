// Private to CKernels: reading the packed lane vectors of quant_layout.h, per instruction set.
// Each helper turns stored bits into unsigned quants (bytes) ready for u8×s8 products.
#ifndef ENTROPYINFER_LANE_VECTORS_H
#define ENTROPYINFER_LANE_VECTORS_H
#include "quant_layout.h"
#if defined(__x86_64__)
#include "simd_intrinsics.h"
#endif

// Portable: the unsigned quant of lane n, element 4u + j of a 32-element run.
EI_INLINE uint8_t ei_run_quant(const uint8_t *nibbles, const uint8_t *high, int high_kind, int n, int u, int j) {
    uint8_t byte = nibbles[64 * (u / 2) + 4 * n + j];
    uint8_t q = u % 2 ? byte >> 4 : byte & 0xF;
    if (high_kind == 5) q |= (uint8_t)(((high[4 * n + j] >> u) & 1) << 4);
    if (high_kind == 6) q |= (uint8_t)(((high[64 * (u / 4) + 4 * n + j] >> (2 * (u % 4))) & 3) << 4);
    return q;
}

#if defined(__x86_64__)
// ---- AVX2: 32-byte halves of lane vectors (rows 0-7 or 8-15) ----

// Bit u of every byte of a high-bit vector, as 0x10.
EI_TARGET_AVX2 EI_INLINE __m256i ei_avx2_high_bit(__m256i high, const int u) {
    __m256i shifted;
    switch (u) {   // literal shift counts (u is a constant after inlining)
    case 0: shifted = _mm256_slli_epi16(high, 4); break;
    case 1: shifted = _mm256_slli_epi16(high, 3); break;
    case 2: shifted = _mm256_slli_epi16(high, 2); break;
    case 3: shifted = _mm256_slli_epi16(high, 1); break;
    case 4: shifted = high; break;
    case 5: shifted = _mm256_srli_epi16(high, 1); break;
    case 6: shifted = _mm256_srli_epi16(high, 2); break;
    default: shifted = _mm256_srli_epi16(high, 3); break;
    }
    return _mm256_and_si256(shifted, _mm256_set1_epi8(0x10));
}

// Crumb k of every byte of a high-crumb vector, as bits 4..5.
EI_TARGET_AVX2 EI_INLINE __m256i ei_avx2_high_crumb(__m256i crumbs, const int k) {
    const __m256i bits45 = _mm256_set1_epi8(0x30);
    __m256i shifted = k == 0 ? _mm256_slli_epi16(crumbs, 4) : k == 1 ? _mm256_slli_epi16(crumbs, 2)
                    : k == 2 ? crumbs : _mm256_srli_epi16(crumbs, 2);
    return _mm256_and_si256(shifted, bits45);
}

// The activation word of elements 4u..4u+3 broadcast to all lanes.
EI_TARGET_AVX2 EI_INLINE __m256i ei_avx2_word(const int8_t *p) { return _mm256_set1_epi32(ei_load_i32(p)); }

// Per 32-bit lane: sum of its two int16 (already pairwise products) → int32, added to acc.
EI_TARGET_AVX2 EI_INLINE __m256i ei_avx2_widen_add(__m256i acc, __m256i pairs16) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs16, _mm256_set1_epi16(1)));
}

// ---- AVX-512: whole lane vectors ----

EI_TARGET_AVX512 EI_INLINE __m512i ei_avx512_or_masked(__m512i nibbles, __m512i shifted, __m512i mask) {
    return _mm512_ternarylogic_epi32(nibbles, shifted, mask, 0xF8);   // nibbles | (shifted & mask)
}

// nibbles | bit u of each byte of `high` moved to 0x10.
EI_TARGET_AVX512 EI_INLINE __m512i ei_avx512_add_high_bit(__m512i nibbles, __m512i high, const int u) {
    __m512i shifted;
    switch (u) {   // literal shift counts (u is a constant after inlining)
    case 0: shifted = _mm512_slli_epi16(high, 4); break;
    case 1: shifted = _mm512_slli_epi16(high, 3); break;
    case 2: shifted = _mm512_slli_epi16(high, 2); break;
    case 3: shifted = _mm512_slli_epi16(high, 1); break;
    case 4: shifted = high; break;
    case 5: shifted = _mm512_srli_epi16(high, 1); break;
    case 6: shifted = _mm512_srli_epi16(high, 2); break;
    default: shifted = _mm512_srli_epi16(high, 3); break;
    }
    return ei_avx512_or_masked(nibbles, shifted, _mm512_set1_epi8(0x10));
}

// nibbles | crumb k of each byte of `crumbs` moved to bits 4..5.
EI_TARGET_AVX512 EI_INLINE __m512i ei_avx512_add_high_crumb(__m512i nibbles, __m512i crumbs, const int k) {
    __m512i shifted = k == 0 ? _mm512_slli_epi16(crumbs, 4) : k == 1 ? _mm512_slli_epi16(crumbs, 2)
                    : k == 2 ? crumbs : _mm512_srli_epi16(crumbs, 2);
    return ei_avx512_or_masked(nibbles, shifted, _mm512_set1_epi8(0x30));
}

EI_TARGET_AVX512 EI_INLINE __m512i ei_avx512_word(const int8_t *p) { return _mm512_set1_epi32(ei_load_i32(p)); }
#endif
#endif
