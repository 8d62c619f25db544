// Type facts and scalar half/bfloat conversions.
#include "ek_internal.h"

const char *ek_kernel_isa(void) { return !EK_AVX2 ? "scalar" : ek_vnni_enabled() ? "avx2+fma+f16c+avx512vnni" : "avx2+fma+f16c"; }

int ek_block_size(int type) {
    switch (type) {
    case EK_TYPE_F32: case EK_TYPE_F16: case EK_TYPE_BF16: return 1;
    case EK_TYPE_Q4_0: case EK_TYPE_Q4_1: case EK_TYPE_Q5_0: case EK_TYPE_Q5_1:
    case EK_TYPE_Q8_0: case EK_TYPE_Q8_1: return EK_QK;
    case EK_TYPE_Q4_K: case EK_TYPE_Q5_K: case EK_TYPE_Q6_K: case EK_TYPE_Q8_K: return EK_QK_K;
    default: return 0;
    }
}

size_t ek_type_size(int type) {
    switch (type) {
    case EK_TYPE_F32: return 4;
    case EK_TYPE_F16: case EK_TYPE_BF16: return 2;
    case EK_TYPE_Q4_0: return sizeof(ek_block_q4_0);
    case EK_TYPE_Q4_1: return sizeof(ek_block_q4_1);
    case EK_TYPE_Q5_0: return sizeof(ek_block_q5_0);
    case EK_TYPE_Q5_1: return sizeof(ek_block_q5_1);
    case EK_TYPE_Q8_0: return sizeof(ek_block_q8_0);
    case EK_TYPE_Q8_1: return sizeof(ek_block_q8_1);
    case EK_TYPE_Q4_K: return sizeof(ek_block_q4_K);
    case EK_TYPE_Q5_K: return sizeof(ek_block_q5_K);
    case EK_TYPE_Q6_K: return sizeof(ek_block_q6_K);
    case EK_TYPE_Q8_K: return sizeof(ek_block_q8_K);
    default: return 0;
    }
}

int ek_type_supported(int type) { return ek_block_size(type) != 0; }

size_t ek_row_size(int type, int n) {
    int bs = ek_block_size(type);
    if (bs == 0 || n < 0) return 0;
    return (size_t)(n / bs) * ek_type_size(type);
}

int ek_activation_type(int type) {
    switch (type) {
    case EK_TYPE_F32: case EK_TYPE_F16: case EK_TYPE_BF16: return EK_TYPE_F32;
    case EK_TYPE_Q4_0: case EK_TYPE_Q5_0: case EK_TYPE_Q8_0: return EK_TYPE_Q8_0;
    case EK_TYPE_Q4_1: case EK_TYPE_Q5_1: return EK_TYPE_Q8_1;
    case EK_TYPE_Q4_K: case EK_TYPE_Q5_K: case EK_TYPE_Q6_K: return EK_TYPE_Q8_K;
    default: return -1;
    }
}

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float ek_fp16_to_fp32_soft(ek_half h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24 is exact in f32
        float v = (float)mant * u2f(0x33800000u);  // 2^-24
        return u2f(f2u(v) | sign);
    }
    if (exp == 31)  // NaNs come out quiet, as F16C makes them
        return u2f(sign | 0x7F800000u | (mant << 13) | (mant ? 0x00400000u : 0));
    return u2f(sign | ((exp + 112) << 23) | (mant << 13));
}

ek_half ek_fp32_to_fp16_soft(float f) {
    uint32_t x = f2u(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7FFFFFFF;
    if (ax >= 0x7F800000u)  // inf stays inf; NaN is quieted, top payload bits kept (as F16C does)
        return (ek_half)(sign | (ax > 0x7F800000u ? 0x7E00 | ((ax >> 13) & 0x3FF) : 0x7C00));
    if (ax >= 0x477FF000u) return (ek_half)(sign | 0x7C00);  // >= 65520 rounds to inf
    if (ax < 0x38800000u) {                                   // below 2^-14: subnormal half
        int e = (int)(ax >> 23);
        if (e < 102) return (ek_half)sign;
        uint32_t m = (ax & 0x7FFFFF) | 0x800000;
        int shift = 126 - e;  // 1...24
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (ek_half)(sign | r);
    }
    uint32_t r = (ax >> 13) - (112u << 10);
    uint32_t rem = ax & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (ek_half)(sign | r);
}

float ek_fp16_to_fp32(ek_half h) { return ek_h2f(h); }
ek_half ek_fp32_to_fp16(float f) { return ek_f2h(f); }
float ek_bf16_to_fp32(uint16_t h) { return u2f((uint32_t)h << 16); }
