// Internal helpers shared by the kernel files.
#ifndef EK_INTERNAL_H
#define EK_INTERNAL_H

#include "ckernels.h"
#include <string.h>
#include <math.h>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define EK_AVX2 1
#include <immintrin.h>
#else
#define EK_AVX2 0
#endif

#define EK_INLINE static inline __attribute__((always_inline))

// Scalar twins must evaluate exactly the written float operations (no implicit FMA), so that
// they match the vector code and the Swift reference bit for bit.
#pragma STDC FP_CONTRACT OFF

_Static_assert(sizeof(ek_block_q4_0) == 18, "q4_0 size");
_Static_assert(sizeof(ek_block_q4_1) == 20, "q4_1 size");
_Static_assert(sizeof(ek_block_q5_0) == 22, "q5_0 size");
_Static_assert(sizeof(ek_block_q5_1) == 24, "q5_1 size");
_Static_assert(sizeof(ek_block_q8_0) == 34, "q8_0 size");
_Static_assert(sizeof(ek_block_q8_1) == 36, "q8_1 size");
_Static_assert(sizeof(ek_block_q4_K) == 144, "q4_K size");
_Static_assert(sizeof(ek_block_q5_K) == 176, "q5_K size");
_Static_assert(sizeof(ek_block_q6_K) == 210, "q6_K size");
_Static_assert(sizeof(ek_block_q8_K) == 292, "q8_K size");

// Unaligned little-endian loads (blocks are packed at odd offsets).
EK_INLINE uint16_t ek_ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
EK_INLINE uint32_t ek_ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
EK_INLINE float ek_ldf(const void *p) { float v; memcpy(&v, p, 4); return v; }

EK_INLINE float ek_h2f(uint16_t h) {
#if EK_AVX2
    // vmovd zeroes the register; _cvtsh_ss would insert into a stale one (a false dependency)
    __m128i v = _mm_cvtsi32_si128((int)h);
    __asm__("" : "+x"(v));  // keep clang from narrowing this back to a vpinsrw
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
#else
    return ek_fp16_to_fp32_soft(h);
#endif
}
EK_INLINE uint16_t ek_f2h(float f) {
#if EK_AVX2
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
#else
    return ek_fp32_to_fp16_soft(f);
#endif
}

// Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins packed into 12 bytes.
EK_INLINE void ek_k4_scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}
// All 8 scales then all 8 mins as bytes: out[0..7] scales, out[8..15] mins.
EK_INLINE void ek_k4_unpack_scales(const uint8_t *q, uint8_t out[16]) {
    for (int j = 0; j < 8; j++) {
        int sc, m;
        ek_k4_scale_min(j, q, &sc, &m);
        out[j] = (uint8_t)sc;
        out[8 + j] = (uint8_t)m;
    }
}

#if EK_AVX2
EK_INLINE float ek_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
EK_INLINE int ek_hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}
// The half at p, which must be followed by 2 more readable bytes. A full 32-bit vmovd load
// avoids the vpinsrw clang emits for 16-bit loads, whose merge into a stale register
// chains every block's scale to an unrelated accumulator.
EK_INLINE float ek_h2f_at(const void *p) {
    __m128i v = _mm_cvtsi32_si128((int)ek_ld32(p));
    __asm__("" : "+x"(v));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}
// Two consecutive halves at p -> floats in lanes 0 and 1.
EK_INLINE __m128 ek_h2f_pair(const void *p) {
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)ek_ld32(p)));
}
// 32 nibbles: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
EK_INLINE __m256i ek_unpack_nibbles(const uint8_t *qs) {
    // broadcast the 16 bytes to both halves (a load), shift only the upper half by 4, mask
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}
// 32 bits -> 32 bytes, byte j = 0xFF if bit j set.
EK_INLINE __m256i ek_bits_to_bytes(uint32_t bits) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                           0x0101010101010101LL, 0x0000000000000000LL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);
    const __m256i bitmask = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    v = _mm256_and_si256(v, bitmask);
    return _mm256_cmpeq_epi8(v, bitmask);
}
// Sum of products of unsigned bytes a (<= 63) and signed bytes b, as 8 int32 lanes.
EK_INLINE __m256i ek_dot_u8s8(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}
// Signed bytes a (any) times signed bytes b (in [-127,127]).
EK_INLINE __m256i ek_dot_s8s8(__m256i a, __m256i b) {
    return ek_dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}
#endif

#endif
