// Private to CKernels: GGUF block structs, the packed weight layout, scalar f16 helpers and the
// target attributes of the ISA-specific code.
//
// Packed weights (see ei_pack_weight_groups): output rows are packed in groups of 16 (EI_GROUP_ROWS).
// Within a group, a "lane vector" is 64 bytes: 4 bytes for each of the 16 rows, lane n at bytes
// 4n..4n+3. A 512-bit register holds one lane vector; AVX2 takes it as two 256-bit halves (rows 0-7,
// rows 8-15). Every quant format is stored as *unsigned* values q (the format's offset is applied
// through the activation block sums), in runs of 32 elements:
//
//   nibble run (4-bit low part), 4 lane vectors, 256 bytes:
//     vector c (0..3), lane n, byte j (0..3) = q[n][8c + j] & 15  |  (q[n][8c + 4 + j] & 15) << 4
//     so "unpacked vector" u = 2c + h (h = 0 low, 1 high nibbles) holds elements 4u..4u+3 of each row.
//   high-bit vector (Q5_0, Q5_1, Q5_K), 1 lane vector, 64 bytes:
//     lane n, byte j, bit u (0..7) = bit 4 of q[n][4u + j]
//   high-crumb vectors (Q6_K), 2 lane vectors, 128 bytes:
//     vector v (0, 1), lane n, byte j, bits 2k..2k+1 = bits 4..5 of q[n][4u + j], u = 4v + k
//   Both extract with one 16-bit shift and a mask per unpacked vector (the shifts never carry a
//   wanted bit across a byte boundary).
//   byte run (Q8_0), 8 lane vectors, 512 bytes: vector u, lane n, byte j = q[n][4u + j] (= int8 + 128)
//
// Activation elements 4u..4u+3 of a run are one 32-bit word, broadcast against unpacked vector u.
#ifndef ENTROPYINFER_QUANT_LAYOUT_H
#define ENTROPYINFER_QUANT_LAYOUT_H
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "ei_quant.h"

#pragma clang fp contract(off)

#if defined(EI_EMULATE_AVX512)   // see simd_intrinsics.h: compiled with -mavx2 -mfma -mf16c, AVX-512 from SIMDe
#define EI_TARGET_AVX2
#define EI_TARGET_AVX512
#else
#define EI_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define EI_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#endif
#define EI_INLINE static inline __attribute__((always_inline))

// ggml type ids (GGMLType raw values).
enum {
    EI_TYPE_F32 = 0, EI_TYPE_F16 = 1, EI_TYPE_Q4_0 = 2, EI_TYPE_Q4_1 = 3, EI_TYPE_Q5_0 = 6, EI_TYPE_Q5_1 = 7,
    EI_TYPE_Q8_0 = 8, EI_TYPE_Q4_K = 12, EI_TYPE_Q5_K = 13, EI_TYPE_Q6_K = 14, EI_TYPE_BF16 = 30,
};

// GGUF blocks (ggml-common.h). f16 fields are raw IEEE half bits.
typedef struct { uint16_t d; uint8_t qs[16]; } ei_block_q4_0;                        // 32 elements
typedef struct { uint16_t d, m; uint8_t qs[16]; } ei_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } ei_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } ei_block_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } ei_block_q8_0;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } ei_block_q4_K;              // 256
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } ei_block_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } ei_block_q6_K;
_Static_assert(sizeof(ei_block_q4_0) == 18 && sizeof(ei_block_q4_1) == 20 && sizeof(ei_block_q5_0) == 22 &&
               sizeof(ei_block_q5_1) == 24 && sizeof(ei_block_q8_0) == 34, "32-block sizes");
_Static_assert(sizeof(ei_block_q4_K) == 144 && sizeof(ei_block_q5_K) == 176 && sizeof(ei_block_q6_K) == 210,
               "K-block sizes");

typedef enum { EI_FAMILY_NONE = 0, EI_FAMILY_Q32, EI_FAMILY_K, EI_FAMILY_FLOAT } ei_family;

