// Writing entries into KV blocks and summarising keys (min/max per selection block).
#include "CKernels.h"
#include "ei_attention.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define EI_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#endif

#define T EI_KV_BLOCK_TOKENS

static void store_f16_portable(uint16_t *block, int headDim, int slot, int count,
                               const float *keys, size_t keyStride, const float *values, size_t valueStride) {
    uint16_t *blockKeys = block;                         // (headDim, T)
    uint16_t *blockValues = block + (size_t)headDim * T; // (T, headDim)
    for (int i = 0; i < count; i++) {
        const float *key = keys + (size_t)i * keyStride;
        const float *value = values + (size_t)i * valueStride;
        for (int d = 0; d < headDim; d++) {
            blockKeys[(size_t)d * T + slot + i] = ei_f32_to_f16(key[d]);
            blockValues[(size_t)(slot + i) * headDim + d] = ei_f32_to_f16(value[d]);
        }
    }
}

#if defined(__x86_64__)
EI_TARGET_AVX512
static void store_f16_avx512(uint16_t *block, int headDim, int slot, int count,
                             const float *keys, size_t keyStride, const float *values, size_t valueStride) {
    uint16_t *blockKeys = block;
    uint16_t *blockValues = block + (size_t)headDim * T;
    for (int i = 0; i < count; i++) {
        const float *key = keys + (size_t)i * keyStride;
        const float *value = values + (size_t)i * valueStride;
        for (int d = 0; d < headDim; d += 16) {
            __m256i vh = _mm512_cvtps_ph(_mm512_loadu_ps(value + d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm256_storeu_si256((__m256i *)(blockValues + (size_t)(slot + i) * headDim + d), vh);
            __m256i kh = _mm512_cvtps_ph(_mm512_loadu_ps(key + d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            uint16_t lanes[16];
            _mm256_storeu_si256((__m256i *)lanes, kh);
            for (int j = 0; j < 16; j++) blockKeys[(size_t)(d + j) * T + slot + i] = lanes[j];
        }
    }
}
#endif

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c")))
static void store_f16_f16c(uint16_t *block, int headDim, int slot, int count,
                           const float *keys, size_t keyStride, const float *values, size_t valueStride) {
    uint16_t *blockKeys = block;
    uint16_t *blockValues = block + (size_t)headDim * T;
    for (int i = 0; i < count; i++) {
        const float *key = keys + (size_t)i * keyStride;
        const float *value = values + (size_t)i * valueStride;
        for (int d = 0; d < headDim; d += 8) {
            __m128i vh = _mm256_cvtps_ph(_mm256_loadu_ps(value + d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm_storeu_si128((__m128i *)(blockValues + (size_t)(slot + i) * headDim + d), vh);
            uint16_t lanes[8];
            _mm_storeu_si128((__m128i *)lanes, _mm256_cvtps_ph(_mm256_loadu_ps(key + d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            for (int j = 0; j < 8; j++) blockKeys[(size_t)(d + j) * T + slot + i] = lanes[j];
        }
    }
}
#endif

void ei_kv_store_f16(void *block, int headDim, int slot, int count,
                     const float *keys, size_t keyStride, const float *values, size_t valueStride) {
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX2 && headDim % 8 == 0 && ei_active_isa() < EI_ISA_AVX512) {
        store_f16_f16c((uint16_t *)block, headDim, slot, count, keys, keyStride, values, valueStride);
        return;
    }
    if (ei_active_isa() >= EI_ISA_AVX512) {
        store_f16_avx512((uint16_t *)block, headDim, slot, count, keys, keyStride, values, valueStride);
        return;
    }
#endif
    store_f16_portable((uint16_t *)block, headDim, slot, count, keys, keyStride, values, valueStride);
}

void ei_kv_store_f32(void *block, int headDim, int slot, int count,
                     const float *keys, size_t keyStride, const float *values, size_t valueStride) {
    float *blockKeys = (float *)block;
    float *blockValues = blockKeys + (size_t)headDim * T;
    for (int i = 0; i < count; i++) {
        const float *key = keys + (size_t)i * keyStride;
        for (int d = 0; d < headDim; d++) blockKeys[(size_t)d * T + slot + i] = key[d];
        memcpy(blockValues + (size_t)(slot + i) * headDim, values + (size_t)i * valueStride, sizeof(float) * (size_t)headDim);
    }
}

void ei_kv_summarize(const void *block, int headDim, int isF16, int first, int count, uint16_t *summary) {
    for (int d = 0; d < headDim; d++) {
        float low = INFINITY, high = -INFINITY;
        for (int t = first; t < first + count; t++) {
            float key = isF16 ? ei_f16_to_f32(((const uint16_t *)block)[(size_t)d * T + t])
                              : ((const float *)block)[(size_t)d * T + t];
            low = key < low ? key : low;
            high = key > high ? key : high;
        }
        summary[d] = ei_f32_to_f16(low);
        summary[headDim + d] = ei_f32_to_f16(high);
    }
}
