// Kernels of sparse-autoencoder training (Sources/SparseAutoencoders): per-row top-k selection and
// the sparse products of a TopK SAE's forward and backward passes, where each row touches only k
// of the n latents. Dense products (the encoder) go to OpenBLAS. Every function splits its work over
// the thread pool (ek_parallel_for); results do not depend on the number of threads.
#ifndef EK_SAE_H
#define EK_SAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// For each of `rows` rows of P (row stride ld, n columns): the k largest values (ties: the lower
// index first), in descending order, into idx[r*k ...] and val[r*k ...]. With `mask` non-null only
// columns with mask[j] != 0 compete; a row with fewer than k of them is padded with index -1 and
// value 0. Values are taken as they are (apply ReLU after).
void eks_topk_rows(const float *P, int rows, int ld, int n, int k, const uint8_t *mask, int32_t *idx, float *val);

// out[r] = (bias ? bias : 0) + Σ_t val[r,t] · W[idx[r,t]]  (W: n rows of width d; idx -1 skipped).
void eks_sparse_decode(const int32_t *idx, const float *val, int rows, int k, const float *W, int d,
                       const float *bias, float *out);

// dot[r,t] = W[idx[r,t]] · G[r]  (0 where idx is -1).
void eks_sparse_dot(const int32_t *idx, int rows, int k, const float *W, int d, const float *G, float *dot);

// gW[idx[r,t]] += coef[r,t] · X[r] for every entry, and gb[idx[r,t]] += coef[r,t] when gb is
// non-null; latents are split over the threads, so no two threads write one row. Entries are
// added in row order for each latent.
void eks_scatter_rows(const int32_t *idx, const float *coef, int rows, int k, const float *X, int d,
                      float *gW, float *gb, int n);

// Adam without weight decay over n parameters (bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t given),
// split over the threads at multiples of eight; every element is computed the same way wherever a
// thread's range begins.
void eks_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2,
              float eps, float biasCorrection1, float biasCorrection2);

// For each of n rows of W (width d): g[j] -= (g[j]·W[j]) W[j], the part of the gradient that would
// change the row's norm (W's rows are unit vectors).
void eks_remove_parallel(float *g, const float *W, int n, int d);

// Scales each of n rows of W (width d) to unit norm (rows of norm 0 are left).
void eks_normalize_rows(float *W, int n, int d);

#ifdef __cplusplus
}
#endif

#endif
