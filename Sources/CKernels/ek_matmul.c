// Matrix-vector and small-batch matrix products over the pool.
#include "ek_internal.h"
#include "ek_tiles.h"
#include <stdatomic.h>
#include <stdlib.h>

static inline int imin(int a, int b) { return a < b ? a : b; }

// Per-thread scratch for repacked activations, grown on demand and kept (no allocation per call
// once warm).
static _Thread_local uint8_t *tl_pack;
static _Thread_local size_t tl_pack_cap;
static uint8_t *pack_buffer(size_t bytes) {
    if (bytes > tl_pack_cap) {
        free(tl_pack);
        size_t cap = (bytes + 4095) & ~(size_t)4095;
        tl_pack = aligned_alloc(64, cap);
        tl_pack_cap = tl_pack ? cap : 0;
    }
    return tl_pack;
}

// One vector group [v0, v0+vn) (vn <= V) over rows [p0, p1) with tiles of R rows; padding rows and
// vectors repeat the last real one (their lanes are computed and dropped). xg: the tile's x argument.
static void run_group(ek_tile_fn fn, int R, int nb, const uint8_t *w, size_t wrow, int p0, int p1,
                      const uint8_t *const *xg, int v0, int vn, float *Y, int ys) {
    const uint8_t *wp[EK_TILE_MAXR];
    float out[EK_TILE_OUT];
    for (int r = p0; r < p1; r += R) {
        const int rn = imin(R, p1 - r);
        for (int i = 0; i < R; i++) wp[i] = w + (size_t)(r + imin(i, rn - 1)) * wrow;
        fn(nb, wp, wrow, xg, out);
        for (int i = 0; i < rn; i++)
            for (int v = 0; v < vn; v++) Y[(size_t)(v0 + v) * ys + r + i] = out[i * EK_TILE_MAXV + v];
    }
}

// Vector groups: 8 at a time, then 4 (3 padded to 4), then one by one.
static int group_width(int legacy, int rem) {
    if (legacy) return rem >= 8 ? 8 : rem >= 3 ? 4 : 1;
    return rem >= 3 ? 4 : 1;
}

// Rows [r0, r1) against nvec vectors, on the calling thread.
void ek_matmul_rows(int type, const void *W, int r0, int r1, int cols, const void *X, int nvec, size_t xs,
                    float *Y, int ys) {
    const int bs = ek_block_size(type);
    if (bs == 0 || r1 <= r0 || nvec <= 0) return;
    const size_t wrow = ek_row_size(type, cols);
    const uint8_t *w = (const uint8_t *)W;
    const uint8_t *x = (const uint8_t *)X;
    const int nb = cols / bs;

    const int legacy = ek_tile_get(type, 4, 1) != NULL;
    const int kquant = ek_tile_get(type, 1, 1) != NULL;
    if (!legacy && !kquant) {  // float weights (or no SIMD): plain dots
        for (int v = 0; v < nvec; v++)
            for (int r = r0; r < r1; r++)
                Y[(size_t)v * ys + r] = ek_vec_dot(type, cols, w + (size_t)r * wrow, x + (size_t)v * xs);
        return;
    }
    // Legacy multi-vector tiles read repacked activations: pack every group once.
    uint8_t *pk = NULL;
    if (legacy && nvec >= 3) {
        size_t total = 0;
        for (int v0 = 0; v0 < nvec;) {
            const int V = group_width(1, nvec - v0);
            if (V > 1) total += ek_pack_size(type, V, nb);
            v0 += imin(V, nvec - v0);
        }
        pk = pack_buffer(total);
        if (pk == NULL) {  // out of memory: fall back to one vector at a time
            for (int v = 0; v < nvec; v++) ek_matmul_rows(type, W, r0, r1, cols, x + (size_t)v * xs, 1, xs, Y + (size_t)v * ys, ys);
            return;
        }
        size_t off = 0;
        for (int v0 = 0; v0 < nvec;) {
            const int V = group_width(1, nvec - v0), vn = imin(V, nvec - v0);
            if (V > 1) {
                const uint8_t *xp[EK_TILE_MAXV];
                for (int v = 0; v < V; v++) xp[v] = x + (size_t)(v0 + imin(v, vn - 1)) * xs;
                ek_pack_act(type, V, nb, xp, pk + off);
                off += ek_pack_size(type, V, nb);
            }
            v0 += vn;
        }
    }
    // Rows go in panels small enough to stay in L1/L2 while every vector group passes over
    // them, so each weight comes from memory once per call. Panels are multiples of 8 rows.
    int panel = (int)((24 * 1024) / wrow) & ~7;
    if (panel < 8) panel = 8;
    if (nvec == 1) panel = r1 - r0;
    for (int p0 = r0; p0 < r1; p0 += panel) {
        const int p1 = imin(p0 + panel, r1);
        size_t off = 0;
        for (int v0 = 0; v0 < nvec;) {
            const int V = group_width(legacy, nvec - v0), vn = imin(V, nvec - v0);
            const int R = legacy ? 4 : 1;
            const uint8_t *xg[EK_TILE_MAXV];
            if (legacy && V > 1) {
                xg[0] = pk + off;
                off += ek_pack_size(type, V, nb);
            } else {
                for (int v = 0; v < V; v++) xg[v] = x + (size_t)(v0 + imin(v, vn - 1)) * xs;
            }
            run_group(ek_tile_get(type, R, V), R, nb, w, wrow, p0, p1, xg, v0, vn, Y, ys);
            v0 += vn;
        }
    }
}

typedef struct {
    int type, rows, cols, nvec, ys, chunk, nchunks;
    const void *W, *X;
    size_t xs;
    float *Y;
    _Atomic int next;
} mm_job;

// Each thread starts on chunk ith, then takes further chunks from a shared counter, so a
// thread delayed by the (noisy) host does not hold up the whole product.
static void mm_task(void *p, int ith, int nth) {
    mm_job *j = (mm_job *)p;
    int c = ith;
    for (;;) {
        if (c >= j->nchunks) break;
        const int r0 = c * j->chunk;
        const int r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
        ek_matmul_rows(j->type, j->W, r0, r1, j->cols, j->X, j->nvec, j->xs, j->Y, j->ys);
        c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed) + nth;
    }
}

void ek_matmul(int type, const void *W, int rows, int cols, const void *X, int nvec, size_t xs, float *Y,
               int ys) {
    if (rows <= 0 || nvec <= 0) return;
    const int nth = ek_pool_size();
    const size_t wrow = ek_row_size(type, cols);
    // Too little work to pay for waking a worker.
    if (nth <= 1 || (size_t)rows * wrow * (size_t)nvec < 16384) {
        ek_matmul_rows(type, W, 0, rows, cols, X, nvec, xs, Y, ys);
        return;
    }
    // About 4 chunks per thread, each a multiple of 8 rows.
    int chunk = (rows + 4 * nth - 1) / (4 * nth);
    chunk = (chunk + 7) & ~7;
    if (chunk < 8) chunk = 8;
    mm_job j = {.type = type, .rows = rows, .cols = cols, .nvec = nvec, .ys = ys, .chunk = chunk,
                .nchunks = (rows + chunk - 1) / chunk, .W = W, .X = X, .xs = xs, .Y = Y};
    atomic_init(&j.next, 0);
    ek_parallel_for(mm_task, &j);
}

void ek_matvec(int type, const void *W, int rows, int cols, const void *x, float *y) {
    ek_matmul(type, W, rows, cols, x, 1, 0, y, rows);
}
