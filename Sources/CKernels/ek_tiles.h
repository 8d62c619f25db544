// Internal: register-tiled dot-product kernels: one vector against R weight rows, and "row-lane"
// kernels for several vectors.
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

// nb blocks per row; row r at w[r] (rows are ws bytes apart in the matrix: used for prefetch),
// one activation row x; the result for row r in out[r]. Callers fill all R row pointers
// (repeating a real row for padding lanes).
typedef void (*ek_tile_fn)(int nb, const uint8_t *const *w, size_t ws, const uint8_t *x, float *out);

// The kernel for R rows x 1 vector of `type`, or NULL where that shape does not exist.
// Legacy quants: R = 4. K-quants: R = 1.
ek_tile_fn ek_tile_get(int type, int R);

// Row-lane kernels for several vectors (the 32-element types and the K-quants): R =
// ek_panel_rows(vnni) weight rows in the SIMD lanes (8; 16 in 512-bit registers on AVX-512 VNNI).
// `vnni`: the AVX2 kernels (0) or the VNNI ones (1, only where ek_vnni_available()); one product
// takes all four from the same choice. A panel fn transposes the R rows w[0..R-1] (padding rows
// repeat a real one; rows are ws bytes apart in the matrix: used for prefetch) into
// ek_panel_size(type, nb, vnni) bytes of 64-byte aligned scratch, once for all vectors. A
// row-lane fn multiplies that panel with V <= EK_ROWLANE_MAXV vectors repacked by ek_pack_act,
// writing y[v*ys + r] for v < V, r < rn. NULL if unsupported.
#define EK_ROWLANE_MAXV 4
#define EK_PANEL_MAXR 16
typedef void (*ek_panel_fn)(int nb, const uint8_t *const *w, size_t ws, uint8_t *panel);
typedef void (*ek_rowlane_fn)(int nb, const uint8_t *panel, const uint8_t *pk, float *y, size_t ys, int rn);
int ek_panel_rows(int vnni);
size_t ek_panel_size(int type, int nb, int vnni);
ek_panel_fn ek_panel_get(int type, int vnni);
ek_rowlane_fn ek_rowlane_get(int type, int V, int vnni);
// V activation rows x[v] of weight type `type`, repacked per block: 32-element types as
// [V x 32 quants][V x float d][V x float s (Q8_1) | int offset * sum of the quants (Q4_0: 8,
// Q5_0: 16, Q8_0: 128, the VNNI tiles' bias)]; K-quants (Q8_K rows) as [V x 256 quants]
// [V x 16 int16 sums][V x float d] (ek_tiles.c); ek_pack_size(type, V, nb) bytes.
size_t ek_pack_size(int type, int V, int nb);
void ek_pack_act(int type, int V, int nb, const uint8_t *const *x, uint8_t *dst);

// One row . one vector for the quantized types (the canonical order); 0 if unsupported.
float ek_dot_quant_avx2(int type, int nb, const uint8_t *w, const uint8_t *x, int *ok);

float ek_dot_f32_avx2(int n, const float *w, const float *x);
float ek_dot_f16_avx2(int n, const uint8_t *w, const float *x);
float ek_dot_bf16_avx2(int n, const uint8_t *w, const float *x);
#endif
