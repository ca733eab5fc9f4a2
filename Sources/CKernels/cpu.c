#include "CKernels.h"
#include <string.h>
#include <stdio.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static int xgetbv_ok(unsigned mask) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (eax & mask) == mask;
}

typedef struct { int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16, avx512fp16, avxvnni; } cpu_flags;

static cpu_flags detect(void) {
    cpu_flags f; memset(&f, 0, sizeof f);
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    int avx = (c >> 28) & 1;
    if (!osxsave || !avx || !xgetbv_ok(0x6)) { f.fma = f.f16c = 0; return f; }
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    int zmm_ok = xgetbv_ok(0xE6);
    if (zmm_ok) {
        f.avx512f = (b >> 16) & 1;
        f.avx512dq = (b >> 17) & 1;
        f.avx512bw = (b >> 30) & 1;
        f.avx512vl = (b >> 31) & 1;
        f.avx512vnni = (c >> 11) & 1;
        f.avx512fp16 = (d >> 23) & 1;
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        f.avx512bf16 = (a1 >> 5) & 1;
        f.avxvnni = (a1 >> 4) & 1;
    }
    return f;
}

ei_isa ei_cpu_best_isa(void) {
    cpu_flags f = detect();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni && f.avx2 && f.fma && f.f16c) return EI_ISA_AVX512;
    if (f.avx2 && f.fma && f.f16c) return EI_ISA_AVX2;
    return EI_ISA_PORTABLE;
}

const char *ei_cpu_features(void) {
    static char text[256];
    cpu_flags f = detect();
    text[0] = 0;
#define ADD(flag, name) if (f.flag) { strcat(text, text[0] ? " " name : name); }
    ADD(avx2, "avx2") ADD(fma, "fma") ADD(f16c, "f16c") ADD(avx512f, "avx512f") ADD(avx512bw, "avx512bw")
    ADD(avx512vl, "avx512vl") ADD(avx512dq, "avx512dq") ADD(avx512vnni, "avx512vnni") ADD(avx512bf16, "avx512bf16")
    ADD(avx512fp16, "avx512fp16") ADD(avxvnni, "avxvnni")
#undef ADD
    return text;
}
#else
ei_isa ei_cpu_best_isa(void) { return EI_ISA_PORTABLE; }
const char *ei_cpu_features(void) { return ""; }
#endif

/// The CPU's best level, computed once (relaxed atomics: every thread computes the same value).
static _Atomic int best_isa_cache = -1;
/// This thread's override (-1: none). Thread-scoped so that a test lowering the level never
/// changes what kernels on other threads compute; ThreadPool hands a job's override to its workers.
static _Thread_local int thread_isa_override = -1;

static ei_isa best_isa_cached(void) {
    int best = atomic_load_explicit(&best_isa_cache, memory_order_relaxed);
    if (best < 0) {
        best = (int)ei_cpu_best_isa();
        atomic_store_explicit(&best_isa_cache, best, memory_order_relaxed);
    }
    return (ei_isa)best;
}

ei_isa ei_active_isa(void) {
    int override = thread_isa_override;
    return override >= 0 ? (ei_isa)override : best_isa_cached();
}

void ei_set_active_isa(ei_isa isa) {
    ei_isa best = best_isa_cached();
    thread_isa_override = (int)(isa > best ? best : isa);
}

int ei_thread_isa_override(void) { return thread_isa_override; }

void ei_set_thread_isa_override(int isa) {
    if (isa < 0) { thread_isa_override = -1; return; }
    ei_set_active_isa((ei_isa)isa);
}
