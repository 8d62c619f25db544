// Activation quantizers (Q8_0, Q8_1, Q8_K). The AVX2 versions compute exactly what the scalar
// twins compute (same max, same division, round-to-nearest-even), so outputs are bit-identical.
#include "ek_internal.h"

static inline float absmax_ref(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    return amax;
}

void ek_quantize_row_q8_0_ref(const float *x, void *vy, int n) {
    ek_block_q8_0 *y = (ek_block_q8_0 *)vy;
    for (int i = 0; i < n / EK_QK; i++) {
        const float *xb = x + i * EK_QK;
        const float d = absmax_ref(xb, EK_QK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ek_f2h(d);
        for (int j = 0; j < EK_QK; j++) y[i].qs[j] = (int8_t)nearbyintf(xb[j] * id);
    }
}

void ek_quantize_row_q8_1_ref(const float *x, void *vy, int n) {
    ek_block_q8_1 *y = (ek_block_q8_1 *)vy;
    for (int i = 0; i < n / EK_QK; i++) {
        const float *xb = x + i * EK_QK;
        const float d = absmax_ref(xb, EK_QK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < EK_QK; j++) {
            int q = (int)nearbyintf(xb[j] * id);
            y[i].qs[j] = (int8_t)q;
            sum += q;
        }
        y[i].d = ek_f2h(d);
        y[i].s = ek_f2h(d * (float)sum);
    }
}

void ek_quantize_row_q8_K_ref(const float *x, void *vy, int n) {
    ek_block_q8_K *y = (ek_block_q8_K *)vy;
    for (int i = 0; i < n / EK_QK_K; i++) {
        const float *xb = x + i * EK_QK_K;
        const float d = absmax_ref(xb, EK_QK_K) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = d;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) {
                int q = (int)nearbyintf(xb[g * 16 + j] * id);
                y[i].qs[g * 16 + j] = (int8_t)q;
                sum += q;
            }
            y[i].bsums[g] = (int16_t)sum;
        }
    }
}

#if EK_AVX2
static inline __m256 absv(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// 32 floats * id -> 32 int8 in order; also returns the 8 int32 partial sums if wanted.
static inline __m256i quant32(const float *x, __m256 id, __m256i *isum) {
    __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), id));
    __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id));
    __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id));
    __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id));
    if (isum) *isum = _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, e));
    // packs interleave 128-bit lanes: [a0 b0 a1 b1] then [ab0 ce0 ab1 ce1] bytes; fix with a dword permute
    __m256i ab = _mm256_packs_epi32(a, b);
    __m256i ce = _mm256_packs_epi32(c, e);
    __m256i q = _mm256_packs_epi16(ab, ce);
    return _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float absmax32(const float *x) {
    __m256 m = _mm256_max_ps(_mm256_max_ps(absv(_mm256_loadu_ps(x)), absv(_mm256_loadu_ps(x + 8))),
                             _mm256_max_ps(absv(_mm256_loadu_ps(x + 16)), absv(_mm256_loadu_ps(x + 24))));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

void ek_quantize_row_q8_0(const float *x, void *vy, int n) {
#if EK_AVX2
    ek_block_q8_0 *y = (ek_block_q8_0 *)vy;
    for (int i = 0; i < n / EK_QK; i++) {
        const float *xb = x + i * EK_QK;
        const float d = absmax32(xb) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ek_f2h(d);
        _mm256_storeu_si256((__m256i *)y[i].qs, quant32(xb, _mm256_set1_ps(id), NULL));
    }
#else
    ek_quantize_row_q8_0_ref(x, vy, n);
#endif
}

void ek_quantize_row_q8_1(const float *x, void *vy, int n) {
#if EK_AVX2
    ek_block_q8_1 *y = (ek_block_q8_1 *)vy;
    for (int i = 0; i < n / EK_QK; i++) {
        const float *xb = x + i * EK_QK;
        const float d = absmax32(xb) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256i isum;
        _mm256_storeu_si256((__m256i *)y[i].qs, quant32(xb, _mm256_set1_ps(id), &isum));
        y[i].d = ek_f2h(d);
        y[i].s = ek_f2h(d * (float)ek_hsum8i(isum));
    }
#else
    ek_quantize_row_q8_1_ref(x, vy, n);
#endif
}

void ek_quantize_row_q8_K(const float *x, void *vy, int n) {
#if EK_AVX2
    ek_block_q8_K *y = (ek_block_q8_K *)vy;
    for (int i = 0; i < n / EK_QK_K; i++) {
        const float *xb = x + i * EK_QK_K;
        float amax = 0.0f;
        for (int k = 0; k < 8; k++) {
            float a = absmax32(xb + 32 * k);
            if (a > amax) amax = a;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        y[i].d = d;
        for (int k = 0; k < 8; k++) {
            __m256i q = quant32(xb + 32 * k, vid, NULL);
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * k), q);
        }
        // bsums: sums of 16 consecutive qs, via pairwise widening adds
        for (int k = 0; k < 4; k++) {
            __m256i q0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * k));
            __m256i q1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * k + 32));
            __m256i s0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q0), _mm256_set1_epi16(1));
            __m256i s1 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q1), _mm256_set1_epi16(1));
            // s0 lanes: 4-element sums; groups of 16 = 4 lanes: [g0: l0-3][g1: l4-7] per 128-bit half
            __m256i h = _mm256_hadd_epi32(s0, s1);   // [s0 01,23 | s1 01,23] per 128 half
            h = _mm256_hadd_epi32(h, h);             // [g(s0 lo) g(s1 lo) ..] per half
            int g0 = _mm256_extract_epi32(h, 0), g2 = _mm256_extract_epi32(h, 1);
            int g1 = _mm256_extract_epi32(h, 4), g3 = _mm256_extract_epi32(h, 5);
            y[i].bsums[4 * k + 0] = (int16_t)g0;
            y[i].bsums[4 * k + 1] = (int16_t)g1;
            y[i].bsums[4 * k + 2] = (int16_t)g2;
            y[i].bsums[4 * k + 3] = (int16_t)g3;
        }
    }
#else
    ek_quantize_row_q8_K_ref(x, vy, n);
#endif
}

void ek_quantize_activation(int weight_type, const float *x, void *y, int n) {
    switch (ek_activation_type(weight_type)) {
    case EK_TYPE_Q8_0: ek_quantize_row_q8_0(x, y, n); break;
    case EK_TYPE_Q8_1: ek_quantize_row_q8_1(x, y, n); break;
    case EK_TYPE_Q8_K: ek_quantize_row_q8_K(x, y, n); break;
    case EK_TYPE_F32: memmove(y, x, (size_t)n * sizeof(float)); break;
    default: break;
    }
}
