// Matrix-vector and small-batch matrix products over the pool.
#include "ek_internal.h"
#include "ek_tiles.h"
#include <stdatomic.h>
#include <stdlib.h>

static inline int imin(int a, int b) { return a < b ? a : b; }

// Per-thread scratch (repacked activations, weight panels), grown on demand and kept (no
// allocation per call once warm).
typedef struct {
    uint8_t *p;
    size_t cap;
} scratch;
static _Thread_local scratch tl_pack, tl_panel;
static uint8_t *scratch_get(scratch *s, size_t bytes) {
    if (bytes > s->cap) {
        free(s->p);
        size_t cap = (bytes + 4095) & ~(size_t)4095;
        s->p = aligned_alloc(64, cap);
        s->cap = s->p ? cap : 0;
    }
    return s->p;
}

// ---- Quantized weights, several vectors: 8-row panels (ek_tiles.h) against the vectors
// EK_ROWLANE_MAXV at a time. From 2 vectors on they beat the one-vector tiles even on matrices
// far larger than the caches; one vector stays with those (they stream big matrices faster).
#define EK_ROWLANE_MIN 2
_Static_assert(EK_ROWLANE_MIN >= 2, "the out-of-memory fallback runs one vector at a time");
static int use_rowlane(int type, int nvec) { return nvec >= EK_ROWLANE_MIN && ek_panel_get(type, 0) != NULL; }

// All vectors packed group by group (every group EK_ROWLANE_MAXV wide but the last) into the
// thread's pack scratch; NULL when out of memory.
static const uint8_t *rowlane_pack(int type, int nb, const uint8_t *x, int nvec, size_t xs) {
    uint8_t *pk = scratch_get(&tl_pack, ek_pack_size(type, 1, nb) * (size_t)nvec);
    if (pk == NULL) return NULL;
    size_t off = 0;
    for (int v0 = 0; v0 < nvec; v0 += EK_ROWLANE_MAXV) {
        const int V = imin(EK_ROWLANE_MAXV, nvec - v0);
        const uint8_t *xp[EK_ROWLANE_MAXV];
        for (int v = 0; v < V; v++) xp[v] = x + (size_t)(v0 + v) * xs;
        ek_pack_act(type, V, nb, xp, pk + off);
        off += ek_pack_size(type, V, nb);
    }
    return pk;
}

// Rows [r0, r1): each group of R rows (8, or 16 on VNNI) is transposed once, then every vector
// group passes over it. Returns 0 (nothing done) when out of memory.
static int rowlane_rows(int type, const uint8_t *w, size_t wrow, int r0, int r1, int nb, const uint8_t *pk,
                        int nvec, float *Y, int ys) {
    // One choice of kernels for the whole product: panels and tiles must agree on the layout,
    // whatever another thread switches meanwhile.
    const int vnni = ek_vnni_enabled(), R = ek_panel_rows(vnni);
    uint8_t *panel = scratch_get(&tl_panel, ek_panel_size(type, nb, vnni));
    if (panel == NULL) return 0;
    const ek_panel_fn transpose = ek_panel_get(type, vnni);
    ek_rowlane_fn tiles[EK_ROWLANE_MAXV + 1];
    for (int V = 1; V <= EK_ROWLANE_MAXV; V++) tiles[V] = ek_rowlane_get(type, V, vnni);
    const int groups = (nvec + EK_ROWLANE_MAXV - 1) / EK_ROWLANE_MAXV;
    for (int r = r0; r < r1; r += R) {
        const int rn = imin(R, r1 - r);
        const uint8_t *wp[EK_PANEL_MAXR];
        for (int i = 0; i < R; i++) wp[i] = w + (size_t)(r + imin(i, rn - 1)) * wrow;
        transpose(nb, wp, wrow, panel);
        // R row streams defeat the hardware prefetcher, and building a panel stalls on them
        // when they come from memory: the next panel's rows are fetched while these tiles run, a
        // slice per vector group, and so are the output lines after this panel's (64 streams in a
        // vocabulary head over many vectors). 262,144 x 640 Q8_0 at 32 vectors: 78-95 -> 105-109
        // GFLOP/s on one thread.
        const char *next = (const char *)w + (size_t)(r + R) * wrow;
        const size_t nbytes = r + R < r1 ? (size_t)imin(R, r1 - r - R) * wrow : 0;
        const size_t slice = ((nbytes + groups - 1) / groups + 63) & ~(size_t)63;
        size_t pf = 0, off = 0;
        for (int v0 = 0; v0 < nvec; v0 += EK_ROWLANE_MAXV) {
            const int V = imin(EK_ROWLANE_MAXV, nvec - v0);
            for (const size_t end = pf + slice; pf < end && pf < nbytes; pf += 64) __builtin_prefetch(next + pf, 0, 3);
            if (r + 2 * R < r1)
                for (int v = 0; v < V; v++) __builtin_prefetch(Y + (size_t)(v0 + v) * ys + r + 2 * R, 1, 3);
            tiles[V](nb, panel, pk + off, Y + (size_t)v0 * ys + r, (size_t)ys, rn);
            off += ek_pack_size(type, V, nb);
        }
    }
    return 1;
}

