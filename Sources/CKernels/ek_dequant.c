// Row dequantization to f32. The scalar twins follow ggml's formulas term by term; the AVX2
// versions evaluate the same float operations (no fused multiply-add), so they are bit-identical.
#include "ek_internal.h"

// ---------------------------------------------------------------- scalar twins
static void deq_q4_0_ref(const ek_block_q4_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[i * 32 + j] = (float)((x[i].qs[j] & 0x0F) - 8) * d;
            y[i * 32 + j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}
static void deq_q4_1_ref(const ek_block_q4_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), m = ek_h2f(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[i * 32 + j] = (float)(x[i].qs[j] & 0x0F) * d + m;
            y[i * 32 + j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}
static void deq_q5_0_ref(const ek_block_q5_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        const uint32_t qh = ek_ld32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (x[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[i * 32 + j] = (float)(lo - 16) * d;
            y[i * 32 + j + 16] = (float)(hi - 16) * d;
        }
    }
}
static void deq_q5_1_ref(const ek_block_q5_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), m = ek_h2f(x[i].m);
        const uint32_t qh = ek_ld32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            int lo = (x[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[i * 32 + j] = (float)lo * d + m;
            y[i * 32 + j + 16] = (float)hi * d + m;
        }
    }
}
static void deq_q8_0_ref(const ek_block_q8_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        for (int j = 0; j < 32; j++) y[i * 32 + j] = (float)x[i].qs[j] * d;
    }
}
static void deq_q8_1_ref(const ek_block_q8_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        for (int j = 0; j < 32; j++) y[i * 32 + j] = (float)x[i].qs[j] * d;
    }
}
static void deq_q4_K_ref(const ek_block_q4_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), dmin = ek_h2f(x[i].dmin);
        for (int c = 0; c < 4; c++) {  // 64 elements: low nibbles then high nibbles of qs[32c..]
            int sc0, m0, sc1, m1;
            ek_k4_scale_min(2 * c, x[i].scales, &sc0, &m0);
            ek_k4_scale_min(2 * c + 1, x[i].scales, &sc1, &m1);
            const float d0 = d * (float)sc0, mm0 = dmin * (float)m0;
            const float d1 = d * (float)sc1, mm1 = dmin * (float)m1;
            const uint8_t *q = x[i].qs + 32 * c;
            float *o = y + i * 256 + 64 * c;
            for (int l = 0; l < 32; l++) o[l] = d0 * (float)(q[l] & 0x0F) - mm0;
            for (int l = 0; l < 32; l++) o[32 + l] = d1 * (float)(q[l] >> 4) - mm1;
        }
    }
}
static void deq_q5_K_ref(const ek_block_q5_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), dmin = ek_h2f(x[i].dmin);
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            ek_k4_scale_min(2 * c, x[i].scales, &sc0, &m0);
            ek_k4_scale_min(2 * c + 1, x[i].scales, &sc1, &m1);
            const float d0 = d * (float)sc0, mm0 = dmin * (float)m0;
            const float d1 = d * (float)sc1, mm1 = dmin * (float)m1;
            const uint8_t *q = x[i].qs + 32 * c;
            float *o = y + i * 256 + 64 * c;
            for (int l = 0; l < 32; l++) {
                int h0 = (x[i].qh[l] >> (2 * c)) & 1, h1 = (x[i].qh[l] >> (2 * c + 1)) & 1;
                o[l] = d0 * (float)((q[l] & 0x0F) | (h0 << 4)) - mm0;
                o[32 + l] = d1 * (float)((q[l] >> 4) | (h1 << 4)) - mm1;
            }
        }
    }
}
static void deq_q6_K_ref(const ek_block_q6_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        for (int h = 0; h < 2; h++) {  // two halves of 128 elements
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            const int8_t *sc = x[i].scales + 8 * h;
            float *o = y + i * 256 + 128 * h;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                o[l] = d * (float)sc[is + 0] * (float)q1;
                o[l + 32] = d * (float)sc[is + 2] * (float)q2;
                o[l + 64] = d * (float)sc[is + 4] * (float)q3;
                o[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}
static void deq_q8_K_ref(const ek_block_q8_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < 256; j++) y[i * 256 + j] = x[i].d * (float)x[i].qs[j];
}

void ek_dequantize_row_ref(int type, const void *src, float *dst, int n) {
    const int bs = ek_block_size(type);
    if (bs == 0) return;
    const int nb = n / bs;
    switch (type) {
    case EK_TYPE_F32: memmove(dst, src, (size_t)n * 4); break;
    case EK_TYPE_F16: {
        const uint8_t *s = (const uint8_t *)src;
        for (int i = 0; i < n; i++) dst[i] = ek_fp16_to_fp32_soft(ek_ld16(s + 2 * i));
        break;
    }
    case EK_TYPE_BF16: {
        const uint8_t *s = (const uint8_t *)src;
        for (int i = 0; i < n; i++) dst[i] = ek_bf16_to_fp32(ek_ld16(s + 2 * i));
        break;
    }
    case EK_TYPE_Q4_0: deq_q4_0_ref(src, dst, nb); break;
    case EK_TYPE_Q4_1: deq_q4_1_ref(src, dst, nb); break;
    case EK_TYPE_Q5_0: deq_q5_0_ref(src, dst, nb); break;
    case EK_TYPE_Q5_1: deq_q5_1_ref(src, dst, nb); break;
    case EK_TYPE_Q8_0: deq_q8_0_ref(src, dst, nb); break;
    case EK_TYPE_Q8_1: deq_q8_1_ref(src, dst, nb); break;
    case EK_TYPE_Q4_K: deq_q4_K_ref(src, dst, nb); break;
    case EK_TYPE_Q5_K: deq_q5_K_ref(src, dst, nb); break;
    case EK_TYPE_Q6_K: deq_q6_K_ref(src, dst, nb); break;
    case EK_TYPE_Q8_K: deq_q8_K_ref(src, dst, nb); break;
    default: break;
    }
}

// ---------------------------------------------------------------- AVX2
#if EK_AVX2
// 32 bytes (unsigned or signed) -> 32 floats as (q + bias) * d [+ m], stored at y.
EK_INLINE void store_u8_affine(__m256i q, float *y, __m256 d, __m256 m, int with_m) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
        f = _mm256_mul_ps(f, d);
        if (with_m) f = _mm256_add_ps(f, m);
        _mm256_storeu_ps(y + 8 * k, f);
    }
}
EK_INLINE void store_s8_scaled(__m256i q, float *y, __m256 d) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]));
        _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(f, d));
    }
}
// K-quant sub-block of 32: (d_sub * q) - m_sub
EK_INLINE void store_u8_kq(__m256i q, float *y, __m256 d, __m256 m) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
        _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(d, f), m));
    }
}

