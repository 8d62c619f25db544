// Element-wise kernels of the training engine; see include/ek_train.h.
#include "ek_train.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

// e^x for eight lanes to about 2 ulp (Cephes: reduction by ln 2, degree-6 polynomial). Inputs
// are clamped to [-87.3, 88.4]. The same function for every lane, so tails agree with bodies.
static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.37626f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    __m256 k = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 rr = _mm256_mul_ps(r, r);
    p = _mm256_add_ps(_mm256_fmadd_ps(p, rr, r), _mm256_set1_ps(1.0f));
    __m256i ki = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    __m256 pow2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ki, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(p, pow2);
}

// Loads/stores of the first `n` (< 8) floats, the rest as `fill`.
static inline __m256 load_tail(const float *p, int n, float fill) {
    float buf[8];
    for (int i = 0; i < 8; i++) buf[i] = i < n ? p[i] : fill;
    return _mm256_loadu_ps(buf);
}
static inline void store_tail(float *p, __m256 v, int n) {
    float buf[8];
    _mm256_storeu_ps(buf, v);
    for (int i = 0; i < n; i++) p[i] = buf[i];
}
static inline float hsum8(__m256 v) {
    float b[8];
    _mm256_storeu_ps(b, v);
    return ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
}
static inline float hmax8(__m256 v) {
    float b[8];
    _mm256_storeu_ps(b, v);
    float m = b[0];
    for (int i = 1; i < 8; i++) m = b[i] > m ? b[i] : m;
    return m;
}

static float sum_squares_f(const float *x, int n) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 u = _mm256_loadu_ps(x + i), w = _mm256_loadu_ps(x + i + 8);
        a = _mm256_fmadd_ps(u, u, a);
        b = _mm256_fmadd_ps(w, w, b);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 u = _mm256_loadu_ps(x + i);
        a = _mm256_fmadd_ps(u, u, a);
    }
    float s = hsum8(_mm256_add_ps(a, b));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

void ekt_rmsnorm_fwd(const float *x, const float *w, float *out, float *rstd, int r0, int r1, int n, float eps) {
    for (int r = r0; r < r1; r++) {
        const float *xr = x + (size_t)r * n;
        float *o = out + (size_t)r * n;
        float s = 1.0f / sqrtf(sum_squares_f(xr, n) / (float)n + eps);
        if (rstd) rstd[r] = s;
        for (int i = 0; i < n; i++) o[i] = xr[i] * s * w[i];
    }
}

void ekt_rmsnorm_bwd_dx(float *dx, const float *dout, const float *x, const float *w, const float *rstd,
                        int r0, int r1, int n) {
    for (int r = r0; r < r1; r++) {
        const float *xr = x + (size_t)r * n, *dr = dout + (size_t)r * n;
        float *g = dx + (size_t)r * n;
        float s = rstd[r];
        float dot = 0;
        for (int i = 0; i < n; i++) dot += w[i] * dr[i] * xr[i];
        float c = dot * s * s * s / (float)n;
        for (int i = 0; i < n; i++) g[i] += s * w[i] * dr[i] - c * xr[i];
    }
}

void ekt_rmsnorm_bwd_dw(float *dw, const float *dout, const float *x, const float *rstd, int rows, int n) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n, *dr = dout + (size_t)r * n;
        float s = rstd[r];
        for (int i = 0; i < n; i++) dw[i] += dr[i] * xr[i] * s;
    }
}

// The gate's activation and its derivative for eight lanes: silu(g) = g·σ(g), silu'(g) =
// σ(g)·(1 + g·(1 − σ(g))); or tanh GELU, 0.5·g·(1 + tanh(u)), u = √(2/π)·(g + 0.044715·g³), with
// tanh(u) = 1 − 2/(e^{2u} + 1) as the inference engine computes it, and its derivative
// 0.5·(1 + tanh u) + 0.5·g·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·g²).
static inline void act8(__m256 g, int gelu, __m256 *act, __m256 *dact) {
    __m256 one = _mm256_set1_ps(1.0f);
    if (gelu) {
        __m256 c = _mm256_set1_ps(0.7978845608028654f), a = _mm256_set1_ps(0.044715f), half = _mm256_set1_ps(0.5f);
        __m256 g2 = _mm256_mul_ps(g, g);
        __m256 u = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(a, g2), g, g));
        __m256 e = exp8(_mm256_add_ps(u, u));
        __m256 th = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
        __m256 onePlus = _mm256_add_ps(one, th);
        *act = _mm256_mul_ps(_mm256_mul_ps(half, g), onePlus);
        __m256 du = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(3.0f), a), g2, one));
        __m256 sech2 = _mm256_fnmadd_ps(th, th, one);
        *dact = _mm256_fmadd_ps(half, onePlus, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, g), sech2), du));
    } else {
        __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 sg = _mm256_div_ps(one, _mm256_add_ps(one, e));
        *act = _mm256_mul_ps(g, sg);
        *dact = _mm256_mul_ps(sg, _mm256_fmadd_ps(g, _mm256_sub_ps(one, sg), one));
    }
}

