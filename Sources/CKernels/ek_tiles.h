// Internal: register-tiled dot-product kernels (R weight rows x V activation rows).
//
// Every kernel evaluates the same "canonical" float arithmetic per (row, vector) pair as the
// scalar twins in ek_dot.c: per block an exact integer sum, one rounded term from it, and a
// single accumulator summed in block order. So ek_vec_dot, ek_vec_dot_ref, ek_matvec and
// ek_matmul agree bit for bit, whatever the tile shape, batch composition or thread count.
#ifndef EK_TILES_H
#define EK_TILES_H
#include <stddef.h>
#include <stdint.h>

#define EK_TILE_MAXR 4
#define EK_TILE_MAXV 8
#define EK_TILE_OUT (EK_TILE_MAXR * EK_TILE_MAXV)

// Multi-vector tiles (R x 4, R x 8 of the 32-element types) read the V activations repacked
// by ek_pack_act into 32-byte aligned memory (x[0] points there); the others read x[v].
size_t ek_pack_size(int type, int V, int nb);
void ek_pack_act(int type, int V, int nb, const uint8_t *const *x, uint8_t *dst);

// nb blocks per row; row r at w[r] (rows are ws bytes apart in the matrix: used for prefetch),
// vector v at x[v]; result for (r, v) in out[r*EK_TILE_MAXV + v]. Callers fill all R and V
// pointers (repeating a real row/vector for padding lanes).
typedef void (*ek_tile_fn)(int nb, const uint8_t *const *w, size_t ws, const uint8_t *const *x, float *out);

// The kernel for an R x V tile of `type`, or NULL where that shape does not exist.
// Legacy quants: 4x1, 4x4, 4x8. K-quants: 1x1, 1x4.
ek_tile_fn ek_tile_get(int type, int R, int V);
// One row . one vector for the quantized types (the canonical order); 0 if unsupported.
float ek_dot_quant_avx2(int type, int nb, const uint8_t *w, const uint8_t *x, int *ok);

float ek_dot_f32_avx2(int n, const float *w, const float *x);
float ek_dot_f16_avx2(int n, const uint8_t *w, const float *x);
float ek_dot_bf16_avx2(int n, const uint8_t *w, const float *x);
#endif
