#ifndef ENTROPYINFER_CKERNELS_H
#define ENTROPYINFER_CKERNELS_H
// SIMD microkernels Swift cannot express. Each function has a portable C body and, where it
// pays, AVX2 / AVX-512 variants compiled with per-function target attributes; the variant is
// chosen at run time from CPUID (ei_cpu_*). Every kernel has a plain Swift reference and a
// test comparing them (Tests/KernelsTests).
#include <stdint.h>
#include <stddef.h>
#include "ei_attention.h"

/// Instruction-set levels a kernel may use.
typedef enum {
    EI_ISA_PORTABLE = 0,   ///< plain C, baseline x86-64 (or any other CPU)
    EI_ISA_AVX2 = 1,       ///< AVX2 + FMA + F16C
    EI_ISA_AVX512 = 2,     ///< AVX-512 F/BW/VL/DQ + VNNI
} ei_isa;

/// The best level this CPU and OS support (CPUID + XGETBV).
ei_isa ei_cpu_best_isa(void);
/// The level kernels on this thread use now: ei_cpu_best_isa() unless this thread lowered it.
ei_isa ei_active_isa(void);
/// Lowers (or restores) the level for the calling thread only, and for the ThreadPool jobs it
/// submits; other threads are unaffected (tests run in parallel). For tests and benchmarks.
void ei_set_active_isa(ei_isa isa);
/// This thread's override as an int (-1: none), and setting it back (-1 clears it); ThreadPool
/// carries a submitter's override to the workers of each job.
int ei_thread_isa_override(void);
void ei_set_thread_isa_override(int isa);
/// Human-readable CPU feature list, e.g. "avx2 fma f16c avx512f avx512bw avx512vnni".
const char *ei_cpu_features(void);

/// Sums `count` floats, touching every byte once (memory-bandwidth measurement).
float ei_stream_read(const float *data, size_t count);

/// A spin-wait hint (x86 `pause`), for the thread pool's short waits.
static inline void ei_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#include "ei_quant.h"

#endif
