// IEEE binary16 <-> binary32 conversions in portable C (round to nearest even).
// After F. Giesen, "float->half variants" (public domain), re-derived here.
#include "ei_attention.h"
#include <string.h>

static inline uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t ei_f32_to_f16(float value) {
    const uint32_t f32_infinity = 255u << 23;
    const uint32_t f16_overflow = (127u + 16u) << 23;          // 65536: rounds to infinity
    const uint32_t denormal_magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    uint32_t x = bits_of(value);
    uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t out;
    if (x >= f16_overflow) {
        out = x > f32_infinity ? 0x7e00 : 0x7c00;               // NaN stays NaN, else infinity
    } else if (x < (113u << 23)) {
        // Result is an f16 subnormal or zero: let the FPU round by adding a magic number.
        float f = float_of(x) + float_of(denormal_magic);
        out = (uint16_t)(bits_of(f) - denormal_magic);
    } else {
        uint32_t mantissa_odd = (x >> 13) & 1u;
        x += ((uint32_t)(15 - 127) << 23) + 0xfffu;             // rebias exponent, round half up...
        x += mantissa_odd;                                       // ...or to even
        out = (uint16_t)(x >> 13);
    }
    return out | (uint16_t)(sign >> 16);
}

float ei_f16_to_f32(uint16_t value) {
    const uint32_t shifted_exponent = 0x7c00u << 13;
    uint32_t out = ((uint32_t)value & 0x7fffu) << 13;
    uint32_t exponent = shifted_exponent & out;
    out += (uint32_t)(127 - 15) << 23;
    if (exponent == shifted_exponent) {
        out += (uint32_t)(128 - 16) << 23;                       // infinity or NaN
    } else if (exponent == 0) {
        out += 1u << 23;                                         // subnormal: renormalise
        out = bits_of(float_of(out) - float_of(113u << 23));
    }
    out |= ((uint32_t)value & 0x8000u) << 16;
    return float_of(out);
}
