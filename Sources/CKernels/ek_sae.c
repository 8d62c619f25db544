// Sparse-autoencoder training kernels; see include/ek_sae.h.
#include "ckernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline void split(int total, int ith, int nth, int *begin, int *end) {
    int per = (total + nth - 1) / nth;
    *begin = ith * per < total ? ith * per : total;
    *end = *begin + per < total ? *begin + per : total;
}

static inline float dot(const float *a, const float *b, int d) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= d; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= d; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    float r = _mm_cvtss_f32(s);
    for (; i < d; i++) r += a[i] * b[i];
    return r;
}

static inline void axpy(float *y, float a, const float *x, int d) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= d; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < d; i++) y[i] += a * x[i];
}

// ---- top-k ---------------------------------------------------------------------------------

// A min-heap of (value, index) ordered so that the root is the entry to drop first: the smallest
// value, and among equal values the higher index (so ties keep the lower index).
static inline int worse(float va, int32_t ia, float vb, int32_t ib) { return va < vb || (va == vb && ia > ib); }

static void sift_down(float *hv, int32_t *hi, int size, int at) {
    for (;;) {
        int l = 2 * at + 1, r = l + 1, m = at;
        if (l < size && worse(hv[l], hi[l], hv[m], hi[m])) m = l;
        if (r < size && worse(hv[r], hi[r], hv[m], hi[m])) m = r;
        if (m == at) return;
        float tv = hv[m]; hv[m] = hv[at]; hv[at] = tv;
        int32_t ti = hi[m]; hi[m] = hi[at]; hi[at] = ti;
        at = m;
    }
}

static void topk_row(const float *p, int n, int k, const uint8_t *mask, int32_t *oi, float *ov) {
    int size = 0, j = 0;
    // Fill the heap with the first k candidates.
    for (; j < n && size < k; j++) {
        if (mask && !mask[j]) continue;
        ov[size] = p[j]; oi[size] = j; size++;
    }
    for (int at = size / 2 - 1; at >= 0; at--) sift_down(ov, oi, size, at);
    if (size == k && k > 0) {
        float floor = ov[0];
        __m256 vf = _mm256_set1_ps(floor);
        for (; j < n; ) {
            if (!mask && j + 8 <= n) {
                // Skip eight at a time while none beats the heap's floor (NaN never does).
                int bits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + j), vf, _CMP_GT_OQ));
                if (!bits) { j += 8; continue; }
                int end = j + 8;
                for (; j < end; j++) {
                    if (p[j] > ov[0]) { ov[0] = p[j]; oi[0] = j; sift_down(ov, oi, size, 0); }
                }
                vf = _mm256_set1_ps(ov[0]);
                continue;
            }
            if ((!mask || mask[j]) && p[j] > ov[0]) { ov[0] = p[j]; oi[0] = j; sift_down(ov, oi, size, 0); }
            j++;
        }
    }
    // Heap order to descending order (heap sort: pop the worst to the end).
    for (int end = size - 1; end > 0; end--) {
        float tv = ov[0]; ov[0] = ov[end]; ov[end] = tv;
        int32_t ti = oi[0]; oi[0] = oi[end]; oi[end] = ti;
        sift_down(ov, oi, end, 0);
    }
    for (int t = size; t < k; t++) { oi[t] = -1; ov[t] = 0; }
}

typedef struct { const float *P; int rows, ld, n, k; const uint8_t *mask; int32_t *idx; float *val; } topk_ctx;

static void topk_task(void *c, int ith, int nth) {
    topk_ctx *t = c;
    int b, e;
    split(t->rows, ith, nth, &b, &e);
    for (int r = b; r < e; r++)
        topk_row(t->P + (size_t)r * t->ld, t->n, t->k, t->mask, t->idx + (size_t)r * t->k, t->val + (size_t)r * t->k);
}

void eks_topk_rows(const float *P, int rows, int ld, int n, int k, const uint8_t *mask, int32_t *idx, float *val) {
    topk_ctx c = {P, rows, ld, n, k, mask, idx, val};
    ek_parallel_for(topk_task, &c);
}

// ---- sparse products -----------------------------------------------------------------------

typedef struct { const int32_t *idx; const float *val; int rows, k; const float *W; int d; const float *bias; float *out; const float *G; } sparse_ctx;

