#!/usr/bin/env bash
# Verifies the AVX-512 kernels on a CPU without AVX-512.
#
# Compiles Sources/CKernels with SIMDe's portable implementations of the AVX-512 intrinsics
# (Debian package libsimde-dev; -DEI_EMULATE_AVX512, see Sources/CKernels/simd_intrinsics.h) and
# compares every AVX-512 and AVX2 kernel with the portable path bit for bit: matrix kernels for all
# weight types and odd shapes, activation quantization, f16 conversions. The portable path itself
# is checked against the Swift references by the KernelsTests. On an AVX-512 CPU the tests run the
# real instructions; this script is for the machines that have none.
#
# Usage: scripts/check-avx512-emulated.sh        (exit status 0: all equal; 1: a difference; 2: cannot run)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kernels="$root/Sources/CKernels"
cc="${CC:-$(command -v clang || command -v cc || true)}"
if [[ -z "$cc" ]]; then echo "check-avx512-emulated: no C compiler (clang or cc)" >&2; exit 2; fi
if [[ ! -f /usr/include/simde/x86/avx512.h ]]; then
    echo "check-avx512-emulated: SIMDe headers missing; install libsimde-dev (scripts/install-system-deps.sh does)" >&2
    exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/check.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"

static unsigned long long state = 0x9E3779B97F4A7C15ULL;
static unsigned next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return (unsigned)(state >> 11); }
static float uniform(void) { return (float)(next() % 2000001) / 1000000.0f - 1.0f; }
static int failures = 0, checks = 0;
static void expect(int ok, const char *what) { checks++; if (!ok) { failures++; printf("DIFFERENT: %s\n", what); } }

typedef struct { unsigned type; const char *name; size_t block_elements, block_bytes; } type_info;
static const type_info types[] = {
    {2, "Q4_0", 32, 18}, {3, "Q4_1", 32, 20}, {6, "Q5_0", 32, 22}, {7, "Q5_1", 32, 24}, {8, "Q8_0", 32, 34},
    {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176}, {14, "Q6_K", 256, 210}, {0, "F32", 1, 4}, {1, "F16", 1, 2}, {30, "BF16", 1, 2},
};

static void set_half(unsigned char *p, float value) { uint16_t h; ei_f32_to_f16_row_isa(EI_ISA_PORTABLE, &value, &h, 1); memcpy(p, &h, 2); }

static unsigned char *random_rows(const type_info *t, size_t rows, size_t columns) {
    size_t bytes = rows * columns / t->block_elements * t->block_bytes;
    unsigned char *data = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) data[i] = (unsigned char)next();
    if (t->block_elements == 1) {
        for (size_t i = 0; i < rows * columns; i++) {
            float v = uniform();
            if (t->type == 0) memcpy(data + 4 * i, &v, 4);
            else if (t->type == 1) set_half(data + 2 * i, v);
            else { uint32_t bits; memcpy(&bits, &v, 4); uint16_t h = (uint16_t)(bits >> 16); memcpy(data + 2 * i, &h, 2); }
        }
        return data;
    }
    for (size_t b = 0; b < bytes; b += t->block_bytes) {
        float d = 0.001f + 0.05f * fabsf(uniform()), m = 0.3f * uniform();
        switch (t->type) {
        case 2: case 6: case 8: set_half(data + b, uniform() < 0 ? -d : d); break;
        case 3: case 7: set_half(data + b, d); set_half(data + b + 2, m); break;
        case 12: case 13: set_half(data + b, d / 5); set_half(data + b + 2, fabsf(m) / 30); break;
        case 14: set_half(data + b + 208, d / 5); break;
        }
    }
    return data;
}

