#ifndef ENTROPYINFER_EI_QUANT_H
#define ENTROPYINFER_EI_QUANT_H
// Quantized matrix multiplication: weights packed once at load, activations quantized per call,
// integer dot products per block. Types are ggml type ids (GGMLType.rawValue).
//
// Numerics are fixed by the format, not by the instruction set: every ISA path computes each output
// element with the same integer sums and the same float operations in the same order, so portable,
// AVX2 and AVX-512 give bit-identical results, and a row's result never depends on how many rows
// are multiplied with it (batch invariance). The exact operations are documented in
// Sources/Kernels/Quant/MatMulReference.swift, which computes them in plain Swift.
#include <stddef.h>
#include <stdint.h>
#include "CKernels.h"  // ei_isa (CKernels.h includes this header after defining it)

/// Output rows interleaved per packed group (one 32-bit lane of a 512-bit vector each).
#define EI_GROUP_ROWS 16

/// Activations are quantized in two 8-bit terms per block: x ≈ d · q1 + (d / 256) · q2, q1 the
/// usual 8-bit quant (d = max|x| / 127) and q2 its rounding residual (|error| ≤ d/512, d/256 where
/// q2 clamps at ±127). The pair is exact to about 16 bits (single 8-bit activations lose ~0.003 nats of KL per token on SmolLM2: outlier channels),
/// and both terms run through the same u8×s8 integer dot products. A block may keep the first
/// term only (q2 stored as zeros, its `terms` byte 1): the residual threshold of
/// ei_quantize_activation_rows decides per block, from the row alone.
///
/// Where the parts of one quantized activation row sit. A row is a sequence of blocks (32 elements
/// for Q4_0..Q8_0, 256 for K-quants), each holding its quants followed by its parameters, so a
/// kernel walks one pointer per row. The layout depends only on the family, so one quantized input
/// serves every weight type of that family:
///   32-blocks: [int8 q1[32] | int8 q2[32] | float d | int32 S = 256 Σq1 + Σq2 | float (d/256) · S
///               | uint8 terms | pad]                                                                  80 bytes
///   K-quants:  [int8 q1[256] | int8 q2[256] | float d | uint8 terms | pad | int16 Σq1 per 32 [8]
///               | Σq2 per 32 [8] | Σq1 per 16 [16] | Σq2 per 16 [16]]                                  624 bytes
/// `terms` is 2 when the block's q2 may be non-zero, 1 when q2 is all zeros (kernels may skip its
/// products: they are zero).
typedef struct {
    size_t row_bytes;     ///< stride between rows, a multiple of 64; 0 for float weight types
    size_t block_bytes;   ///< stride between blocks within a row
    size_t residual_offset; ///< int8 q2 within a block
    size_t scale_offset;  ///< float d within a block
    size_t sum_offset;    ///< 32-blocks: int32 S; K-quants: int16 Σq1 per 32 (Σq2 per 32 follows)
    size_t min_offset;    ///< 32-blocks: float (d/256) · S
    size_t sum16_offset;  ///< K-quants: int16 Σq1 per 16 (Σq2 per 16 follows)
    size_t terms_offset;  ///< uint8 terms of the block: 2, or 1 when its q2 are all zeros
} ei_activation_layout;

#define EI_Q32_ACTIVATION_BLOCK 80
#define EI_Q32_ACTIVATION_RESIDUAL 32
#define EI_Q32_ACTIVATION_SCALE 64
#define EI_Q32_ACTIVATION_SUM 68
#define EI_Q32_ACTIVATION_MIN 72
#define EI_Q32_ACTIVATION_TERMS 76
#define EI_K_ACTIVATION_BLOCK 624
#define EI_K_ACTIVATION_RESIDUAL 256
#define EI_K_ACTIVATION_SCALE 512
#define EI_K_ACTIVATION_TERMS 516
#define EI_K_ACTIVATION_SUM32 528
#define EI_K_ACTIVATION_SUM16 560

/// Bytes of the packed form of a (row_count, column_count) matrix of `ggml_type`, or 0 when the
/// type is unsupported or column_count is not a multiple of its block size.
size_t ei_packed_weight_bytes(uint32_t ggml_type, size_t row_count, size_t column_count);

/// Packs groups [group_begin, group_end) of EI_GROUP_ROWS rows from GGUF row-major blocks
/// (one quantized row of column_count elements per output) into `packed` (64-byte aligned,
/// ei_packed_weight_bytes long). Rows past row_count are zero. Groups are independent: callers may
/// pack ranges in parallel. Returns 0 on an unsupported type/shape or when out of memory.
int ei_pack_weight_groups(uint32_t ggml_type, const void *gguf_rows, size_t row_count, size_t column_count,
                           void *packed, size_t group_begin, size_t group_end);

/// The quantized activation layout multiplying `ggml_type` weights needs; row_bytes == 0 means
/// the kernel reads the fp32 input directly. Types of one family share a layout (and its rows).
ei_activation_layout ei_activation_layout_for(uint32_t ggml_type, size_t column_count);

/// Quantizes fp32 rows [row_begin, row_end) of `input` ((rows, column_count) fp32, row-major) into
/// `activations` ((rows, layout.row_bytes) bytes, 64-byte aligned) for `ggml_type` weights.
/// Block b of a row keeps its residual term (x ≈ d·q1 + d/256·q2, about 15 bits) when
///   amax_b² · block_count ≥ residual_threshold · Σ_b' amax_b'²      (amax: max |x| of a block)
/// (the sum in double, in block order), and x ≈ d·q1 (llama.cpp's Q8 activations) otherwise, with
/// its q2 stored as zeros so every kernel's arithmetic stays the same. residual_threshold 0: every
/// block two terms; INFINITY: none (one term everywhere); 1: blocks at or above the row's mean
/// energy, where rounding error costs the most. The choice depends on the row alone (batch
/// invariance).
void ei_quantize_activation_rows(ei_isa isa, uint32_t ggml_type, const float *input, size_t column_count,
                                 size_t row_begin, size_t row_end, void *activations, float residual_threshold);

/// output[m * row_count + n] = Σ_k input[m][k] · W[n][k] for m < input_row_count and n in the rows of
/// groups [group_begin, group_end). `activations` comes from ei_quantize_activation_rows with
/// `activation_terms` 1 when its threshold was INFINITY (no block has a residual), else 2 (ignored
/// for float types, which read `input`); the AVX2 kernels skip the products of zero residuals (all
/// blocks with 1, per block from its `terms` byte with 2), bit-identical to computing them. Groups are
/// independent: callers split them over threads.
void ei_matmul_groups(ei_isa isa, uint32_t ggml_type, const void *packed, size_t row_count, size_t column_count,
                      const void *activations, const float *input, size_t input_row_count, float *output,
                      size_t group_begin, size_t group_end, int activation_terms);

/// fp32 <-> IEEE half rows (round to nearest even; NaN stays NaN, quieted). F16C / AVX-512 paths
/// are bit-identical to the portable one.
void ei_f32_to_f16_row(const float *source, uint16_t *destination, size_t count);
void ei_f16_to_f32_row(const uint16_t *source, float *destination, size_t count);
/// The same with an explicit instruction-set level (tests compare the paths).
void ei_f32_to_f16_row_isa(ei_isa isa, const float *source, uint16_t *destination, size_t count);
void ei_f16_to_f32_row_isa(ei_isa isa, const uint16_t *source, float *destination, size_t count);

#endif
