// Entry point of the matrix kernels: picks the family kernel for the weight type and the
// instruction-set level (never above what this CPU supports).
#include "quant_layout.h"

void ei_matmul_groups(ei_isa isa, uint32_t type, const void *packed, size_t row_count, size_t column_count,
                      const void *activations, const float *input, size_t input_row_count, float *output,
                      size_t group_begin, size_t group_end, int activation_terms) {
    ei_matmul_job job;
    if (!ei_layout_for(type, column_count, &job.layout) || input_row_count == 0) return;
    size_t group_count = (row_count + EI_GROUP_ROWS - 1) / EI_GROUP_ROWS;
    if (group_end > group_count) group_end = group_count;
    if (group_begin >= group_end) return;
    job.activation = ei_activation_layout_for(type, column_count);
    job.packed = (const uint8_t *)packed;
    job.activations = (const uint8_t *)activations;
    job.input = input;
    job.row_count = row_count;
    job.column_count = column_count;
    job.output = output;
    job.activation_terms = activation_terms == 1 ? 1 : 2;
    isa = ei_usable_isa(isa);
    switch (job.layout.family) {
    case EI_FAMILY_Q32:
        if (isa == EI_ISA_AVX512) ei_matmul_q32_avx512(&job, input_row_count, group_begin, group_end);
        else if (isa == EI_ISA_AVX2) ei_matmul_q32_avx2(&job, input_row_count, group_begin, group_end);
        else ei_matmul_q32_portable(&job, input_row_count, group_begin, group_end);
        break;
    case EI_FAMILY_K:
        if (isa == EI_ISA_AVX512) ei_matmul_kquants_avx512(&job, input_row_count, group_begin, group_end);
        else if (isa == EI_ISA_AVX2) ei_matmul_kquants_avx2(&job, input_row_count, group_begin, group_end);
        else ei_matmul_kquants_portable(&job, input_row_count, group_begin, group_end);
        break;
    case EI_FAMILY_FLOAT:
        if (isa == EI_ISA_AVX512) ei_matmul_float_avx512(&job, input_row_count, group_begin, group_end);
        else if (isa == EI_ISA_AVX2) ei_matmul_float_avx2(&job, input_row_count, group_begin, group_end);
        else ei_matmul_float_portable(&job, input_row_count, group_begin, group_end);
        break;
    default:
        break;
    }
}

// ei_cpu_best_isa() runs CPUID, which traps to the hypervisor in a VM: ask once.
ei_isa ei_usable_isa(ei_isa requested) {
#if defined(EI_EMULATE_AVX512)
    return requested;
#endif
    static int best = -1;
    int known = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (known < 0) {
        known = (int)ei_cpu_best_isa();
        __atomic_store_n(&best, known, __ATOMIC_RELAXED);
    }
    return (int)requested > known ? (ei_isa)known : requested;
}
