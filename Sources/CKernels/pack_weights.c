// GGUF weight rows -> the packed group layout of quant_layout.h (done once, at load).
//
// Each row is first decoded into unsigned quants q[K] plus its block scales, in natural element
// order; the group writers then lay 16 such rows out as lane vectors.
#include <stdlib.h>
#include "quant_layout.h"

int ei_layout_for(uint32_t type, size_t column_count, ei_layout *layout) {
    memset(layout, 0, sizeof *layout);
    switch (type) {
    case EI_TYPE_Q4_0: *layout = (ei_layout){ .family = EI_FAMILY_Q32, .bits = 4, .offset = 8, .tile_bytes = 256 }; break;
    case EI_TYPE_Q4_1: *layout = (ei_layout){ .family = EI_FAMILY_Q32, .bits = 4, .has_min = 1, .tile_bytes = 256 }; break;
    case EI_TYPE_Q5_0: *layout = (ei_layout){ .family = EI_FAMILY_Q32, .bits = 5, .offset = 16, .tile_bytes = 320 }; break;
    case EI_TYPE_Q5_1: *layout = (ei_layout){ .family = EI_FAMILY_Q32, .bits = 5, .has_min = 1, .tile_bytes = 320 }; break;
    case EI_TYPE_Q8_0: *layout = (ei_layout){ .family = EI_FAMILY_Q32, .bits = 8, .offset = 128, .tile_bytes = 512 }; break;
    case EI_TYPE_Q4_K:
        *layout = (ei_layout){ .family = EI_FAMILY_K, .bits = 4, .tile_bytes = 2496, .scales_offset = 2048,
                               .mins_offset = 2176, .d_offset = 2432, .dmin_offset = 2464 };
        break;
    case EI_TYPE_Q5_K:
        *layout = (ei_layout){ .family = EI_FAMILY_K, .bits = 5, .tile_bytes = 3008, .planes_offset = 2048,
                               .scales_offset = 2560, .mins_offset = 2688, .d_offset = 2944, .dmin_offset = 2976 };
        break;
    case EI_TYPE_Q6_K:
        *layout = (ei_layout){ .family = EI_FAMILY_K, .bits = 6, .offset = 32, .tile_bytes = 3392,
                               .planes_offset = 2048, .scales_offset = 3072, .d_offset = 3328 };
        break;
    case EI_TYPE_F32: *layout = (ei_layout){ .family = EI_FAMILY_FLOAT, .bits = 32, .tile_bytes = 64 }; break;
    case EI_TYPE_F16: *layout = (ei_layout){ .family = EI_FAMILY_FLOAT, .bits = 16, .tile_bytes = 32 }; break;
    case EI_TYPE_BF16: *layout = (ei_layout){ .family = EI_FAMILY_FLOAT, .bits = 16, .tile_bytes = 32 }; break;
    default: return 0;
    }
    layout->type = type;
    layout->block_elements = layout->family == EI_FAMILY_Q32 ? 32 : layout->family == EI_FAMILY_K ? 256 : 1;
    if (column_count == 0 || column_count % layout->block_elements) return 0;
    layout->block_count = column_count / layout->block_elements;
    size_t tiles = layout->block_count * layout->tile_bytes;
    if (layout->family == EI_FAMILY_Q32) {
        layout->scale_offset = tiles;
        layout->group_bytes = tiles + ei_round_up(layout->block_count * 32 * (layout->has_min ? 2 : 1), 64);
    } else {
        layout->group_bytes = ei_round_up(tiles, 64);
    }
    return 1;
}

size_t ei_packed_weight_bytes(uint32_t type, size_t row_count, size_t column_count) {
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout) || row_count == 0) return 0;
    return (row_count + EI_GROUP_ROWS - 1) / EI_GROUP_ROWS * layout.group_bytes;
}

// ---- decoding one GGUF row into unsigned quants (natural order) and block parameters ----

// A decoded row: q[K] unsigned quants; per 32-block d/m (f16 bits); per superblock d/dmin and
// per sub-block scales/mins.
typedef struct {
    uint8_t *q;
    uint16_t *d, *m;          // [blocks]
    int16_t *scales, *mins;   // [blocks * 16] (8 used by Q4_K/Q5_K, 16 by Q6_K)
} decoded_row;