static void deq_q4_0(const ek_block_q4_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        __m256i q = _mm256_sub_epi8(ek_unpack_nibbles(x[i].qs), _mm256_set1_epi8(8));
        store_s8_scaled(q, y + 32 * i, _mm256_set1_ps(ek_h2f(x[i].d)));
    }
}
static void deq_q4_1(const ek_block_q4_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        __m128 dm = ek_h2f_pair(&x[i].d);
        store_u8_affine(ek_unpack_nibbles(x[i].qs), y + 32 * i, _mm256_broadcastss_ps(dm),
                        _mm256_broadcastss_ps(_mm_movehdup_ps(dm)), 1);
    }
}
static void deq_q5_0(const ek_block_q5_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        __m256i hb = _mm256_and_si256(ek_bits_to_bytes(ek_ld32(x[i].qh)), _mm256_set1_epi8(0x10));
        __m256i q = _mm256_sub_epi8(_mm256_or_si256(ek_unpack_nibbles(x[i].qs), hb), _mm256_set1_epi8(16));
        store_s8_scaled(q, y + 32 * i, _mm256_set1_ps(ek_h2f(x[i].d)));
    }
}
static void deq_q5_1(const ek_block_q5_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        __m128 dm = ek_h2f_pair(&x[i].d);
        __m256i hb = _mm256_and_si256(ek_bits_to_bytes(ek_ld32(x[i].qh)), _mm256_set1_epi8(0x10));
        store_u8_affine(_mm256_or_si256(ek_unpack_nibbles(x[i].qs), hb), y + 32 * i,
                        _mm256_broadcastss_ps(dm), _mm256_broadcastss_ps(_mm_movehdup_ps(dm)), 1);
    }
}
static void deq_q8_0(const ek_block_q8_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++)
        store_s8_scaled(_mm256_loadu_si256((const __m256i *)x[i].qs), y + 32 * i,
                        _mm256_set1_ps(ek_h2f(x[i].d)));
}
static void deq_q4_K(const ek_block_q4_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), dmin = ek_h2f(x[i].dmin);
        uint8_t sm[16];
        ek_k4_unpack_scales(x[i].scales, sm);
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0F));
            float *o = y + 256 * i + 64 * c;
            store_u8_kq(lo, o, _mm256_set1_ps(d * (float)sm[2 * c]), _mm256_set1_ps(dmin * (float)sm[8 + 2 * c]));
            store_u8_kq(hi, o + 32, _mm256_set1_ps(d * (float)sm[2 * c + 1]),
                        _mm256_set1_ps(dmin * (float)sm[8 + 2 * c + 1]));
        }
    }
}
static void deq_q5_K(const ek_block_q5_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d), dmin = ek_h2f(x[i].dmin);
        uint8_t sm[16];
        ek_k4_unpack_scales(x[i].scales, sm);
        __m256i qh = _mm256_loadu_si256((const __m256i *)x[i].qh);
        const __m256i m4 = _mm256_set1_epi8(0x0F), b4 = _mm256_set1_epi8(0x10);
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            // bit 2c / 2c+1 of qh -> bit 4 (a 16-bit shift leaves bit 4 of each byte from its own byte)
            __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), b4));
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                         _mm256_and_si256(_mm256_slli_epi16(qh, 3), b4));
            qh = _mm256_srli_epi16(qh, 2);
            float *o = y + 256 * i + 64 * c;
            store_u8_kq(lo, o, _mm256_set1_ps(d * (float)sm[2 * c]), _mm256_set1_ps(dmin * (float)sm[8 + 2 * c]));
            store_u8_kq(hi, o + 32, _mm256_set1_ps(d * (float)sm[2 * c + 1]),
                        _mm256_set1_ps(dmin * (float)sm[8 + 2 * c + 1]));
        }
    }
}
static void deq_q6_K(const ek_block_q6_K *x, float *y, int nb) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int i = 0; i < nb; i++) {
        const float d = ek_h2f(x[i].d);
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
            const int8_t *sc = x[i].scales + 8 * h;
            float *o = y + 256 * i + 128 * h;
            for (int k = 0; k < 4; k++) {
                __m256i s = _mm256_sub_epi8(q[k], _mm256_set1_epi8(32));
                __m128i lo = _mm256_castsi256_si128(s), hi = _mm256_extracti128_si256(s, 1);
                // 16 elements per scale: (d*sc)*q, as the scalar twin evaluates it
                __m256 d0 = _mm256_set1_ps(d * (float)sc[2 * k]), d1 = _mm256_set1_ps(d * (float)sc[2 * k + 1]);
                _mm256_storeu_ps(o + 32 * k, _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
                _mm256_storeu_ps(o + 32 * k + 8, _mm256_mul_ps(d0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
                _mm256_storeu_ps(o + 32 * k + 16, _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
                _mm256_storeu_ps(o + 32 * k + 24, _mm256_mul_ps(d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
            }
        }
    }
}
static void deq_f16(const uint8_t *s, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
    for (; i < n; i++) y[i] = ek_h2f(ek_ld16(s + 2 * i));
}
static void deq_bf16(const uint8_t *s, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        _mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) y[i] = ek_bf16_to_fp32(ek_ld16(s + 2 * i));
}
#endif

void ek_dequantize_row(int type, const void *src, float *dst, int n) {
#if EK_AVX2
    const int bs = ek_block_size(type);
    if (bs == 0) return;
    const int nb = n / bs;
    switch (type) {
    case EK_TYPE_F16: deq_f16(src, dst, n); return;
    case EK_TYPE_BF16: deq_bf16(src, dst, n); return;
    case EK_TYPE_Q4_0: deq_q4_0(src, dst, nb); return;
    case EK_TYPE_Q4_1: deq_q4_1(src, dst, nb); return;
    case EK_TYPE_Q5_0: deq_q5_0(src, dst, nb); return;
    case EK_TYPE_Q5_1: deq_q5_1(src, dst, nb); return;
    case EK_TYPE_Q8_0: deq_q8_0(src, dst, nb); return;
    case EK_TYPE_Q4_K: deq_q4_K(src, dst, nb); return;
    case EK_TYPE_Q5_K: deq_q5_K(src, dst, nb); return;
    case EK_TYPE_Q6_K: deq_q6_K(src, dst, nb); return;
    default: break;
    }
#endif
    ek_dequantize_row_ref(type, src, dst, n);
}
