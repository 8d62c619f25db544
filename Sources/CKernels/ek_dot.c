// Dot products of a weight row with a quantized activation row: scalar twins and AVX2 tiles.
// The scalar twins define the canonical float arithmetic every SIMD kernel reproduces exactly
// (see ek_tiles.h): one rounded term per block from an exact integer sum, added in block order.
#include "ek_internal.h"
#include "ek_tiles.h"

// ---------------------------------------------------------------- scalar twins
static float dot_q4_0_ref(int nb, const ek_block_q4_0 *w, const ek_block_q8_0 *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < 16; j++)
            s += ((w[i].qs[j] & 0x0F) - 8) * x[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
        sum += (float)s * (ek_h2f(w[i].d) * ek_h2f(x[i].d));
    }
    return sum;
}
static float dot_q4_1_ref(int nb, const ek_block_q4_1 *w, const ek_block_q8_1 *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < 16; j++)
            s += (w[i].qs[j] & 0x0F) * x[i].qs[j] + (w[i].qs[j] >> 4) * x[i].qs[j + 16];
        sum += (float)s * (ek_h2f(w[i].d) * ek_h2f(x[i].d)) + ek_h2f(w[i].m) * ek_h2f(x[i].s);
    }
    return sum;
}
static float dot_q5_0_ref(int nb, const ek_block_q5_0 *w, const ek_block_q8_0 *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        const uint32_t qh = ek_ld32(w[i].qh);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            int lo = ((w[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16;
            int hi = ((w[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
            s += lo * x[i].qs[j] + hi * x[i].qs[j + 16];
        }
        sum += (float)s * (ek_h2f(w[i].d) * ek_h2f(x[i].d));
    }
    return sum;
}
static float dot_q5_1_ref(int nb, const ek_block_q5_1 *w, const ek_block_q8_1 *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        const uint32_t qh = ek_ld32(w[i].qh);
        int s = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (w[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (w[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            s += lo * x[i].qs[j] + hi * x[i].qs[j + 16];
        }
        sum += (float)s * (ek_h2f(w[i].d) * ek_h2f(x[i].d)) + ek_h2f(w[i].m) * ek_h2f(x[i].s);
    }
    return sum;
}
static float dot_q8_0_ref(int nb, const ek_block_q8_0 *w, const ek_block_q8_0 *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += w[i].qs[j] * x[i].qs[j];
        sum += (float)s * (ek_h2f(w[i].d) * ek_h2f(x[i].d));
    }
    return sum;
}
// K-quants: the mins term is computed from x's quants directly, not from bsums, so the twin
// also checks the bsums the quantizer stored.
static float dot_q4_K_ref(int nb, const ek_block_q4_K *w, const ek_block_q8_K *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int isum = 0, imin = 0;
        for (int s = 0; s < 8; s++) {
            int sc, m;
            ek_k4_scale_min(s, w[i].scales, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (s / 2);
            const int sh = (s & 1) ? 4 : 0;
            int ps = 0, xs = 0;
            for (int l = 0; l < 32; l++) {
                int xv = x[i].qs[32 * s + l];
                ps += ((q[l] >> sh) & 0x0F) * xv;
                xs += xv;
            }
            isum += sc * ps;
            imin += m * xs;
        }
        sum += (float)isum * (ek_h2f(w[i].d) * x[i].d) - (float)imin * (ek_h2f(w[i].dmin) * x[i].d);
    }
    return sum;
}
static float dot_q5_K_ref(int nb, const ek_block_q5_K *w, const ek_block_q8_K *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int isum = 0, imin = 0;
        for (int s = 0; s < 8; s++) {
            int sc, m;
            ek_k4_scale_min(s, w[i].scales, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (s / 2);
            const int sh = (s & 1) ? 4 : 0;
            int ps = 0, xs = 0;
            for (int l = 0; l < 32; l++) {
                int xv = x[i].qs[32 * s + l];
                int qv = ((q[l] >> sh) & 0x0F) | (((w[i].qh[l] >> s) & 1) << 4);
                ps += qv * xv;
                xs += xv;
            }
            isum += sc * ps;
            imin += m * xs;
        }
        sum += (float)isum * (ek_h2f(w[i].d) * x[i].d) - (float)imin * (ek_h2f(w[i].dmin) * x[i].d);
    }
    return sum;
}
static float dot_q6_K_ref(int nb, const ek_block_q6_K *w, const ek_block_q8_K *x) {
    float sum = 0.0f;
    for (int i = 0; i < nb; i++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *xq = x[i].qs + 128 * h;
            const int8_t *sc = w[i].scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                isum += sc[is] * q1 * xq[l] + sc[is + 2] * q2 * xq[l + 32] + sc[is + 4] * q3 * xq[l + 64] +
                        sc[is + 6] * q4 * xq[l + 96];
            }
        }
        sum += (float)isum * (ek_h2f(w[i].d) * x[i].d);
    }
    return sum;
}
static float dot_f32_ref(int n, const float *w, const float *x) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += w[i] * x[i];
    return sum;
}
static float dot_f16_ref(int n, const uint8_t *w, const float *x) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += ek_fp16_to_fp32_soft(ek_ld16(w + 2 * i)) * x[i];
    return sum;
}
static float dot_bf16_ref(int n, const uint8_t *w, const float *x) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += ek_bf16_to_fp32(ek_ld16(w + 2 * i)) * x[i];
    return sum;
}

float ek_vec_dot_ref(int type, int n, const void *w, const void *x) {
    const int bs = ek_block_size(type);
    if (bs == 0) return 0.0f;
    const int nb = n / bs;
    switch (type) {
    case EK_TYPE_F32: return dot_f32_ref(n, w, x);
    case EK_TYPE_F16: return dot_f16_ref(n, w, x);
    case EK_TYPE_BF16: return dot_bf16_ref(n, w, x);
    case EK_TYPE_Q4_0: return dot_q4_0_ref(nb, w, x);
    case EK_TYPE_Q4_1: return dot_q4_1_ref(nb, w, x);
    case EK_TYPE_Q5_0: return dot_q5_0_ref(nb, w, x);
    case EK_TYPE_Q5_1: return dot_q5_1_ref(nb, w, x);
    case EK_TYPE_Q8_0: return dot_q8_0_ref(nb, w, x);
    case EK_TYPE_Q4_K: return dot_q4_K_ref(nb, w, x);
    case EK_TYPE_Q5_K: return dot_q5_K_ref(nb, w, x);
    case EK_TYPE_Q6_K: return dot_q6_K_ref(nb, w, x);
    default: return 0.0f;
    }
}

// ---------------------------------------------------------------- AVX2 dispatch
float ek_vec_dot(int type, int n, const void *w, const void *x) {
#if EK_AVX2
    switch (type) {
    case EK_TYPE_F32: return ek_dot_f32_avx2(n, w, x);
    case EK_TYPE_F16: return ek_dot_f16_avx2(n, w, x);
    case EK_TYPE_BF16: return ek_dot_bf16_avx2(n, w, x);
    default: {
        const int bs = ek_block_size(type);
        if (bs == 0) return 0.0f;
        int ok;
        float r = ek_dot_quant_avx2(type, n / bs, w, x, &ok);
        return ok ? r : 0.0f;
    }
    }
#else
    return ek_vec_dot_ref(type, n, w, x);
#endif
}