static void decode_task(void *c, int ith, int nth) {
    sparse_ctx *t = c;
    int b, e;
    split(t->rows, ith, nth, &b, &e);
    for (int r = b; r < e; r++) {
        float *o = t->out + (size_t)r * t->d;
        if (t->bias) memcpy(o, t->bias, sizeof(float) * t->d); else memset(o, 0, sizeof(float) * t->d);
        for (int s = 0; s < t->k; s++) {
            int32_t j = t->idx[(size_t)r * t->k + s];
            float v = t->val[(size_t)r * t->k + s];
            if (j >= 0 && v != 0) axpy(o, v, t->W + (size_t)j * t->d, t->d);
        }
    }
}

void eks_sparse_decode(const int32_t *idx, const float *val, int rows, int k, const float *W, int d,
                       const float *bias, float *out) {
    sparse_ctx c = {idx, val, rows, k, W, d, bias, out, NULL};
    ek_parallel_for(decode_task, &c);
}

static void dot_task(void *c, int ith, int nth) {
    sparse_ctx *t = c;
    int b, e;
    split(t->rows, ith, nth, &b, &e);
    for (int r = b; r < e; r++) {
        for (int s = 0; s < t->k; s++) {
            int32_t j = t->idx[(size_t)r * t->k + s];
            t->out[(size_t)r * t->k + s] = j >= 0 ? dot(t->W + (size_t)j * t->d, t->G + (size_t)r * t->d, t->d) : 0;
        }
    }
}

void eks_sparse_dot(const int32_t *idx, int rows, int k, const float *W, int d, const float *G, float *out) {
    sparse_ctx c = {idx, NULL, rows, k, W, d, NULL, out, G};
    ek_parallel_for(dot_task, &c);
}

// The entries grouped by latent (counting sort), then each thread takes a range of latents holding
// about an equal share of the entries.
typedef struct { const int32_t *start; const int32_t *rowOf; const float *coefOf; const float *X; int d; float *gW, *gb; int n;
                 int entries; } scatter_ctx;

static void scatter_task(void *c, int ith, int nth) {
    scatter_ctx *t = c;
    // Latent range [j0, j1) whose entries begin at or after ith's share and before (ith+1)'s.
    size_t lo = (size_t)t->entries * ith / nth, hi = (size_t)t->entries * (ith + 1) / nth;
    int j0 = 0, j1 = 0;
    { int a = 0, b = t->n; while (a < b) { int m = (a + b) / 2; if ((size_t)t->start[m] < lo) a = m + 1; else b = m; } j0 = a; }
    { int a = 0, b = t->n; while (a < b) { int m = (a + b) / 2; if ((size_t)t->start[m] < hi) a = m + 1; else b = m; } j1 = a; }
    if (ith == nth - 1) j1 = t->n;
    for (int j = j0; j < j1; j++) {
        float *g = t->gW + (size_t)j * t->d;
        float bsum = 0;
        for (int32_t e = t->start[j]; e < t->start[j + 1]; e++) {
            axpy(g, t->coefOf[e], t->X + (size_t)t->rowOf[e] * t->d, t->d);
            bsum += t->coefOf[e];
        }
        if (t->gb) t->gb[j] += bsum;
    }
}

void eks_scatter_rows(const int32_t *idx, const float *coef, int rows, int k, const float *X, int d,
                      float *gW, float *gb, int n) {
    size_t total = (size_t)rows * k;
    int32_t *start = calloc((size_t)n + 1, sizeof(int32_t));
    int32_t *rowOf = malloc(sizeof(int32_t) * (total ? total : 1));
    float *coefOf = malloc(sizeof(float) * (total ? total : 1));
    int32_t *fill = malloc(sizeof(int32_t) * ((size_t)n + 1));
    for (size_t e = 0; e < total; e++) if (idx[e] >= 0 && coef[e] != 0) start[idx[e] + 1]++;
    for (int j = 0; j < n; j++) start[j + 1] += start[j];
    memcpy(fill, start, sizeof(int32_t) * ((size_t)n + 1));
    for (size_t e = 0; e < total; e++) {
        int32_t j = idx[e];
        if (j < 0 || coef[e] == 0) continue;
        int32_t at = fill[j]++;
        rowOf[at] = (int32_t)(e / k);
        coefOf[at] = coef[e];
    }
    scatter_ctx c = {start, rowOf, coefOf, X, d, gW, gb, n, start[n]};
    // The first latent whose entries start at or past a share's beginning begins that share, so a
    // latent's entries never split across threads.
    ek_parallel_for(scatter_task, &c);
    free(start); free(rowOf); free(coefOf); free(fill);
}