void ekt_glu_fwd(const float *gu, int ld, float *h, int ldh, int r0, int r1, int n, int gelu) {
    for (int r = r0; r < r1; r++) {
        const float *g = gu + (size_t)r * ld, *u = g + n;
        float *o = h + (size_t)r * ldh;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 s, ds;
            act8(_mm256_loadu_ps(g + i), gelu, &s, &ds);
            _mm256_storeu_ps(o + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
        }
        if (i < n) {
            __m256 s, ds;
            act8(load_tail(g + i, n - i, 0), gelu, &s, &ds);
            store_tail(o + i, _mm256_mul_ps(s, load_tail(u + i, n - i, 0)), n - i);
        }
    }
}

void ekt_glu_bwd(const float *dh, int ldh, const float *gu, int ld, float *dgu, int r0, int r1, int n, int gelu) {
    for (int r = r0; r < r1; r++) {
        const float *g = gu + (size_t)r * ld, *u = g + n, *d = dh + (size_t)r * ldh;
        float *dg = dgu + (size_t)r * ld, *du = dg + n;
        for (int i = 0; i < n; i += 8) {
            int m = n - i < 8 ? n - i : 8;
            __m256 gv = m == 8 ? _mm256_loadu_ps(g + i) : load_tail(g + i, m, 0);
            __m256 uv = m == 8 ? _mm256_loadu_ps(u + i) : load_tail(u + i, m, 0);
            __m256 dv = m == 8 ? _mm256_loadu_ps(d + i) : load_tail(d + i, m, 0);
            __m256 s, ds;
            act8(gv, gelu, &s, &ds);
            __m256 dgv = _mm256_mul_ps(_mm256_mul_ps(dv, uv), ds);
            __m256 duv = _mm256_mul_ps(dv, s);
            if (m == 8) {
                _mm256_storeu_ps(dg + i, dgv);
                _mm256_storeu_ps(du + i, duv);
            } else {
                store_tail(dg + i, dgv, m);
                store_tail(du + i, duv, m);
            }
        }
    }
}

void ekt_rope_pairs(float *x, int ld, const int32_t *positions, int r0, int r1, int heads, int headDim,
                    int ropeDims, const float *cosTable, const float *sinTable, float sign) {
    int half = ropeDims / 2;
    for (int r = r0; r < r1; r++) {
        float *row = x + (size_t)r * ld;
        const float *c = cosTable + (size_t)positions[r] * half, *s = sinTable + (size_t)positions[r] * half;
        for (int h = 0; h < heads; h++) {
            float *v = row + h * headDim;
            for (int i = 0; i < half; i++) {
                float a = v[2 * i], b = v[2 * i + 1], sn = sign * s[i];
                v[2 * i] = a * c[i] - b * sn;
                v[2 * i + 1] = a * sn + b * c[i];
            }
        }
    }
}

void ekt_rope_halves(float *x, int ld, const int32_t *positions, int r0, int r1, int heads, int headDim,
                     int ropeDims, const float *cosTable, const float *sinTable, float sign) {
    int half = ropeDims / 2;
    for (int r = r0; r < r1; r++) {
        float *row = x + (size_t)r * ld;
        const float *c = cosTable + (size_t)positions[r] * half, *s = sinTable + (size_t)positions[r] * half;
        for (int h = 0; h < heads; h++) {
            float *v = row + h * headDim;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half], sn = sign * s[i];
                v[i] = a * c[i] - b * sn;
                v[i + half] = a * sn + b * c[i];
            }
        }
    }
}

void ekt_bias_rows(float *y, int ld, const float *bias, int r0, int r1, int n) {
    for (int r = r0; r < r1; r++) {
        float *row = y + (size_t)r * ld;
        for (int i = 0; i < n; i++) row[i] += bias[i];
    }
}

void ekt_bias_bwd(float *dbias, const float *dy, int ld, int rows, int n) {
    for (int r = 0; r < rows; r++) {
        const float *row = dy + (size_t)r * ld;
        for (int i = 0; i < n; i++) dbias[i] += row[i];
    }
}