static void decode_row(uint32_t type, const uint8_t *row, size_t block_count, decoded_row *out) {
    for (size_t b = 0; b < block_count; b++) {
        switch (type) {
        case EI_TYPE_Q4_0: case EI_TYPE_Q4_1: {
            const uint8_t *qs = type == EI_TYPE_Q4_0 ? ((const ei_block_q4_0 *)row)[b].qs : ((const ei_block_q4_1 *)row)[b].qs;
            if (type == EI_TYPE_Q4_0) {
                out->d[b] = ((const ei_block_q4_0 *)row)[b].d;
            } else {
                out->d[b] = ((const ei_block_q4_1 *)row)[b].d;
                out->m[b] = ((const ei_block_q4_1 *)row)[b].m;
            }
            for (int j = 0; j < 16; j++) {
                out->q[32 * b + j] = qs[j] & 0xF;
                out->q[32 * b + j + 16] = qs[j] >> 4;
            }
            break;
        }
        case EI_TYPE_Q5_0: case EI_TYPE_Q5_1: {
            const uint8_t *qs, *qh;
            if (type == EI_TYPE_Q5_0) {
                const ei_block_q5_0 *block = (const ei_block_q5_0 *)row + b;
                qs = block->qs; qh = block->qh; out->d[b] = block->d;
            } else {
                const ei_block_q5_1 *block = (const ei_block_q5_1 *)row + b;
                qs = block->qs; qh = block->qh; out->d[b] = block->d; out->m[b] = block->m;
            }
            uint32_t high;
            memcpy(&high, qh, 4);
            for (int j = 0; j < 16; j++) {
                out->q[32 * b + j] = (uint8_t)((qs[j] & 0xF) | (((high >> j) & 1) << 4));
                out->q[32 * b + j + 16] = (uint8_t)((qs[j] >> 4) | (((high >> (j + 16)) & 1) << 4));
            }
            break;
        }
        case EI_TYPE_Q8_0: {
            const ei_block_q8_0 *block = (const ei_block_q8_0 *)row + b;
            out->d[b] = block->d;
            for (int j = 0; j < 32; j++) out->q[32 * b + j] = (uint8_t)(block->qs[j] + 128);
            break;
        }
        case EI_TYPE_Q4_K: case EI_TYPE_Q5_K: {
            const uint8_t *scales, *qs, *qh = NULL;
            if (type == EI_TYPE_Q4_K) {
                const ei_block_q4_K *block = (const ei_block_q4_K *)row + b;
                scales = block->scales; qs = block->qs; out->d[b] = block->d; out->m[b] = block->dmin;
            } else {
                const ei_block_q5_K *block = (const ei_block_q5_K *)row + b;
                scales = block->scales; qs = block->qs; qh = block->qh; out->d[b] = block->d; out->m[b] = block->dmin;
            }
            uint8_t *q = out->q + 256 * b;
            for (int j = 0; j < 8; j++) {
                uint8_t scale, min;
                ei_k4_scale_min(j, scales, &scale, &min);
                out->scales[16 * b + j] = scale;
                out->mins[16 * b + j] = min;
            }
            // Sub-blocks 2i and 2i+1 are the low and high nibbles of qs[32i .. 32i+31].
            for (int i = 0; i < 4; i++) {
                for (int l = 0; l < 32; l++) {
                    uint8_t low = qs[32 * i + l] & 0xF, high = qs[32 * i + l] >> 4;
                    if (qh) {
                        low |= (uint8_t)(((qh[l] >> (2 * i)) & 1) << 4);
                        high |= (uint8_t)(((qh[l] >> (2 * i + 1)) & 1) << 4);
                    }
                    q[64 * i + l] = low;
                    q[64 * i + 32 + l] = high;
                }
            }
            break;
        }
        case EI_TYPE_Q6_K: {
            const ei_block_q6_K *block = (const ei_block_q6_K *)row + b;
            out->d[b] = block->d;
            for (int j = 0; j < 16; j++) out->scales[16 * b + j] = block->scales[j];
            uint8_t *q = out->q + 256 * b;
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = block->ql + 64 * half, *qh = block->qh + 32 * half;
                for (int l = 0; l < 32; l++) {
                    q[128 * half + l] = (uint8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                    q[128 * half + l + 32] = (uint8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                    q[128 * half + l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                    q[128 * half + l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                }
            }
            break;
        }
        }
    }
}

// ---- writing lane vectors ----

// A nibble run of 32 elements starting at `first` for 16 decoded rows: 4 lane vectors.
static void write_nibble_run(uint8_t *dst, uint8_t *const q[EI_GROUP_ROWS], size_t first) {
    for (int c = 0; c < 4; c++)
        for (int n = 0; n < EI_GROUP_ROWS; n++)
            for (int j = 0; j < 4; j++)
                dst[64 * c + 4 * n + j] = (uint8_t)((q[n][first + 8 * c + j] & 0xF) | ((q[n][first + 8 * c + 4 + j] & 0xF) << 4));
}

// Bit 4 of a 32-element run as a high-bit vector: lane n, byte j, bit u = bit 4 of q[n][first + 4u + j].
static void write_high_bits(uint8_t *dst, uint8_t *const q[EI_GROUP_ROWS], size_t first) {
    for (int n = 0; n < EI_GROUP_ROWS; n++)
        for (int j = 0; j < 4; j++) {
            uint8_t byte = 0;
            for (int u = 0; u < 8; u++) byte |= (uint8_t)(((q[n][first + 4 * u + j] >> 4) & 1) << u);
            dst[4 * n + j] = byte;
        }
}

// Bits 4-5 of a 32-element run as two high-crumb vectors: vector v, lane n, byte j, bits 2k..2k+1
// = bits 4..5 of q[n][first + 4(4v + k) + j].
static void write_high_crumbs(uint8_t *dst, uint8_t *const q[EI_GROUP_ROWS], size_t first) {
    for (int v = 0; v < 2; v++)
        for (int n = 0; n < EI_GROUP_ROWS; n++)
            for (int j = 0; j < 4; j++) {
                uint8_t byte = 0;
                for (int k = 0; k < 4; k++) byte |= (uint8_t)(((q[n][first + 4 * (4 * v + k) + j] >> 4) & 3) << (2 * k));
                dst[64 * v + 4 * n + j] = byte;
            }
}

static void pack_group(uint32_t type, const ei_layout *layout, const uint8_t *gguf_rows, size_t row_bytes,
                       size_t row_count, size_t column_count, uint8_t *group, size_t first_row,
                       decoded_row rows[EI_GROUP_ROWS]) {
    size_t blocks = layout->block_count;
    uint8_t *q[EI_GROUP_ROWS];
    for (int n = 0; n < EI_GROUP_ROWS; n++) {
        size_t r = first_row + (size_t)n;
        q[n] = rows[n].q;
        if (r < row_count) {
            decode_row(type, gguf_rows + r * row_bytes, blocks, &rows[n]);
        } else {  // padding row: all zero scales, so it contributes nothing
            memset(rows[n].q, 0, column_count);
            memset(rows[n].d, 0, blocks * 2);
            memset(rows[n].m, 0, blocks * 2);
            memset(rows[n].scales, 0, blocks * 32);
            memset(rows[n].mins, 0, blocks * 32);
        }
    }
    memset(group, 0, layout->group_bytes);
    if (layout->family == EI_FAMILY_Q32) {
        uint16_t *d = (uint16_t *)(group + layout->scale_offset), *m = d + 16 * blocks;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *tile = group + b * layout->tile_bytes;
            if (layout->bits == 8) {
                for (int u = 0; u < 8; u++)
                    for (int n = 0; n < EI_GROUP_ROWS; n++)
                        memcpy(tile + 64 * u + 4 * n, q[n] + 32 * b + 4 * u, 4);
            } else {
                write_nibble_run(tile, q, 32 * b);
                if (layout->bits == 5) write_high_bits(tile + 256, q, 32 * b);
            }
            for (int n = 0; n < EI_GROUP_ROWS; n++) {
                d[16 * b + n] = rows[n].d[b];
                if (layout->has_min) m[16 * b + n] = rows[n].m[b];
            }
        }
        return;
    }
    for (size_t s = 0; s < blocks; s++) {  // K-quants: superblocks
        uint8_t *tile = group + s * layout->tile_bytes;
        for (int r = 0; r < 8; r++) {
            write_nibble_run(tile + 256 * r, q, 256 * s + 32 * r);
            if (layout->bits == 5) write_high_bits(tile + layout->planes_offset + 64 * r, q, 256 * s + 32 * r);
            if (layout->bits == 6) write_high_crumbs(tile + layout->planes_offset + 128 * r, q, 256 * s + 32 * r);
        }
        uint16_t *d = (uint16_t *)(tile + layout->d_offset);
        for (int n = 0; n < EI_GROUP_ROWS; n++) {
            d[n] = rows[n].d[s];
            if (layout->bits == 6) {
                for (int j = 0; j < 16; j++) ((int8_t *)(tile + layout->scales_offset))[16 * j + n] = (int8_t)rows[n].scales[16 * s + j];
            } else {
                ((uint16_t *)(tile + layout->dmin_offset))[n] = rows[n].m[s];
                for (int j = 0; j < 8; j++) tile[layout->scales_offset + 16 * j + n] = (uint8_t)rows[n].scales[16 * s + j];
                int16_t *mins = (int16_t *)(tile + layout->mins_offset);
                for (int p = 0; p < 4; p++) {
                    mins[32 * p + 2 * n] = rows[n].mins[16 * s + 2 * p];
                    mins[32 * p + 2 * n + 1] = rows[n].mins[16 * s + 2 * p + 1];
                }
            }
        }
    }
}

static void pack_float_group(uint32_t type, const uint8_t *gguf_rows, size_t row_count, size_t column_count,
                             uint8_t *group, size_t first_row) {
    size_t element = type == EI_TYPE_F32 ? 4 : 2;
    memset(group, 0, ei_round_up(column_count * 16 * element, 64));
    for (int n = 0; n < EI_GROUP_ROWS && first_row + (size_t)n < row_count; n++) {
        const uint8_t *row = gguf_rows + (first_row + (size_t)n) * column_count * element;
        for (size_t k = 0; k < column_count; k++) memcpy(group + (16 * k + (size_t)n) * element, row + k * element, element);
    }
}

int ei_pack_weight_groups(uint32_t type, const void *gguf_rows, size_t row_count, size_t column_count,
                          void *packed, size_t group_begin, size_t group_end) {
    ei_layout layout;
    if (!ei_layout_for(type, column_count, &layout)) return 0;
    uint8_t *out = (uint8_t *)packed;
    if (layout.family == EI_FAMILY_FLOAT) {
        for (size_t g = group_begin; g < group_end; g++)
            pack_float_group(type, gguf_rows, row_count, column_count, out + g * layout.group_bytes, g * EI_GROUP_ROWS);
        return 1;
    }
    size_t gguf_block_bytes = type == EI_TYPE_Q4_0 ? 18 : type == EI_TYPE_Q4_1 ? 20 : type == EI_TYPE_Q5_0 ? 22
        : type == EI_TYPE_Q5_1 ? 24 : type == EI_TYPE_Q8_0 ? 34 : type == EI_TYPE_Q4_K ? 144 : type == EI_TYPE_Q5_K ? 176 : 210;
    size_t blocks = layout.block_count;
    // Scratch for 16 decoded rows: q[K] + d, m [blocks] + scales, mins [blocks * 16].
    size_t per_row = ei_round_up(column_count, 64) + 4 * blocks + 64 * blocks;
    uint8_t *scratch = malloc(per_row * EI_GROUP_ROWS);
    if (!scratch) return 0;
    decoded_row rows[EI_GROUP_ROWS];
    for (int n = 0; n < EI_GROUP_ROWS; n++) {
        uint8_t *base = scratch + per_row * (size_t)n;
        rows[n].q = base;
        rows[n].d = (uint16_t *)(base + ei_round_up(column_count, 64));
        rows[n].m = rows[n].d + blocks;
        rows[n].scales = (int16_t *)(rows[n].m + blocks);
        rows[n].mins = rows[n].scales + 16 * blocks;
    }
    for (size_t g = group_begin; g < group_end; g++)
        pack_group(type, &layout, gguf_rows, blocks * gguf_block_bytes, row_count, column_count,
                   out + g * layout.group_bytes, g * EI_GROUP_ROWS, rows);
    free(scratch);
    return 1;
}