// ---- optimizer and decoder constraint ------------------------------------------------------

typedef struct { float *p; const float *g; float *m, *v; size_t n; float lr, b1, b2, eps, c1, c2; } adam_ctx;

// One element of Adam, written out so that the eight-lane body and the scalar tail do the same
// operations in the same order (the result must not depend on where a thread's range begins).
static inline void adam_one(float *p, float g, float *m, float *v, const adam_ctx *t) {
    float mi = fmaf(t->b1, *m, (1 - t->b1) * g);
    float vi = fmaf(t->b2, *v, ((1 - t->b2) * g) * g);
    *m = mi;
    *v = vi;
    float den = sqrtf(vi / t->c2) + t->eps;
    *p = *p - (t->lr * (mi / t->c1)) / den;
}

static void adam_task(void *c, int ith, int nth) {
    adam_ctx *t = c;
    size_t per = ((t->n + nth - 1) / nth + 7) & ~(size_t)7, b = per * ith, e = b + per < t->n ? b + per : t->n;
    if (b >= t->n) return;
    const __m256 b1 = _mm256_set1_ps(t->b1), a1 = _mm256_set1_ps(1 - t->b1), b2 = _mm256_set1_ps(t->b2),
                 a2 = _mm256_set1_ps(1 - t->b2), c1 = _mm256_set1_ps(t->c1), c2 = _mm256_set1_ps(t->c2),
                 lr = _mm256_set1_ps(t->lr), eps = _mm256_set1_ps(t->eps);
    size_t i = b;
    for (; i + 8 <= e; i += 8) {
        __m256 g = _mm256_loadu_ps(t->g + i);
        __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(t->m + i), _mm256_mul_ps(a1, g));
        __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(t->v + i), _mm256_mul_ps(_mm256_mul_ps(a2, g), g));
        _mm256_storeu_ps(t->m + i, mi);
        _mm256_storeu_ps(t->v + i, vi);
        __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vi, c2)), eps);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(lr, _mm256_div_ps(mi, c1)), den);
        _mm256_storeu_ps(t->p + i, _mm256_sub_ps(_mm256_loadu_ps(t->p + i), step));
    }
    for (; i < e; i++) adam_one(t->p + i, t->g[i], t->m + i, t->v + i, t);
}

void eks_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
              float eps, float biasCorrection1, float biasCorrection2) {
    adam_ctx c = {p, g, m, v, n, lr, beta1, beta2, eps, biasCorrection1, biasCorrection2};
    ek_parallel_for(adam_task, &c);
}

typedef struct { float *g; float *W; int n, d; } rows_ctx;

static void remove_task(void *c, int ith, int nth) {
    rows_ctx *t = c;
    int b, e;
    split(t->n, ith, nth, &b, &e);
    for (int j = b; j < e; j++) {
        const float *w = t->W + (size_t)j * t->d;
        float *g = t->g + (size_t)j * t->d;
        axpy(g, -dot(g, w, t->d), w, t->d);
    }
}

void eks_remove_parallel(float *g, const float *W, int n, int d) {
    rows_ctx c = {g, (float *)W, n, d};
    ek_parallel_for(remove_task, &c);
}

static void normalize_task(void *c, int ith, int nth) {
    rows_ctx *t = c;
    int b, e;
    split(t->n, ith, nth, &b, &e);
    for (int j = b; j < e; j++) {
        float *w = t->W + (size_t)j * t->d;
        double s = 0;
        for (int i = 0; i < t->d; i++) s += (double)w[i] * w[i];
        if (s <= 0) continue;
        float inv = (float)(1.0 / sqrt(s));
        for (int i = 0; i < t->d; i++) w[i] *= inv;
    }
}

void eks_normalize_rows(float *W, int n, int d) {
    rows_ctx c = {NULL, W, n, d};
    ek_parallel_for(normalize_task, &c);
}
