// Streaming read of a buffer, for measuring the machine's memory bandwidth (bench).
#include "CKernels.h"
#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static float read_avx2(const float *data, size_t count) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps(), d = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(data + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(data + i + 8));
        c = _mm256_add_ps(c, _mm256_loadu_ps(data + i + 16));
        d = _mm256_add_ps(d, _mm256_loadu_ps(data + i + 24));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    float sum = 0;
    for (int j = 0; j < 8; j++) sum += lanes[j];
    for (; i < count; i++) sum += data[i];
    return sum;
}
#endif

float ei_stream_read(const float *data, size_t count) {
#if defined(__x86_64__)
    if (ei_active_isa() >= EI_ISA_AVX2) return read_avx2(data, count);
#endif
    float sums[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= count; i += 4)
        for (int j = 0; j < 4; j++) sums[j] += data[i + j];
    for (; i < count; i++) sums[0] += data[i];
    return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}