// The packed layout of one weight type at one column count.
//
// 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), B = K / 32 blocks; one group is
//   tiles  [B][tile_bytes]   nibble run (+ high-bit vector for Q5) or byte run (Q8_0)
//   d      [B][16] f16       at scale_offset;  m [B][16] f16 right after for Q4_1/Q5_1
// K-quants, S = K / 256 superblocks; one group is tiles [S][tile_bytes], each tile
//   Q4_K: nibble runs 8 × 256 | scales u8 [8][16] | mins int16 [4][16][2] | d f16 [16] | dmin f16 [16]
//   Q5_K: nibble runs | high-bit vectors [8] | scales | mins | d | dmin
//   Q6_K: nibble runs | high-crumb vectors [8][2] | scales int8 [16][16] | d f16 [16] | pad
//   (mins pairs: vector p, lane n holds m[2p], m[2p + 1] as int16, for vpdpwssd against Σq pairs)
// Float types: one group is [K][16] values (f32, f16 or bf16), lane n = row n.
typedef struct {
    uint32_t type;        // ggml type id
    ei_family family;
    int bits;             // stored quant bits: 4, 5, 6, 8
    int has_min;          // Q4_1, Q5_1
    int offset;           // subtracted from stored q: Q4_0 8, Q5_0 16, Q8_0 128, Q6_K 32, else 0
    size_t block_elements;
    size_t block_count;   // blocks (or superblocks) per row
    size_t tile_bytes;
    size_t scale_offset;  // Q32: d region within a group
    size_t group_bytes;   // a multiple of 64
    // K-quant tile offsets
    size_t planes_offset, scales_offset, mins_offset, d_offset, dmin_offset;
} ei_layout;

// Fills `layout` for `type` at K = column_count; returns 0 if unsupported or K is not a block multiple.
int ei_layout_for(uint32_t type, size_t column_count, ei_layout *layout);

EI_INLINE size_t ei_round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// IEEE half <-> float, exact (the hardware conversions give the same bits).
EI_INLINE float ei_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 5.9604644775390625e-8f;  // mantissa · 2^-24, exact
        memcpy(&bits, &magnitude, 4);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x400000u : 0);  // NaN comes out quiet
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

EI_INLINE uint16_t ei_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, magnitude = x & 0x7FFFFFFF;
    if (magnitude > 0x7F800000u) return (uint16_t)(sign | 0x7E00 | ((magnitude >> 13) & 0x3FF));  // NaN
    if (magnitude >= 0x47800000u) return (uint16_t)(sign | 0x7C00);                                 // ≥ 65536: inf
    if (magnitude < 0x38800000u) {                                  // below 2^-14: subnormal half or zero
        float scaled;
        memcpy(&scaled, &magnitude, 4);
        return (uint16_t)(sign | (uint32_t)lrintf(scaled * 16777216.0f));   // round(|f| · 2^24), ties to even
    }
    magnitude += 0xC8000FFFu + ((magnitude >> 13) & 1);             // rebias 127 -> 15, round to nearest even
    return (uint16_t)(sign | (magnitude >> 13));                    // a carry into exponent 31 gives inf
}

EI_INLINE float ei_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

EI_INLINE int32_t ei_load_i32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }
EI_INLINE uint64_t ei_load_u64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
EI_INLINE uint16_t ei_load_u16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }

// Q4_K / Q5_K 6-bit scale and min of sub-block j (ggml get_scale_min_k4).
EI_INLINE void ei_k4_scale_min(int j, const uint8_t *scales, uint8_t *scale, uint8_t *min) {
    if (j < 4) {
        *scale = scales[j] & 63;
        *min = scales[j + 4] & 63;
    } else {
        *scale = (uint8_t)((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
        *min = (uint8_t)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

// A job for the matmul kernels of one family: which groups, which activation rows.
typedef struct {
    ei_layout layout;
    ei_activation_layout activation;
    const uint8_t *packed;
    const uint8_t *activations;  // quantized rows (Q32, K families)
    const float *input;          // fp32 rows (float family)
    size_t row_count;            // N: outputs per input row (output row stride)
    size_t column_count;         // K
    float *output;
    int activation_terms;        // 2, or 1 when the residuals q2 are all zero (kernels may skip them)
} ei_matmul_job;

// Output rows of group g that exist (the last group may be partial).
EI_INLINE int ei_group_lanes(const ei_matmul_job *job, size_t group) {
    size_t first = group * EI_GROUP_ROWS;
    return job->row_count - first >= EI_GROUP_ROWS ? EI_GROUP_ROWS : (int)(job->row_count - first);
}

// Activation rows per cache block: the quantized rows the kernels sweep for each weight group.
EI_INLINE size_t ei_activation_row_block(const ei_matmul_job *job) {
    size_t bytes = job->activation.row_bytes ? job->activation.row_bytes : job->column_count * 4;
    size_t rows = (192 * 1024) / bytes;
    return rows < 8 ? 8 : rows;
}

// `requested` lowered to what this CPU supports (CPUID asked once).
ei_isa ei_usable_isa(ei_isa requested);

// Family kernels (matmul_q32.c, matmul_kquants.c, matmul_float.c), one per ISA.
void ei_matmul_q32_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_q32_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_q32_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_kquants_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_kquants_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_kquants_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_float_portable(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_float_avx2(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);
void ei_matmul_float_avx512(const ei_matmul_job *job, size_t rows, size_t group_begin, size_t group_end);

#endif