static void check_matrix(const type_info *t, size_t rows, size_t columns) {
    unsigned char *weights = random_rows(t, rows, columns);
    size_t packed_bytes = ei_packed_weight_bytes(t->type, rows, columns);
    void *packed = aligned_alloc(64, (packed_bytes + 63) / 64 * 64);
    expect(packed_bytes > 0 && ei_pack_weight_groups(t->type, weights, rows, columns, packed, 0, (rows + 15) / 16), "pack");
    size_t max_inputs = 9;
    float *input = malloc(sizeof(float) * max_inputs * columns);
    for (size_t i = 0; i < max_inputs * columns; i++) input[i] = uniform() * (next() % 50 == 0 ? 30.0f : 1.0f);
    ei_activation_layout layout = ei_activation_layout_for(t->type, columns);
    size_t activation_bytes = layout.row_bytes ? layout.row_bytes * max_inputs : 64;
    unsigned char *reference_activations = aligned_alloc(64, activation_bytes), *activations = aligned_alloc(64, activation_bytes);
    float *reference = malloc(sizeof(float) * max_inputs * rows), *output = malloc(sizeof(float) * max_inputs * rows);
    const float thresholds[3] = {0.0f, 1.0f, INFINITY};   // high, balanced, int8
    for (int precision = 0; precision < 3; precision++)
    for (size_t inputs = 1; inputs <= max_inputs; inputs += (inputs < 5 ? 1 : 4)) {
        const float threshold = thresholds[precision];
        const int terms = precision == 2 ? 1 : 2;
        memset(reference_activations, 0, activation_bytes);
        ei_quantize_activation_rows(EI_ISA_PORTABLE, t->type, input, columns, 0, inputs, reference_activations, threshold);
        ei_matmul_groups(EI_ISA_PORTABLE, t->type, packed, rows, columns, reference_activations, input, inputs, reference, 0, (rows + 15) / 16, terms);
        for (int isa = EI_ISA_AVX2; isa <= EI_ISA_AVX512; isa++) {
            char what[160];
            memset(activations, 0, activation_bytes);
            ei_quantize_activation_rows((ei_isa)isa, t->type, input, columns, 0, inputs, activations, threshold);
            snprintf(what, sizeof what, "%s activations isa %d, threshold %g, %zu × %zu", t->name, isa, threshold, inputs, columns);
            expect(memcmp(activations, reference_activations, layout.row_bytes * inputs) == 0, what);
            for (size_t i = 0; i < inputs * rows; i++) output[i] = NAN;
            ei_matmul_groups((ei_isa)isa, t->type, packed, rows, columns, activations, input, inputs, output, 0, (rows + 15) / 16, terms);
            snprintf(what, sizeof what, "%s matmul isa %d, threshold %g, N=%zu K=%zu rows=%zu", t->name, isa, threshold, rows, columns, inputs);
            expect(memcmp(output, reference, sizeof(float) * inputs * rows) == 0, what);
        }
    }
    free(weights); free(packed); free(input); free(reference_activations); free(activations); free(reference); free(output);
}

static void check_half(void) {
    static float reference[65536], output[65536];
    static uint16_t halves[65536], reference_halves[70000], output_halves[70000];
    static float values[70000];
    for (int i = 0; i < 65536; i++) halves[i] = (uint16_t)i;
    ei_f16_to_f32_row_isa(EI_ISA_PORTABLE, halves, reference, 65536);
    for (int i = 0; i < 70000; i++) { uint32_t bits = (uint32_t)next() << 11 ^ next(); memcpy(&values[i], &bits, 4); if (i % 3 == 0) values[i] = uniform() * 70000.0f; if (i % 3 == 1) values[i] = uniform() * 1e-4f; }
    for (int isa = EI_ISA_AVX2; isa <= EI_ISA_AVX512; isa++) {
        ei_f16_to_f32_row_isa((ei_isa)isa, halves, output, 65535);   // odd count: vector tails
        ei_f16_to_f32_row_isa((ei_isa)isa, halves + 65535, output + 65535, 1);
        int same = 1;
        for (int i = 0; i < 65536; i++) if (memcmp(&output[i], &reference[i], 4) != 0 && !(isnan(output[i]) && isnan(reference[i]))) same = 0;
        expect(same, isa == EI_ISA_AVX2 ? "f16 -> f32 avx2" : "f16 -> f32 avx512");
        ei_f32_to_f16_row_isa(EI_ISA_PORTABLE, values, reference_halves, 69999);
        ei_f32_to_f16_row_isa((ei_isa)isa, values, output_halves, 69999);
        same = 1;
        for (int i = 0; i < 69999; i++) if (reference_halves[i] != output_halves[i] && !isnan(values[i])) same = 0;
        expect(same, isa == EI_ISA_AVX2 ? "f32 -> f16 avx2" : "f32 -> f16 avx512");
    }
}

int main(void) {
    check_half();
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        size_t block = types[t].block_elements == 1 ? 8 : types[t].block_elements;
        size_t shapes[][2] = { {1, block}, {19, 3 * block}, {33, block == 8 ? 5 : 2 * block}, {48, 4 * block} };
        for (size_t s = 0; s < 4; s++) check_matrix(&types[t], shapes[s][0], shapes[s][1]);
    }
    printf("avx512 (SIMDe-emulated) and avx2 vs portable: %d checks, %d differences\n", checks, failures);
    return failures ? 1 : 0;
}
EOF

files=()
for name in cpu pack_weights quantize_activations matmul matmul_q32 matmul_kquants matmul_float f16; do files+=("$kernels/$name.c"); done
if ! "$cc" -O1 -std=gnu11 -mavx2 -mfma -mf16c -fno-math-errno -DEI_EMULATE_AVX512 -I"$kernels/include" -I"$kernels" \
        "${files[@]}" "$work/check.c" -o "$work/check" -lm 2>"$work/build.log"; then
    cat "$work/build.log" >&2
    echo "check-avx512-emulated: build failed" >&2
    exit 1
fi
"$work/check"