// Rows [r0, r1) of one vector x in tiles of R rows; padding rows repeat the last real one (their
// lanes are computed and dropped).
static void run_rows(ek_tile_fn fn, int R, int nb, const uint8_t *w, size_t wrow, int r0, int r1, const uint8_t *x,
                     float *y) {
    const uint8_t *wp[EK_TILE_MAXR];
    float out[EK_TILE_MAXR];
    for (int r = r0; r < r1; r += R) {
        const int rn = imin(R, r1 - r);
        for (int i = 0; i < R; i++) wp[i] = w + (size_t)(r + imin(i, rn - 1)) * wrow;
        fn(nb, wp, wrow, x, out);
        for (int i = 0; i < rn; i++) y[r + i] = out[i];
    }
}

// Rows [r0, r1) against nvec vectors, on the calling thread. rl_pk: the vectors packed by
// rowlane_pack when use_rowlane (NULL: pack them here).
static void matmul_rows(int type, const void *W, int r0, int r1, int cols, const void *X, int nvec, size_t xs,
                        float *Y, int ys, const uint8_t *rl_pk) {
    const int bs = ek_block_size(type);
    if (bs == 0 || r1 <= r0 || nvec <= 0) return;
    const size_t wrow = ek_row_size(type, cols);
    const uint8_t *w = (const uint8_t *)W;
    const uint8_t *x = (const uint8_t *)X;
    const int nb = cols / bs;

    if (use_rowlane(type, nvec)) {
        if (rl_pk == NULL) rl_pk = rowlane_pack(type, nb, x, nvec, xs);
        if (rl_pk != NULL && rowlane_rows(type, w, wrow, r0, r1, nb, rl_pk, nvec, Y, ys)) return;
        // out of memory: one vector at a time
        for (int v = 0; v < nvec; v++)
            matmul_rows(type, W, r0, r1, cols, x + (size_t)v * xs, 1, xs, Y + (size_t)v * ys, ys, NULL);
        return;
    }

    // One vector (several take the row lanes above): legacy quants in 4-row tiles, K-quants row
    // by row. Float weights (or no SIMD): plain dots, for any number of vectors.
    const ek_tile_fn four = ek_tile_get(type, 4), one = ek_tile_get(type, 1);
    for (int v = 0; v < nvec; v++) {
        const uint8_t *xv = x + (size_t)v * xs;
        float *y = Y + (size_t)v * ys;
        if (four != NULL || one != NULL) {
            run_rows(four != NULL ? four : one, four != NULL ? 4 : 1, nb, w, wrow, r0, r1, xv, y);
        } else {
            for (int r = r0; r < r1; r++) y[r] = ek_vec_dot(type, cols, w + (size_t)r * wrow, xv);
        }
    }
}

void ek_matmul_rows(int type, const void *W, int r0, int r1, int cols, const void *X, int nvec, size_t xs,
                    float *Y, int ys) {
    matmul_rows(type, W, r0, r1, cols, X, nvec, xs, Y, ys, NULL);
}

typedef struct {
    int type, rows, cols, nvec, ys, chunk, nchunks;
    const void *W, *X;
    size_t xs;
    float *Y;
    const uint8_t *rl_pk;
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
        matmul_rows(j->type, j->W, r0, r1, j->cols, j->X, j->nvec, j->xs, j->Y, j->ys, j->rl_pk);
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
    // About 4 chunks per thread, each a multiple of 16 rows (whole row-lane panels).
    int chunk = (rows + 4 * nth - 1) / (4 * nth);
    chunk = (chunk + 15) & ~15;
    // The vectors are packed once here for all threads (each thread packs for itself otherwise).
    const uint8_t *rl_pk = NULL;
    if (use_rowlane(type, nvec)) rl_pk = rowlane_pack(type, cols / ek_block_size(type), X, nvec, xs);
    mm_job j = {.type = type, .rows = rows, .cols = cols, .nvec = nvec, .ys = ys, .chunk = chunk,
                .nchunks = (rows + chunk - 1) / chunk, .W = W, .X = X, .xs = xs, .Y = Y, .rl_pk = rl_pk};
    atomic_init(&j.next, 0);
    ek_parallel_for(mm_task, &j);
}

void ek_matvec(int type, const void *W, int rows, int cols, const void *x, float *y) {
    ek_matmul(type, W, rows, cols, x, 1, 0, y, rows);
}