float ekt_softmax_row(const float *s, float *p, int last, int len, float scale) {
    int n = last + 1;
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + i));
    float m = hmax8(mx);
    for (; i < n; i++) m = s[i] > m ? s[i] : m;
    m *= scale;
    __m256 sum = _mm256_setzero_ps();
    __m256 vs = _mm256_set1_ps(scale), vm = _mm256_set1_ps(m);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_fmsub_ps(_mm256_loadu_ps(s + i), vs, vm));
        _mm256_storeu_ps(p + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    if (i < n) {
        __m256 e = exp8(_mm256_fmsub_ps(load_tail(s + i, n - i, 0), vs, vm));
        float b[8];
        _mm256_storeu_ps(b, e);
        for (int j = n - i; j < 8; j++) b[j] = 0;
        e = _mm256_loadu_ps(b);
        store_tail(p + i, e, n - i);
        sum = _mm256_add_ps(sum, e);
    }
    float total = hsum8(sum);
    float inv = 1.0f / total;
    __m256 vi = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), vi));
    for (; i < n; i++) p[i] *= inv;
    for (i = n; i < len; i++) p[i] = 0;
    return m + logf(total);
}

void ekt_softmax_row_from_lse(const float *s, float *p, int last, int len, float scale, float lse) {
    int n = last + 1, i = 0;
    __m256 vs = _mm256_set1_ps(scale), vl = _mm256_set1_ps(lse);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, exp8(_mm256_fmsub_ps(_mm256_loadu_ps(s + i), vs, vl)));
    if (i < n) store_tail(p + i, exp8(_mm256_fmsub_ps(load_tail(s + i, n - i, 0), vs, vl)), n - i);
    for (i = n; i < len; i++) p[i] = 0;
}

void ekt_softmax_row_bwd(float *dp, const float *p, int last, int len, float scale) {
    int n = last + 1, i = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(dp + i), acc);
    float dot = hsum8(acc);
    for (; i < n; i++) dot += p[i] * dp[i];
    for (i = 0; i < n; i++) dp[i] = p[i] * (dp[i] - dot) * scale;
    for (i = n; i < len; i++) dp[i] = 0;
}

// max, then Σ exp(x − max) in eight lanes (fixed order).
static void max_and_sumexp(const float *x, int n, float *outMax, float *outSum) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
    float m = hmax8(mx);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    __m256 vm = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) sum = _mm256_add_ps(sum, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
    float s = hsum8(sum);
    for (; i < n; i++) s += expf(x[i] - m);
    *outMax = m;
    *outSum = s;
}

double ekt_cross_entropy_row(float *logits, int vocab, int target, float gradScale) {
    float m, s;
    max_and_sumexp(logits, vocab, &m, &s);
    double loss = (double)m + log((double)s) - (double)logits[target];
    float scale = gradScale / s;
    __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 8 <= vocab; i += 8)
        _mm256_storeu_ps(logits + i, _mm256_mul_ps(exp8(_mm256_sub_ps(_mm256_loadu_ps(logits + i), vm)), vs));
    for (; i < vocab; i++) logits[i] = expf(logits[i] - m) * scale;
    logits[target] -= gradScale;
    return loss;
}

double ekt_cross_entropy_loss(const float *logits, int vocab, int target) {
    float m, s;
    max_and_sumexp(logits, vocab, &m, &s);
    return (double)m + log((double)s) - (double)logits[target];
}

void ekt_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
               float eps, float wd, float biasCorrection1, float biasCorrection2, float gradScale) {
    float a = 1 - beta1, b = 1 - beta2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gradScale;
        float mi = beta1 * m[i] + a * gi;
        float vi = beta2 * v[i] + b * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float mhat = mi / biasCorrection1, vhat = vi / biasCorrection2;
        p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * p[i]);
    }
}

double ekt_sum_squares(const float *x, size_t n) {
    double total = 0;
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > 4096 ? i + 4096 : n;
        __m256 acc = _mm256_setzero_ps();
        size_t j = i;
        for (; j + 8 <= end; j += 8) {
            __m256 u = _mm256_loadu_ps(x + j);
            acc = _mm256_fmadd_ps(u, u, acc);
        }
        double s = hsum8(acc);
        for (; j < end; j++) s += (double)x[j] * x[j];
        total += s;
        i = end;
    }
    return total;
}

void ekt_add(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static inline uint64_t splitmix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void ekt_dropout_rows(float *x, int ld, int cols, const int64_t *rowIds, int r0, int r1, uint64_t seed, float p) {
    float keep = 1.0f / (1.0f - p);
    uint64_t threshold = (uint64_t)((double)p * 18446744073709551616.0);
    for (int r = r0; r < r1; r++) {
        float *row = x + (size_t)r * ld;
        uint64_t base = splitmix(seed ^ splitmix((uint64_t)rowIds[r]));
        for (int i = 0; i < cols; i++) {
            uint64_t h = splitmix(base + (uint64_t)i);
            row[i] = h < threshold ? 0.0f : row[i] * keep;
        }
    }
}
