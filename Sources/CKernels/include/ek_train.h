// Element-wise kernels of the training engine (Sources/Training): each operation's forward and
// backward side by side, on float rows. Matrix products go to OpenBLAS; these are the loops
// between them. Every function works on a range of rows so that callers split rows over the
// thread pool; a row's result never depends on the range it was computed in.
#ifndef EK_TRAIN_H
#define EK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// RMSNorm: out = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps); rstd saved per row.
void ekt_rmsnorm_fwd(const float *x, const float *w, float *out, float *rstd, int r0, int r1, int n, float eps);
// dx += rstd·(w⊙dout) − x·rstd³/n·Σ(w⊙dout⊙x), rows r0..<r1.
void ekt_rmsnorm_bwd_dx(float *dx, const float *dout, const float *x, const float *w, const float *rstd,
                        int r0, int r1, int n);
// dw[i] += Σ_rows dout[r,i]·x[r,i]·rstd[r] (rows in order: one thread).
void ekt_rmsnorm_bwd_dw(float *dw, const float *dout, const float *x, const float *rstd, int rows, int n);

// Gated MLP: h = act(g)·u with g, u rows of a [rows × ld] matrix (g at column 0, u at column n);
// act is SiLU (SwiGLU: llama, qwen2) or, with `gelu`, tanh GELU (GeGLU: gemma3).
void ekt_glu_fwd(const float *gu, int ld, float *h, int ldh, int r0, int r1, int n, int gelu);
// dg = dh·u·act'(g), du = dh·act(g), written into dgu (same layout as gu).
void ekt_glu_bwd(const float *dh, int ldh, const float *gu, int ld, float *dgu, int r0, int r1, int n, int gelu);

// RoPE on adjacent pairs (x[2i], x[2i+1]) of each head, angle pos·θᵢ, for rows r0..<r1 of a
// matrix with row stride ld; `cosTable`/`sinTable` are [maxPos × ropeDims/2]. sign = -1 rotates back
// (the backward pass of the rotation).
void ekt_rope_pairs(float *x, int ld, const int32_t *positions, int r0, int r1, int heads, int headDim,
                    int ropeDims, const float *cosTable, const float *sinTable, float sign);

// RoPE on the halves of each head's first ropeDims values, pairs (x[i], x[i + ropeDims/2]) — NeoX's
// layout, as llama.cpp applies it for qwen2 — otherwise as ekt_rope_pairs.
void ekt_rope_halves(float *x, int ld, const int32_t *positions, int r0, int r1, int heads, int headDim,
                     int ropeDims, const float *cosTable, const float *sinTable, float sign);

// Bias: y[r, i] += bias[i] for rows r0..<r1 of a matrix with row stride ld, i < n.
void ekt_bias_rows(float *y, int ld, const float *bias, int r0, int r1, int n);
// dbias[i] += Σ_rows dy[r, i] (rows in order: one thread).
void ekt_bias_bwd(float *dbias, const float *dy, int ld, int rows, int n);

// Causal softmax of one attention row: p[j] = exp(scale·s[j] − lse) for j ≤ last, 0 after;
// returns lse (the log of the normalizer, in scaled units).
float ekt_softmax_row(const float *s, float *p, int last, int len, float scale);
// p[j] = exp(scale·s[j] − lse) for j ≤ last, 0 after (recomputing a saved softmax).
void ekt_softmax_row_from_lse(const float *s, float *p, int last, int len, float scale, float lse);
// Backward of softmax for one row in place: ds[j] = p[j]·(dp[j] − Σ p⊙dp)·scale for j ≤ last, 0 after.
void ekt_softmax_row_bwd(float *dp, const float *p, int last, int len, float scale);

// Cross-entropy of one row of logits against `target`, in place: logits become
// (softmax − onehot)·gradScale; returns the row's loss (lse − logit[target]) in double.
double ekt_cross_entropy_row(float *logits, int vocab, int target, float gradScale);
// The loss only (logits left as they are).
double ekt_cross_entropy_loss(const float *logits, int vocab, int target);

// AdamW on n parameters: g·gradScale is the gradient; decoupled weight decay wd·lr.
void ekt_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
               float eps, float wd, float biasCorrection1, float biasCorrection2, float gradScale);

// Σ x² in double, in a fixed order.
double ekt_sum_squares(const float *x, size_t n);

// y[i] += x[i].
void ekt_add(float *y, const float *x, size_t n);

// Inverted dropout mask applied in place: x[r,i] = 0 with probability p, else x/(1−p). The mask is a
// hash of (seed, row id, i), so the backward pass recomputes the same mask. rowIds give each row's id.
void ekt_dropout_rows(float *x, int ld, int cols, const int64_t *rowIds, int r0, int r1, uint64_t seed, float p);

#ifdef __cplusplus
}
#endif
#endif
