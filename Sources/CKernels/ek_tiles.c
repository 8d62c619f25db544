// AVX2 tile kernels. Templates are always_inline functions instantiated with constant shapes;
// clang unrolls the row/vector loops and keeps the accumulators in registers.
//
// Canonical arithmetic (shared with the scalar twins in ek_dot.c), per (row, vector):
//   32-element blocks: i = exact int sum of q_w*q_x;  t = (float)i * (d_w*d_x)  [+ m_w*s_x for Q4_1/Q5_1]
//   K-quants:          t = (float)isum * (d*d_x) [- (float)imin * (dmin*d_x) for Q4_K/Q5_K]
//   acc = acc + t, block by block, from 0.  (No fused multiply-adds: each step is rounded.)
#include "ek_internal.h"
#include "ek_tiles.h"
#include <stdlib.h>

#if EK_AVX2

enum { K40, K41, K50, K51, K80, KQ4, KQ5, KQ6 };

#define WBS(kind) ((kind) == K40 ? 18 : (kind) == K41 ? 20 : (kind) == K50 ? 22 : (kind) == K51 ? 24 : 34)
#define T1(kind) ((kind) == K41 || (kind) == K51)  // type-1: w = d*q + m, paired with Q8_1

// Weight block -> its 32 stored quants: unsigned 4 or 5 bits (Q4_0 / Q5_0 still offset by 8 / 16),
// signed bytes for Q8_0.
EK_INLINE __m256i leg_raw(const int kind, const uint8_t *p) {
    switch (kind) {
    case K40: return ek_unpack_nibbles(p + 2);
    case K41: return ek_unpack_nibbles(p + 4);
    case K50: {
        __m256i hb = _mm256_and_si256(ek_bits_to_bytes(ek_ld32(p + 2)), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(ek_unpack_nibbles(p + 6), hb);
    }
    case K51: {
        __m256i hb = _mm256_and_si256(ek_bits_to_bytes(ek_ld32(p + 4)), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(ek_unpack_nibbles(p + 8), hb);
    }
    default: return _mm256_loadu_si256((const __m256i *)(p + 2));
    }
}
// The offset the type-0 formats store their quants with (8 for Q4_0, 16 for Q5_0; 0 otherwise).
#define OFFSET(kind) ((kind) == K40 ? 8 : (kind) == K50 ? 16 : 0)

// Weight block -> 32 quants (unsigned for type-1, signed for type-0).
EK_INLINE __m256i leg_quants(const int kind, const uint8_t *p) {
    const __m256i q = leg_raw(kind, p);
    return OFFSET(kind) ? _mm256_sub_epi8(q, _mm256_set1_epi8(OFFSET(kind))) : q;
}

// Exact per-lane partial sums (8 x int32) of one weight block times one activation block.
EK_INLINE __m256i leg_psum(const int kind, __m256i wq, __m256i wabs, const uint8_t *xb) {
    const __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + (T1(kind) ? 4 : 2)));
    const __m256i pr = T1(kind) ? _mm256_maddubs_epi16(wq, xq) : _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(xq, wq));
    return _mm256_madd_epi16(pr, _mm256_set1_epi16(1));
}

// 4 vectors of 8 int32 -> [sum a0..3, sum b0..3, sum c0..3, sum d0..3 | the same over lanes 4..7]
EK_INLINE __m256i reduce4(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
    __m256i cd = _mm256_add_epi32(_mm256_unpacklo_epi32(c, d), _mm256_unpackhi_epi32(c, d));
    return _mm256_add_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd));
}
EK_INLINE __m128i fold(__m256i h) { return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)); }

// The two halves at the start of 4 blocks -> ([first0..3], [second0..3]): (d, m) of weights,
// (d, s) of Q8_1, (d, junk) of the type-0 formats.
EK_INLINE void scales4(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d, __m128 *first,
                       __m128 *second) {
    __m128i ab = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)ek_ld32(a)), _mm_cvtsi32_si128((int)ek_ld32(b)));
    __m128i cd = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)ek_ld32(c)), _mm_cvtsi32_si128((int)ek_ld32(d)));
    __m256 f = _mm256_permutevar8x32_ps(_mm256_cvtph_ps(_mm_unpacklo_epi64(ab, cd)), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    *first = _mm256_castps256_ps128(f);
    *second = _mm256_extractf128_ps(f, 1);
}

// The canonical block terms for 4 lanes.
EK_INLINE __m128 leg_terms(const int kind, __m128i isum, __m128 dw, __m128 mw, __m128 dx, __m128 sx) {
    __m128 t = _mm_mul_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(dw, dx));
    if (T1(kind)) t = _mm_add_ps(t, _mm_mul_ps(mw, sx));
    return t;
}
EK_INLINE __m256 leg_terms8(const int kind, __m256i isum, __m256 dw, __m256 mw, __m256 dx, __m256 sx) {
    __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, dx));
    if (T1(kind)) t = _mm256_add_ps(t, _mm256_mul_ps(mw, sx));
    return t;
}

// ---- one row . one vector: lanes are 4 consecutive blocks, their terms added in order
EK_INLINE float leg_dot(const int kind, int nb, const uint8_t *w, const uint8_t *x) {
    const size_t wbs = WBS(kind), xbs = T1(kind) ? 36 : 34;
    float acc = 0.0f;
    int b = 0;
    for (; b + 4 <= nb; b += 4) {
        __m256i s[4];
        for (int i = 0; i < 4; i++) {
            const __m256i wq = leg_quants(kind, w + (b + i) * wbs);
            s[i] = leg_psum(kind, wq, _mm256_sign_epi8(wq, wq), x + (b + i) * xbs);
        }
        __m128 dw, mw, dx, sx;
        const uint8_t *wb = w + b * wbs, *xb = x + b * xbs;
        scales4(wb, wb + wbs, wb + 2 * wbs, wb + 3 * wbs, &dw, &mw);
        scales4(xb, xb + xbs, xb + 2 * xbs, xb + 3 * xbs, &dx, &sx);
        __m128 t = leg_terms(kind, fold(reduce4(s[0], s[1], s[2], s[3])), dw, mw, dx, sx);
        acc = acc + _mm_cvtss_f32(t);
        acc = acc + _mm_cvtss_f32(_mm_movehdup_ps(t));
        acc = acc + _mm_cvtss_f32(_mm_movehl_ps(t, t));
        acc = acc + _mm_cvtss_f32(_mm_shuffle_ps(t, t, 3));
    }
    for (; b < nb; b++) {
        const __m256i wq = leg_quants(kind, w + b * wbs);
        const int isum = ek_hsum8i(leg_psum(kind, wq, _mm256_sign_epi8(wq, wq), x + b * xbs));
        const __m128 wdm = ek_h2f_pair(w + b * wbs), xds = ek_h2f_pair(x + b * xbs);
        float t = (float)isum * (_mm_cvtss_f32(wdm) * _mm_cvtss_f32(xds));
        if (T1(kind)) t = t + _mm_cvtss_f32(_mm_movehdup_ps(wdm)) * _mm_cvtss_f32(_mm_movehdup_ps(xds));
        acc = acc + t;
    }
    return acc;
}

// ---- 4 rows x 1 vector (matvec): lanes are rows
// The 4-row tiles' steps around their integer sums (shared with legv_4x1). Four interleaved row
// streams defeat the hardware prefetcher: sweep the rows after this tile (where the next tile
// reads) at the pace this tile consumes its own.
EK_INLINE void leg4_prefetch(const int kind, const uint8_t *const *w, size_t ws, int b) {
    const size_t wbs = WBS(kind);
    const char *pf = (const char *)w[0] + 4 * ws + (size_t)b * 4 * wbs;
    _mm_prefetch(pf, _MM_HINT_T0);
    if (4 * wbs > 64) _mm_prefetch(pf + 64, _MM_HINT_T0);
}
// Block b's canonical terms for the 4 rows from their exact lane sums s[0..3] (8 lanes each).
EK_INLINE __m128 leg4_terms(const int kind, const uint8_t *const *w, int b, const uint8_t *xb, const __m256i *s) {
    const size_t wbs = WBS(kind);
    __m128 dw, mw;
    scales4(w[0] + b * wbs, w[1] + b * wbs, w[2] + b * wbs, w[3] + b * wbs, &dw, &mw);
    const __m128 xds = ek_h2f_pair(xb);
    const __m128 dx = _mm_broadcastss_ps(xds), sx = _mm_broadcastss_ps(_mm_movehdup_ps(xds));
    return leg_terms(kind, fold(reduce4(s[0], s[1], s[2], s[3])), dw, mw, dx, sx);
}
EK_INLINE void leg4_store(__m128 acc, float *out) {
    float t[4];
    _mm_storeu_ps(t, acc);
    for (int r = 0; r < 4; r++) out[r] = t[r];
}

EK_INLINE void leg_4x1(const int kind, int nb, const uint8_t *const *w, size_t ws, const uint8_t *x, float *out) {
    const size_t wbs = WBS(kind), xbs = T1(kind) ? 36 : 34;
    __m128 acc = _mm_setzero_ps();
    for (int b = 0; b < nb; b++) {
        leg4_prefetch(kind, w, ws, b);
        const uint8_t *xb = x + b * xbs;
        __m256i s[4];
        for (int r = 0; r < 4; r++) {
            const __m256i wq = leg_quants(kind, w[r] + b * wbs);
            s[r] = leg_psum(kind, wq, _mm256_sign_epi8(wq, wq), xb);
        }
        acc = _mm_add_ps(acc, leg4_terms(kind, w, b, xb, s));
    }
    leg4_store(acc, out);
}

// ---- many vectors: 8 weight rows in the lanes. A panel holds 8 rows transposed once, so that
// register g of block b has, in dword lane r, quants 4g..4g+3 of row r; then every vector costs
// per block and quad g one broadcast of its own 4 quants and one maddubs for all 8 rows, and no
// horizontal sums. Panel block: [8 x 32 quant bytes][d of the 8 rows][m of the 8 rows], floats.
#define PANEL_BLOCK 320

// 8 registers of 8 dwords: m[r] dword g -> m[g] dword r.
EK_INLINE void transpose8x8_epi32(__m256i *m) {
    __m256i t[8], s[8];
    for (int k = 0; k < 4; k++) {
        t[2 * k] = _mm256_unpacklo_epi32(m[2 * k], m[2 * k + 1]);      // per lane: r0d0 r1d0 r0d1 r1d1
        t[2 * k + 1] = _mm256_unpackhi_epi32(m[2 * k], m[2 * k + 1]);  //           r0d2 r1d2 r0d3 r1d3
    }
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 2; k++) {  // rows 4h..4h+3: dwords k, k+1 (low lanes) and k+4, k+5
            s[4 * h + 2 * k] = _mm256_unpacklo_epi64(t[4 * h + k], t[4 * h + k + 2]);
            s[4 * h + 2 * k + 1] = _mm256_unpackhi_epi64(t[4 * h + k], t[4 * h + k + 2]);
        }
    for (int g = 0; g < 4; g++) {
        m[g] = _mm256_permute2x128_si256(s[g], s[4 + g], 0x20);
        m[g + 4] = _mm256_permute2x128_si256(s[g], s[4 + g], 0x31);
    }
}

// Block b of the 8 rows w[0..7] (ws bytes apart in the matrix) into a panel whose quad registers
// are gs bytes apart: 32 in an 8-row panel; 64 in a 16-row one, whose rows 8..15 are a second
// call at dst + 32 (then d of the 16 rows at 8 * gs, m at 9 * gs, as in the 8-row layout).
EK_INLINE void panel_block(const int kind, const uint8_t *const *w, size_t ws, int b, uint8_t *dst, const size_t gs) {
    const size_t o = (size_t)b * WBS(kind);
    __m256i g[8];
    if (kind == K40 || kind == K41) {
        // 4-bit: transpose the packed bytes (rows r and r+4 share a register), then split the
        // nibbles: dword j holds elements 4j..4j+3 (low nibbles) and 16+4j.. (high nibbles).
        const size_t qo = o + (T1(kind) ? 4 : 2);
        __m256i p[4], t[4];
        for (int r = 0; r < 4; r++)
            p[r] = _mm256_loadu2_m128i((const __m128i *)(w[r + 4] + qo), (const __m128i *)(w[r] + qo));
        t[0] = _mm256_unpacklo_epi32(p[0], p[1]);
        t[1] = _mm256_unpackhi_epi32(p[0], p[1]);
        t[2] = _mm256_unpacklo_epi32(p[2], p[3]);
        t[3] = _mm256_unpackhi_epi32(p[2], p[3]);
        const __m256i m4 = _mm256_set1_epi8(0x0F);
        for (int j = 0; j < 4; j++) {  // dword j of rows 0, 1 (4, 5) and of rows 2, 3 (6, 7) -> of all 8
            const __m256i r01 = t[j >> 1], r23 = t[2 + (j >> 1)];
            const __m256i c = (j & 1) ? _mm256_unpackhi_epi64(r01, r23) : _mm256_unpacklo_epi64(r01, r23);
            g[j] = _mm256_and_si256(c, m4);
            g[j + 4] = _mm256_and_si256(_mm256_srli_epi16(c, 4), m4);
        }
    } else {
        for (int r = 0; r < 8; r++) g[r] = leg_raw(kind, w[r] + o);
        transpose8x8_epi32(g);
    }
    for (int k = 0; k < 8; k++) _mm256_store_si256((__m256i *)(dst + gs * k), g[k]);
    __m128 d0, m0, d1, m1;
    scales4(w[0] + o, w[1] + o, w[2] + o, w[3] + o, &d0, &m0);
    scales4(w[4] + o, w[5] + o, w[6] + o, w[7] + o, &d1, &m1);
    _mm256_store_ps((float *)(dst + 8 * gs), _mm256_set_m128(d1, d0));
    if (T1(kind)) _mm256_store_ps((float *)(dst + 9 * gs), _mm256_set_m128(m1, m0));
}
EK_INLINE void rl_panel(const int kind, int nb, const uint8_t *const *w, size_t ws, uint8_t *panel) {
    for (int b = 0; b < nb; b++) panel_block(kind, w, ws, b, panel + (size_t)b * PANEL_BLOCK, 32);
}

// Int16 pair sums of quads g0..g1-1 of a panel block against V packed activation blocks (vector
// v's quants at q + xs*v). 4-bit weights: 8 quads of |q_w*q_x + q_w'*q_x'| <= 2*15*128 fit in
// int16; 5-bit: 4 quads; 6-bit: 2 quads.
EK_INLINE void rl_sums16(const int V, const uint8_t *wb, const uint8_t *q, const int xs, int g0, int g1, __m256i *s) {
    for (int v = 0; v < V; v++) s[v] = _mm256_setzero_si256();
    for (int g = g0; g < g1; g++) {
        const __m256i wq = _mm256_load_si256((const __m256i *)(wb + 32 * g));
        for (int v = 0; v < V; v++) {
            const __m256i xq = _mm256_set1_epi32((int)ek_ld32(q + xs * v + 4 * g));
            s[v] = _mm256_add_epi16(s[v], _mm256_maddubs_epi16(wq, xq));
        }
    }
}

// Row-lane accumulators (lane r: row r) of V vectors -> y[v*ys + r] for r < rn.
EK_INLINE void rl_store(const int V, const __m256 *acc, float *y, size_t ys, int rn) {
    for (int v = 0; v < V; v++) {
        if (rn == 8) {
            _mm256_storeu_ps(y + v * ys, acc[v]);
        } else {
            float t[8];
            _mm256_storeu_ps(t, acc[v]);
            for (int r = 0; r < rn; r++) y[v * ys + r] = t[r];
        }
    }
}

// One block's terms from its exact integer sums is[v] (lane r: row r), added to acc[v] in block order.
EK_INLINE void rl_add_terms(const int kind, const int V, const uint8_t *wb, const uint8_t *q, __m256i *is, __m256 *acc) {
    const __m256 dw = _mm256_load_ps((const float *)(wb + 256));
    const __m256 mw = T1(kind) ? _mm256_load_ps((const float *)(wb + 288)) : dw;
    const float *dx = (const float *)(q + 32 * V), *sx = dx + V;
    for (int v = 0; v < V; v++) {
        // type-0 offsets: the packed slot holds OFFSET * sum(q_x) as an int
        if (OFFSET(kind)) is[v] = _mm256_sub_epi32(is[v], _mm256_set1_epi32((int)ek_ld32(sx + v)));
        const __m256 t = leg_terms8(kind, is[v], dw, mw, _mm256_broadcast_ss(dx + v), _mm256_broadcast_ss(sx + v));
        acc[v] = _mm256_add_ps(acc[v], t);
    }
}

// 8 rows (a panel) x V vectors (packed as by ek_pack_act): y[v*ys + r] for r < rn.
EK_INLINE void rl_tile(const int kind, const int V, int nb, const uint8_t *panel, const uint8_t *pk, float *y,
                       size_t ys, int rn) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = panel + (size_t)b * PANEL_BLOCK, *q = pk + (size_t)b * V * 40;
        __m256i is[4];
        if (kind == K40 || kind == K41) {
            rl_sums16(V, wb, q, 32, 0, 8, is);
            for (int v = 0; v < V; v++) is[v] = _mm256_madd_epi16(is[v], ones);
        } else if (kind == K50 || kind == K51) {
            __m256i s[4];
            rl_sums16(V, wb, q, 32, 0, 4, is);
            rl_sums16(V, wb, q, 32, 4, 8, s);
            for (int v = 0; v < V; v++)
                is[v] = _mm256_add_epi32(_mm256_madd_epi16(is[v], ones), _mm256_madd_epi16(s[v], ones));
        } else {  // Q8_0, signed x signed: |w| x sign(x, w), one pair sum (|q_x| <= 127) nearly fills int16
            // so widen every quad.
            // Measured limit (Zen 2, microbenchmarks): maddubs and madd issue on 2 pipes that FMAs
            // also contend for, and psign/add compete with them too; this loop runs at ~3 vector ops
            // per cycle, 4 ops per 32 products. Tried and not faster: fp32 FMA rows interleaved with
            // these (fewer products per cycle), int16 weights with one madd per 2 quants over
            // 16-row panels (madd + add: the same op count; tile +3 %, matmul +2 % at 64 vectors,
            // -15 % at 2), |w| stored in the panel instead of psign (within noise).
            for (int v = 0; v < V; v++) is[v] = _mm256_setzero_si256();
            for (int g = 0; g < 8; g++) {
                const __m256i wq = _mm256_load_si256((const __m256i *)(wb + 32 * g));
                const __m256i wa = _mm256_sign_epi8(wq, wq);
                for (int v = 0; v < V; v++) {
                    const __m256i xq = _mm256_set1_epi32((int)ek_ld32(q + 32 * v + 4 * g));
                    const __m256i pr = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(xq, wq));
                    is[v] = _mm256_add_epi32(is[v], _mm256_madd_epi16(pr, ones));
                }
            }
        }
        rl_add_terms(kind, V, wb, q, is, acc);
    }
    rl_store(V, acc, y, ys, rn);
}

// AVX-512 VNNI, chosen at run time where the CPU has it: 16 rows in the lanes of a 512-bit
// register (PANEL16_BLOCK bytes a block: the 8-row layout with 64-byte quad registers, rows 8..15
// in their upper halves), and one vpdpbusd per quad and vector, with the activation quad as its
// broadcast memory operand, does what maddubs + madd (and the int16 stage) do above for 8 rows.
// Q8_0 is signed x signed: its weights go in biased by 128 (w ^ 0x80, unsigned), and 128 * sum(q_x),
// which the packed slot holds, comes off the block's sum (AVX2: broadcast, psign, maddubs, madd,
// add). Every integer sum is the same exact one and every float step the same, so the tiles equal
// rl_tile's bit for bit (tested against each other and the scalar twins). Twice the rows per
// instruction halves the loads and the instructions per product: on a Zen 4 core, whose 512-bit
// operations take two passes, the Q8_0 head (262,144 x 640) at 32 / 64 vectors went from 233-235 /
// 236-248 GFLOP/s on 8-row 256-bit tiles to 268-274 / 321-323.
#define EK_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define PANEL16_BLOCK (2 * PANEL_BLOCK)
EK_INLINE void rlz_panel(const int kind, int nb, const uint8_t *const *w, size_t ws, uint8_t *panel) {
    for (int b = 0; b < nb; b++) {
        panel_block(kind, w, ws, b, panel + (size_t)b * PANEL16_BLOCK, 64);
        panel_block(kind, w + 8, ws, b, panel + (size_t)b * PANEL16_BLOCK + 32, 64);
    }
}
// 16 rows (a 16-row panel) x V vectors (packed as by ek_pack_act): y[v*ys + r] for r < rn.
EK_VNNI_TARGET EK_INLINE void rlz_tile(const int kind, const int V, int nb, const uint8_t *panel, const uint8_t *pk,
                                       float *y, size_t ys, int rn) {
    const int biased = OFFSET(kind) != 0 || kind == K80;
    __m512 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = panel + (size_t)b * PANEL16_BLOCK, *q = pk + (size_t)b * V * 40;
        __m512i is[4];
        for (int v = 0; v < V; v++) is[v] = _mm512_setzero_si512();
        for (int g = 0; g < 8; g++) {
            const __m512i wq = _mm512_load_si512((const void *)(wb + 64 * g));
            const __m512i wu = kind == K80 ? _mm512_xor_si512(wq, _mm512_set1_epi8((char)0x80)) : wq;
            for (int v = 0; v < V; v++)
                is[v] = _mm512_dpbusd_epi32(is[v], wu, _mm512_set1_epi32((int)ek_ld32(q + 32 * v + 4 * g)));
        }
        // the block's terms, as rl_add_terms
        const __m512 dw = _mm512_load_ps((const float *)(wb + 512));
        const __m512 mw = T1(kind) ? _mm512_load_ps((const float *)(wb + 576)) : dw;
        const float *dx = (const float *)(q + 32 * V), *sx = dx + V;
        for (int v = 0; v < V; v++) {
            if (biased) is[v] = _mm512_sub_epi32(is[v], _mm512_set1_epi32((int)ek_ld32(sx + v)));
            __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(is[v]), _mm512_mul_ps(dw, _mm512_set1_ps(dx[v])));
            if (T1(kind)) t = _mm512_add_ps(t, _mm512_mul_ps(mw, _mm512_set1_ps(sx[v])));
            acc[v] = _mm512_add_ps(acc[v], t);
        }
    }
    const __mmask16 m = (__mmask16)((1u << rn) - 1);
    for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(y + v * ys, m, acc[v]);
}

// 4 rows x 1 vector on VNNI: each row's 32 stored quants (unsigned; Q8_0's biased by 128) go into
// one vpdpbusd against the block's activations, whose lanes start at -OFFSET * (their 4 quants'
// sum) (-128 * for Q8_0), computed once per block for the 4 rows. The lane sums then equal
// leg_4x1's exact ones, and so does everything after them (AVX2: unpack, psign, maddubs, madd).
EK_VNNI_TARGET EK_INLINE void legv_4x1(const int kind, int nb, const uint8_t *const *w, size_t ws, const uint8_t *x,
                                       float *out) {
    const size_t wbs = WBS(kind), xbs = T1(kind) ? 36 : 34;
    const int bias = kind == K80 ? 128 : OFFSET(kind);
    __m128 acc = _mm_setzero_ps();
    for (int b = 0; b < nb; b++) {
        leg4_prefetch(kind, w, ws, b);
        const uint8_t *xb = x + b * xbs;
        const __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + (T1(kind) ? 4 : 2)));
        __m256i start = _mm256_setzero_si256();
        if (bias) start = _mm256_sub_epi32(start, _mm256_dpbusd_epi32(start, _mm256_set1_epi8((char)bias), xq));
        __m256i s[4];
        for (int r = 0; r < 4; r++) {
            const __m256i raw = leg_raw(kind, w[r] + b * wbs);
            s[r] = _mm256_dpbusd_epi32(start, kind == K80 ? _mm256_xor_si256(raw, _mm256_set1_epi8((char)0x80)) : raw, xq);
        }
        acc = _mm_add_ps(acc, leg4_terms(kind, w, b, xb, s));
    }
    leg4_store(acc, out);
}

// ---------------------------------------------------------------- K-quants, one row . one vector
// Q4_K / Q5_K: 8 six-bit scales and mins from 12 bytes, with 32-bit word arithmetic.
EK_INLINE void k4_scales_vec(const uint8_t *s12, __m128i *sc16, __m256i *mins_pairs) {
    uint32_t a0 = ek_ld32(s12), a1 = ek_ld32(s12 + 4), a2 = ek_ld32(s12 + 8);
    uint32_t sc_lo = a0 & 0x3F3F3F3Fu;
    uint32_t mn_lo = a1 & 0x3F3F3F3Fu;
    uint32_t sc_hi = (a2 & 0x0F0F0F0Fu) | (((a0 >> 6) & 0x03030303u) << 4);
    uint32_t mn_hi = ((a2 >> 4) & 0x0F0F0F0Fu) | (((a1 >> 6) & 0x03030303u) << 4);
    __m128i v = _mm_set_epi32((int)mn_hi, (int)mn_lo, (int)sc_hi, (int)sc_lo);  // bytes: sc0..7, m0..7
    *sc16 = _mm_cvtepu8_epi16(v);                                              // 8 scales as int16
    __m128i m16 = _mm_cvtepu8_epi16(_mm_srli_si128(v, 8));
    // each min twice: it multiplies the two 16-element bsums of its sub-block
    *mins_pairs = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
}
// Broadcast int16 element k of a 128-bit vector to all 16 lanes of a 256-bit vector.
EK_INLINE __m256i bcast16(__m128i v, int k) {
    __m128i s = _mm_shuffle_epi8(v, _mm_set1_epi16((short)((2 * k) | ((2 * k + 1) << 8))));
    return _mm256_broadcastsi128_si256(s);
}

EK_INLINE float dot_q4_K(const int hi5, int nb, const uint8_t *w, const uint8_t *x) {
    const size_t wbs = hi5 ? sizeof(ek_block_q5_K) : sizeof(ek_block_q4_K);
    float acc = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0F), b4 = _mm256_set1_epi8(0x10);
    for (int b = 0; b < nb; b++) {
        const uint8_t *p = w + b * wbs;
        const ek_block_q8_K *xb = (const ek_block_q8_K *)x + b;
        for (size_t o = 0; o < wbs; o += 64) _mm_prefetch((const char *)p + 4 * wbs + o, _MM_HINT_T0);
        const __m128 ddm = ek_h2f_pair(p);
        __m128i sc16;
        __m256i minp;
        k4_scales_vec(p + 4, &sc16, &minp);
        const uint8_t *qs = p + 16 + (hi5 ? 32 : 0);
        __m256i qh = hi5 ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (hi5) {
                // bits 2c / 2c+1 of qh -> bit 4 (a 16-bit shift leaves bit 4 of each byte from its own byte)
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(qh, 4), b4));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(qh, 3), b4));
                qh = _mm256_srli_epi16(qh, 2);
            }
            const __m256i s0 = bcast16(sc16, 2 * c), s1 = bcast16(sc16, 2 * c + 1);
            const int8_t *xq = xb->qs + 64 * c;
            __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)xq));
            __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xq + 32)));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
        }
        const __m256i imin = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)xb->bsums), minp);
        const float d = _mm_cvtss_f32(ddm), dmin = _mm_cvtss_f32(_mm_movehdup_ps(ddm));
        acc = acc + ((float)ek_hsum8i(isum) * (d * xb->d) - (float)ek_hsum8i(imin) * (dmin * xb->d));
    }
    return acc;
}

EK_INLINE float dot_q6_K(int nb, const uint8_t *w, const uint8_t *x) {
    float acc = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int b = 0; b < nb; b++) {
        const ek_block_q6_K *wb = (const ek_block_q6_K *)w + b;
        const ek_block_q8_K *xb = (const ek_block_q8_K *)x + b;
        for (int o = 0; o < 210; o += 64) _mm_prefetch((const char *)(wb + 4) + o, _MM_HINT_T0);
        // d is the block's last field: load the 4 bytes ending there and take the upper half
        const float d = _mm_cvtss_f32(_mm_movehdup_ps(ek_h2f_pair((const uint8_t *)&wb->d - 2)));
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)wb->scales);
        // quants are stored +32: start from -32 * sum_g sc[g] * bsum[g]
        const __m256i corr =
            _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)xb->bsums), _mm256_cvtepi8_epi16(sc8));
        __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
            for (int k = 0; k < 4; k++) {
                // int16 scale vector: sc[2j] for the first 16 elements, sc[2j+1] for the next 16
                const int j = 4 * h + k;
                const __m128i pat = _mm_set_epi64x(0x0101010101010101LL * (2 * j + 1), 0x0101010101010101LL * (2 * j));
                const __m256i sv = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pat));
                __m256i pr = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(xb->qs + 32 * j)));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pr, sv));
            }
        }
        acc = acc + (float)ek_hsum8i(isum) * (d * xb->d);
    }
    return acc;
}

// ---------------------------------------------------------------- K-quants, several vectors: row lanes
// The row-lane scheme of the 32-element types over 256-element super-blocks. A panel block holds
// one super-block of the 8 rows as 32-byte registers whose dword lane r belongs to row r:
//   Q4_K / Q5_K (KPANEL4 bytes):
//     registers 0..63    register 8s+g: quants 32s+4g..32s+4g+3 (sub-block s, quad g) as unsigned
//                        bytes (4 or 5 bits)
//     registers 64..71   the scale of sub-block s, an int16 in both halves of the dword
//     registers 72..75   the mins of sub-blocks 2k and 2k+1, int16 in the low and high half
//     registers 76, 77   d, dmin as floats
//   Q6_K (KPANEL6 bytes):
//     registers 0..63    quants as above: 6 bits, still offset by 32 (0..63)
//     registers 64..79   the (signed) scale of 16-element group j (quads 4j..4j+3) in both halves
//     registers 80..87   the scales of groups 2k and 2k+1 in the low and high half
//     register 88        d as floats
// Per vector and quad, one broadcast of its 4 quants and one maddubs for all 8 rows; int16 sums over
// as many quads as fit (8 for 4 bits, 4 for 5, 2 for 6) meet their scales in one madd. Activations
// are packed per super-block as [V x 256 quants][V x 16 int16 sums][V x float d]: the sums are those
// of the 8 sub-blocks of 32 (Q4_K / Q5_K, against the mins) or the 16 bsums (Q6_K, against the
// scales: they remove the offset 32 from the quants).
#define KPANEL4 (78 * 32)
#define KPANEL6 (89 * 32)
#define KPACK 292  // packed bytes per vector and super-block

// Bytes k0 and k1 of every dword of v as int16 in its low and high half (sign-extended when sgn).
#define DWORD_BYTES(d, k0, k1) (int)(0x00800080u | (uint32_t)(4 * (d) + (k0)) << 8 | (uint32_t)(4 * (d) + (k1)) << 24)
EK_INLINE __m256i dword_bytes16(__m256i v, const int k0, const int k1, const int sgn) {
    const __m256i pat = _mm256_setr_epi32(DWORD_BYTES(0, k0, k1), DWORD_BYTES(1, k0, k1), DWORD_BYTES(2, k0, k1),
                                          DWORD_BYTES(3, k0, k1), DWORD_BYTES(0, k0, k1), DWORD_BYTES(1, k0, k1),
                                          DWORD_BYTES(2, k0, k1), DWORD_BYTES(3, k0, k1));
    const __m256i t = _mm256_shuffle_epi8(v, pat);  // each byte into the high byte of its int16
    return sgn ? _mm256_srai_epi16(t, 8) : _mm256_srli_epi16(t, 8);
}
// Register k of a panel block whose registers are gs bytes apart (32; 64 in a 16-row panel, whose
// rows 8..15 are the upper halves, written by a second call at dst + 32).
EK_INLINE void kstore(uint8_t *dst, size_t gs, int k, __m256i v) { _mm256_store_si256((__m256i *)(dst + gs * k), v); }

// The 16 bytes at p[r] + o of the 8 rows -> m[0..3] with row r's dword g in dword lane r of m[g]:
// rows r and r+4 share a register, then a 4 x 4 transpose within each 128-bit lane.
EK_INLINE void load_transpose4(const uint8_t *const *p, size_t o, __m256i *m) {
    __m256i a[4], t[4];
    for (int r = 0; r < 4; r++)
        a[r] = _mm256_loadu2_m128i((const __m128i *)(p[r + 4] + o), (const __m128i *)(p[r] + o));
    t[0] = _mm256_unpacklo_epi32(a[0], a[1]);  // per lane: r0d0 r1d0 r0d1 r1d1
    t[1] = _mm256_unpackhi_epi32(a[0], a[1]);  //           r0d2 r1d2 r0d3 r1d3
    t[2] = _mm256_unpacklo_epi32(a[2], a[3]);
    t[3] = _mm256_unpackhi_epi32(a[2], a[3]);
    m[0] = _mm256_unpacklo_epi64(t[0], t[2]);
    m[1] = _mm256_unpackhi_epi64(t[0], t[2]);
    m[2] = _mm256_unpacklo_epi64(t[1], t[3]);
    m[3] = _mm256_unpackhi_epi64(t[1], t[3]);
}
// The same for 32 bytes -> m[0..7].
EK_INLINE void load_transpose8(const uint8_t *const *p, size_t o, __m256i *m) {
    load_transpose4(p, o, m);
    load_transpose4(p, o + 16, m + 4);
}

// Super-block b of the 8 rows w[0..7] of Q4_K (hi5 = 0) or Q5_K (hi5 = 1) into a panel block
// (registers gs bytes apart, as kstore).
EK_INLINE void kpanel4_block(const int hi5, const uint8_t *const *w, size_t ws, int b, uint8_t *dst, const size_t gs) {
    const size_t wbs = hi5 ? sizeof(ek_block_q5_K) : sizeof(ek_block_q4_K), o = (size_t)b * wbs;
    const uint8_t *p[8];  // a local copy: the byte stores below could alias w[]
    for (int r = 0; r < 8; r++) p[r] = w[r] + o;
    // qs chunk c: low nibbles are sub-block 2c, high nibbles sub-block 2c+1
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; c++) {
        __m256i m[8];
        load_transpose8(p, (hi5 ? 48 : 16) + 32 * c, m);
        for (int g = 0; g < 8; g++) {
            kstore(dst, gs, 16 * c + g, _mm256_and_si256(m[g], m4));
            kstore(dst, gs, 16 * c + 8 + g, _mm256_and_si256(_mm256_srli_epi16(m[g], 4), m4));
        }
    }
    if (hi5) {  // bit s of qh byte l is bit 4 of element l of sub-block s
        __m256i m[8];
        load_transpose8(p, 16, m);
        const __m256i b4 = _mm256_set1_epi8(0x10);
        for (int s = 0; s < 8; s++)
            for (int g = 0; g < 8; g++) {
                // a 16-bit shift leaves bit 4 of each byte from its own byte
                const __m256i h = s <= 4 ? _mm256_slli_epi16(m[g], 4 - s) : _mm256_srli_epi16(m[g], s - 4);
                __m256i *q = (__m256i *)(dst + gs * (8 * s + g));
                _mm256_store_si256(q, _mm256_or_si256(_mm256_load_si256(q), _mm256_and_si256(h, b4)));
            }
    }
    // scales and mins with k4_scales_vec's word arithmetic, for the 8 rows at once
    __m256i a[4];
    load_transpose4(p, 4, a);  // a[3]: the first quants, unused
    const __m256i a0 = a[0], a1 = a[1], a2 = a[2];
    const __m256i c3f = _mm256_set1_epi8(0x3F), c0f = _mm256_set1_epi8(0x0F), c03 = _mm256_set1_epi8(0x03);
    const __m256i sc_lo = _mm256_and_si256(a0, c3f), mn_lo = _mm256_and_si256(a1, c3f);
    const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(a2, c0f),
                                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a0, 6), c03), 4));
    const __m256i mn_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(a2, 4), c0f),
                                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(a1, 6), c03), 4));
    for (int s = 0; s < 8; s++) kstore(dst, gs, 64 + s, dword_bytes16(s < 4 ? sc_lo : sc_hi, s & 3, s & 3, 0));
    for (int k = 0; k < 4; k++)
        kstore(dst, gs, 72 + k, dword_bytes16(k < 2 ? mn_lo : mn_hi, 2 * (k & 1), 2 * (k & 1) + 1, 0));
    __m128 d0, m0, d1, m1;
    scales4(p[0], p[1], p[2], p[3], &d0, &m0);
    scales4(p[4], p[5], p[6], p[7], &d1, &m1);
    _mm256_store_ps((float *)(dst + gs * 76), _mm256_set_m128(d1, d0));
    _mm256_store_ps((float *)(dst + gs * 77), _mm256_set_m128(m1, m0));
}

// Super-block b of the 8 Q6_K rows w[0..7] into a panel block (registers gs bytes apart).
EK_INLINE void kpanel6_block(const uint8_t *const *w, size_t ws, int b, uint8_t *dst, const size_t gs) {
    const size_t o = (size_t)b * sizeof(ek_block_q6_K);
    const uint8_t *p[8];  // a local copy: the byte stores below could alias w[]
    for (int r = 0; r < 8; r++) p[r] = w[r] + o;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; h++) {
        __m256i qh[8];
        load_transpose8(p, 128 + 32 * h, qh);
        for (int k = 0; k < 2; k++) {
            // ql bytes 64h+32k+l: low nibbles are elements 32j+l of chunk j = 4h+k, with qh bits 2k, 2k+1;
            // high nibbles those of chunk j+2, with qh bits 2k+4, 2k+5 (as in dot_q6_K)
            __m256i l[8];
            load_transpose8(p, 64 * h + 32 * k, l);
            for (int g = 0; g < 8; g++) {
                const __m256i lo = _mm256_or_si256(_mm256_and_si256(l[g], m4),
                                                   _mm256_and_si256(_mm256_slli_epi16(qh[g], 4 - 2 * k), m30));
                const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l[g], 4), m4),
                                                   _mm256_and_si256(_mm256_srli_epi16(qh[g], 2 * k), m30));
                kstore(dst, gs, 8 * (4 * h + k) + g, lo);
                kstore(dst, gs, 8 * (4 * h + k + 2) + g, hi);
            }
        }
    }
    __m256i sc[4];  // sc[i] dword lane r: scales 4i..4i+3 of row r
    load_transpose4(p, 192, sc);
    for (int j = 0; j < 16; j++) kstore(dst, gs, 64 + j, dword_bytes16(sc[j >> 2], j & 3, j & 3, 1));
    for (int k = 0; k < 8; k++) kstore(dst, gs, 80 + k, dword_bytes16(sc[k >> 1], 2 * (k & 1), 2 * (k & 1) + 1, 1));
    const __m128i d = _mm_setr_epi16((short)ek_ld16(p[0] + 208), (short)ek_ld16(p[1] + 208), (short)ek_ld16(p[2] + 208),
                                     (short)ek_ld16(p[3] + 208), (short)ek_ld16(p[4] + 208), (short)ek_ld16(p[5] + 208),
                                     (short)ek_ld16(p[6] + 208), (short)ek_ld16(p[7] + 208));
    _mm256_store_ps((float *)(dst + gs * 88), _mm256_cvtph_ps(d));
}

EK_INLINE void rlk_panel(const int kind, int nb, const uint8_t *const *w, size_t ws, uint8_t *panel) {
    for (int b = 0; b < nb; b++) {
        if (kind == KQ6) kpanel6_block(w, ws, b, panel + (size_t)b * KPANEL6, 32);
        else kpanel4_block(kind == KQ5, w, ws, b, panel + (size_t)b * KPANEL4, 32);
    }
}

// Per vector v, dword lane r: the sum over k < n of int16 pair k of its packed sums (at sums + 32*v)
// times the int16 pair of panel register k (at wp + 32*k), row r's.
EK_INLINE void rlk_pairs(const int V, const uint8_t *wp, const uint8_t *sums, int n, __m256i *out) {
    for (int v = 0; v < V; v++) {
        __m256i a = _mm256_setzero_si256();
        for (int k = 0; k < n; k++)
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_load_si256((const __m256i *)(wp + 32 * k)),
                                                      _mm256_set1_epi32((int)ek_ld32(sums + 32 * v + 4 * k))));
        out[v] = a;
    }
}

// One super-block's terms from its exact integer sums is[v] (lane r: row r), with the mins (Q4_K,
// Q5_K) or the offset of 32 (Q6_K), added to acc[v].
EK_INLINE void rlk_add_terms(const int kind, const int V, const uint8_t *wb, const uint8_t *q, __m256i *is, __m256 *acc) {
    const uint8_t *sums = q + 256 * V;
    const float *dx = (const float *)(sums + 32 * V);
    if (kind == KQ6) {
        // the quants were stored +32: subtract 32 * sum_j scale_j * bsum_j
        __m256i corr[4];
        rlk_pairs(V, wb + 32 * 80, sums, 8, corr);
        const __m256 d = _mm256_load_ps((const float *)(wb + 32 * 88));
        for (int v = 0; v < V; v++) {
            is[v] = _mm256_sub_epi32(is[v], _mm256_slli_epi32(corr[v], 5));
            const __m256 xd = _mm256_broadcast_ss(dx + v);
            const __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(is[v]), _mm256_mul_ps(d, xd));
            acc[v] = _mm256_add_ps(acc[v], t);
        }
    } else {
        __m256i im[4];
        rlk_pairs(V, wb + 32 * 72, sums, 4, im);
        const __m256 d = _mm256_load_ps((const float *)(wb + 32 * 76));
        const __m256 dmin = _mm256_load_ps((const float *)(wb + 32 * 77));
        for (int v = 0; v < V; v++) {
            const __m256 xd = _mm256_broadcast_ss(dx + v);
            const __m256 t = _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(is[v]), _mm256_mul_ps(d, xd)),
                                           _mm256_mul_ps(_mm256_cvtepi32_ps(im[v]), _mm256_mul_ps(dmin, xd)));
            acc[v] = _mm256_add_ps(acc[v], t);
        }
    }
}

// 8 rows (a K-quant panel) x V vectors (packed by ek_pack_act): y[v*ys + r] for r < rn.
EK_INLINE void rlk_tile(const int kind, const int V, int nb, const uint8_t *panel, const uint8_t *pk, float *y,
                        size_t ys, int rn) {
    const size_t pb = kind == KQ6 ? KPANEL6 : KPANEL4;
    __m256 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = panel + (size_t)b * pb, *q = pk + (size_t)b * V * KPACK;
        __m256i is[4], s16[4];
        for (int v = 0; v < V; v++) is[v] = _mm256_setzero_si256();
        // runs of `run` quads, each run under one scale register
        const int run = kind == KQ4 ? 8 : kind == KQ5 ? 4 : 2, per_scale = kind == KQ6 ? 4 : 8;
        for (int g = 0; g < 64; g += run) {
            const __m256i sc = _mm256_load_si256((const __m256i *)(wb + 32 * (64 + g / per_scale)));
            rl_sums16(V, wb + 32 * g, q + 4 * g, 256, 0, run, s16);
            for (int v = 0; v < V; v++) is[v] = _mm256_add_epi32(is[v], _mm256_madd_epi16(s16[v], sc));
        }
        rlk_add_terms(kind, V, wb, q, is, acc);
    }
    rl_store(V, acc, y, ys, rn);
}

// The K-quant tiles on AVX-512 VNNI, 16 rows in the lanes of 512-bit registers (the 8-row panel
// layout with 64-byte registers, rows 8..15 in their upper halves, as rlz_panel): each run's quads
// summed exactly in int32 by vpdpbusd, then times the run's scale (vpmulld); the same integers as
// rlk_tile's int16 sums met with vpmaddwd, and the same float steps, so the same bits.
EK_INLINE void rlkz_panel(const int kind, int nb, const uint8_t *const *w, size_t ws, uint8_t *panel) {
    for (int b = 0; b < nb; b++)
        for (int h = 0; h < 2; h++) {
            if (kind == KQ6) kpanel6_block(w + 8 * h, ws, b, panel + (size_t)b * 2 * KPANEL6 + 32 * h, 64);
            else kpanel4_block(kind == KQ5, w + 8 * h, ws, b, panel + (size_t)b * 2 * KPANEL4 + 32 * h, 64);
        }
}
EK_VNNI_TARGET EK_INLINE void rlkz_tile(const int kind, const int V, int nb, const uint8_t *panel, const uint8_t *pk,
                                        float *y, size_t ys, int rn) {
    const size_t pb = 2 * (kind == KQ6 ? KPANEL6 : KPANEL4);
    __m512 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const uint8_t *wb = panel + (size_t)b * pb, *q = pk + (size_t)b * V * KPACK;
        __m512i is[4], s32[4];
        for (int v = 0; v < V; v++) is[v] = _mm512_setzero_si512();
        const int run = kind == KQ4 ? 8 : kind == KQ5 ? 4 : 2, per_scale = kind == KQ6 ? 4 : 8;
        for (int g = 0; g < 64; g += run) {
            // the scale is an int16 in both halves of each dword: sign-extend the low one
            const __m512i sc = _mm512_load_si512((const void *)(wb + 64 * (64 + g / per_scale)));
            const __m512i sc32 = _mm512_srai_epi32(_mm512_slli_epi32(sc, 16), 16);
            for (int v = 0; v < V; v++) s32[v] = _mm512_setzero_si512();
            for (int k = g; k < g + run; k++) {
                const __m512i wq = _mm512_load_si512((const void *)(wb + 64 * k));
                for (int v = 0; v < V; v++)
                    s32[v] = _mm512_dpbusd_epi32(s32[v], wq, _mm512_set1_epi32((int)ek_ld32(q + 256 * v + 4 * k)));
            }
            for (int v = 0; v < V; v++) is[v] = _mm512_add_epi32(is[v], _mm512_mullo_epi32(s32[v], sc32));
        }
        // the super-block's terms, as rlk_add_terms: the mins (Q4_K, Q5_K) or the offset of 32 (Q6_K)
        const uint8_t *sums = q + 256 * V;
        const float *dx = (const float *)(sums + 32 * V);
        __m512i pairs[4];  // per vector: sum over k of its int16 sum pair k times panel register k's pair
        const int np = kind == KQ6 ? 8 : 4;
        const uint8_t *wp = wb + 64 * (kind == KQ6 ? 80 : 72);
        for (int v = 0; v < V; v++) {
            __m512i a = _mm512_setzero_si512();
            for (int k = 0; k < np; k++)
                a = _mm512_add_epi32(a, _mm512_madd_epi16(_mm512_load_si512((const void *)(wp + 64 * k)),
                                                          _mm512_set1_epi32((int)ek_ld32(sums + 32 * v + 4 * k))));
            pairs[v] = a;
        }
        if (kind == KQ6) {
            const __m512 d = _mm512_load_ps((const float *)(wb + 64 * 88));
            for (int v = 0; v < V; v++) {
                is[v] = _mm512_sub_epi32(is[v], _mm512_slli_epi32(pairs[v], 5));
                const __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(is[v]), _mm512_mul_ps(d, _mm512_set1_ps(dx[v])));
                acc[v] = _mm512_add_ps(acc[v], t);
            }
        } else {
            const __m512 d = _mm512_load_ps((const float *)(wb + 64 * 76));
            const __m512 dmin = _mm512_load_ps((const float *)(wb + 64 * 77));
            for (int v = 0; v < V; v++) {
                const __m512 xd = _mm512_set1_ps(dx[v]);
                const __m512 t = _mm512_sub_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(is[v]), _mm512_mul_ps(d, xd)),
                                               _mm512_mul_ps(_mm512_cvtepi32_ps(pairs[v]), _mm512_mul_ps(dmin, xd)));
                acc[v] = _mm512_add_ps(acc[v], t);
            }
        }
    }
    const __mmask16 m = (__mmask16)((1u << rn) - 1);
    for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(y + v * ys, m, acc[v]);
}

// ---------------------------------------------------------------- float rows
float ek_dot_f32_avx2(int n, const float *w, const float *x) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    float s = ek_hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}
float ek_dot_f16_avx2(int n, const uint8_t *w, const float *x) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * i))), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * i + 16))),
                             _mm256_loadu_ps(x + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * i))), _mm256_loadu_ps(x + i), a0);
    float s = ek_hsum8(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += ek_h2f(ek_ld16(w + 2 * i)) * x[i];
    return s;
}
float ek_dot_bf16_avx2(int n, const uint8_t *w, const float *x) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i v0 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * i))), 16);
        __m256i v1 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * i + 16))), 16);
        a0 = _mm256_fmadd_ps(_mm256_castsi256_ps(v0), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_castsi256_ps(v1), _mm256_loadu_ps(x + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * i))), 16);
        a0 = _mm256_fmadd_ps(_mm256_castsi256_ps(v), _mm256_loadu_ps(x + i), a0);
    }
    float s = ek_hsum8(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += ek_bf16_to_fp32(ek_ld16(w + 2 * i)) * x[i];
    return s;
}

// ---------------------------------------------------------------- activation packing
size_t ek_pack_size(int type, int V, int nb) { return (size_t)nb * V * (ek_block_size(type) == EK_QK_K ? KPACK : 40); }

// Q8_K rows for the K-quant row lanes (layout above rlk_tile's helpers).
static void pack_act_k(int type, int V, int nb, const uint8_t *const *x, uint8_t *dst) {
    for (int b = 0; b < nb; b++) {
        uint8_t *q = dst + (size_t)b * V * KPACK, *sums = q + 256 * V, *d = sums + 32 * V;
        for (int v = 0; v < V; v++) {
            const ek_block_q8_K *xb = (const ek_block_q8_K *)x[v] + b;
            memcpy(q + 256 * v, xb->qs, 256);
            int16_t s[16];
            if (type == EK_TYPE_Q6_K) {
                memcpy(s, xb->bsums, 32);
            } else {  // sub-block sums: two bsums of 16 each
                for (int j = 0; j < 8; j++) s[j] = (int16_t)(xb->bsums[2 * j] + xb->bsums[2 * j + 1]);
                memset(s + 8, 0, 16);
            }
            memcpy(sums + 32 * v, s, 32);
            memcpy(d + 4 * v, &xb->d, 4);
        }
    }
}
void ek_pack_act(int type, int V, int nb, const uint8_t *const *x, uint8_t *dst) {
    if (ek_block_size(type) == EK_QK_K) {
        pack_act_k(type, V, nb, x, dst);
        return;
    }
    const int t1 = ek_activation_type(type) == EK_TYPE_Q8_1;
    // The quants' offset in the panels: Q4_0's and Q5_0's storage offset; Q8_0's 128 is the VNNI
    // tiles' bias (the AVX2 tiles leave that slot unread).
    const int offset = type == EK_TYPE_Q4_0 ? 8 : type == EK_TYPE_Q5_0 ? 16 : type == EK_TYPE_Q8_0 ? 128 : 0;
    const size_t xbs = t1 ? 36 : 34, qo = t1 ? 4 : 2;
    for (int b = 0; b < nb; b++) {
        uint8_t *q = dst + (size_t)b * V * 40;
        float *d = (float *)(q + 32 * V), *sm = d + V;
        for (int v = 0; v < V; v++) {
            const uint8_t *xb = x[v] + b * xbs;
            const __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + qo));
            _mm256_storeu_si256((__m256i *)(q + 32 * v), xq);
            const __m128 ds = ek_h2f_pair(xb);
            d[v] = _mm_cvtss_f32(ds);
            if (t1) {
                sm[v] = _mm_cvtss_f32(_mm_movehdup_ps(ds));
            } else {  // offset * sum(q_x), an int
                const int32_t corr = offset ? offset * ek_hsum8i(ek_dot_u8s8(_mm256_set1_epi8(1), xq)) : 0;
                memcpy(&sm[v], &corr, 4);
            }
        }
    }
}

// ---------------------------------------------------------------- instantiations
#define LEG_FNS(kind)                                                                                         \
    static void leg_##kind##_4x1(int nb, const uint8_t *const *w, size_t ws, const uint8_t *x, float *o) {    \
        leg_4x1(kind, nb, w, ws, x, o);                                                                       \
    }                                                                                                         \
    EK_VNNI_TARGET static void legv_##kind##_4x1(int nb, const uint8_t *const *w, size_t ws, const uint8_t *x, \
                                                float *o) {                                                   \
        legv_4x1(kind, nb, w, ws, x, o);                                                                      \
    }                                                                                                         \
    static float leg_##kind##_dot(int nb, const uint8_t *w, const uint8_t *x) { return leg_dot(kind, nb, w, x); }
LEG_FNS(K40)
LEG_FNS(K41)
LEG_FNS(K50)
LEG_FNS(K51)
LEG_FNS(K80)

#define KQ_FNS(name, call)                                                                                    \
    static void name##_1x1(int nb, const uint8_t *const *w, size_t ws, const uint8_t *x, float *o) {           \
        (void)ws;                                                                                             \
        o[0] = call;                                                                                          \
    }
// The tiles of one row-lane kind for V = 1..4 vectors, named prefix##kind##_V, from the generic `tile`
// body, with function attributes `attr` (a target for the VNNI forms).
#define RL_TILE_FN(prefix, attr, kind, tile, V)                                                               \
    attr static void prefix##kind##_##V(int nb, const uint8_t *p, const uint8_t *pk, float *y, size_t ys, int rn) { \
        tile(kind, V, nb, p, pk, y, ys, rn);                                                                  \
    }
#define RL_TILES(prefix, attr, kind, tile)                                                                    \
    RL_TILE_FN(prefix, attr, kind, tile, 1)                                                                   \
    RL_TILE_FN(prefix, attr, kind, tile, 2)                                                                   \
    RL_TILE_FN(prefix, attr, kind, tile, 3)                                                                   \
    RL_TILE_FN(prefix, attr, kind, tile, 4)
// Entry points of one row-lane kind: its AVX2 panel function and tiles (rl_*) and its VNNI ones
// (rlv_*), from the generic bodies: 8-row rl_panel/rl_tile and 16-row rlz_panel/rlz_tile for the
// 32-element types, 8-row rlk_panel/rlk_tile and 16-row rlkz_panel/rlkz_tile for the K-quants.
#define RL_FNS(kind, panel, tile, vnni_panel, vnni_tile)                                                      \
    static void rl_##kind##_panel(int nb, const uint8_t *const *w, size_t ws, uint8_t *pn) {                 \
        panel(kind, nb, w, ws, pn);                                                                           \
    }                                                                                                         \
    static void rlv_##kind##_panel(int nb, const uint8_t *const *w, size_t ws, uint8_t *pn) {                \
        vnni_panel(kind, nb, w, ws, pn);                                                                      \
    }                                                                                                         \
    RL_TILES(rl_, , kind, tile)                                                                               \
    RL_TILES(rlv_, EK_VNNI_TARGET, kind, vnni_tile)
RL_FNS(K40, rl_panel, rl_tile, rlz_panel, rlz_tile)
RL_FNS(K41, rl_panel, rl_tile, rlz_panel, rlz_tile)
RL_FNS(K50, rl_panel, rl_tile, rlz_panel, rlz_tile)
RL_FNS(K51, rl_panel, rl_tile, rlz_panel, rlz_tile)
RL_FNS(K80, rl_panel, rl_tile, rlz_panel, rlz_tile)
RL_FNS(KQ4, rlk_panel, rlk_tile, rlkz_panel, rlkz_tile)
RL_FNS(KQ5, rlk_panel, rlk_tile, rlkz_panel, rlkz_tile)
RL_FNS(KQ6, rlk_panel, rlk_tile, rlkz_panel, rlkz_tile)

KQ_FNS(q4k, dot_q4_K(0, nb, w[0], x))
KQ_FNS(q5k, dot_q4_K(1, nb, w[0], x))
KQ_FNS(q6k, dot_q6_K(nb, w[0], x))

ek_tile_fn ek_tile_get(int type, int R) {
    const int vnni = ek_vnni_enabled();
#define LEG_CASE(T, kind)                                                                                     \
    case T: return R == 4 ? (vnni ? legv_##kind##_4x1 : leg_##kind##_4x1) : NULL;
#define KQ_CASE(T, name)                                                                                      \
    case T: return R == 1 ? name##_1x1 : NULL;
    switch (type) {
        LEG_CASE(EK_TYPE_Q4_0, K40)
        LEG_CASE(EK_TYPE_Q4_1, K41)
        LEG_CASE(EK_TYPE_Q5_0, K50)
        LEG_CASE(EK_TYPE_Q5_1, K51)
        LEG_CASE(EK_TYPE_Q8_0, K80)
        KQ_CASE(EK_TYPE_Q4_K, q4k)
        KQ_CASE(EK_TYPE_Q5_K, q5k)
        KQ_CASE(EK_TYPE_Q6_K, q6k)
    default: return NULL;
    }
}

int ek_panel_rows(int vnni) { return vnni ? 16 : 8; }

size_t ek_panel_size(int type, int nb, int vnni) {
    const size_t eights = (size_t)ek_panel_rows(vnni) / 8;  // the 8-row layouts, once per 8 rows
    switch (type) {
    case EK_TYPE_Q4_K:
    case EK_TYPE_Q5_K: return (size_t)nb * KPANEL4 * eights;
    case EK_TYPE_Q6_K: return (size_t)nb * KPANEL6 * eights;
    default: return (size_t)nb * PANEL_BLOCK * eights;
    }
}

#define RL_SWITCH(type, body)                                                                                 \
    switch (type) {                                                                                           \
    case EK_TYPE_Q4_0: { body(K40) }                                                                          \
    case EK_TYPE_Q4_1: { body(K41) }                                                                          \
    case EK_TYPE_Q5_0: { body(K50) }                                                                          \
    case EK_TYPE_Q5_1: { body(K51) }                                                                          \
    case EK_TYPE_Q8_0: { body(K80) }                                                                          \
    case EK_TYPE_Q4_K: { body(KQ4) }                                                                          \
    case EK_TYPE_Q5_K: { body(KQ5) }                                                                          \
    case EK_TYPE_Q6_K: { body(KQ6) }                                                                          \
    default: return NULL;                                                                                     \
    }
ek_panel_fn ek_panel_get(int type, int vnni) {
#define RL_PANEL(kind) return vnni ? rlv_##kind##_panel : rl_##kind##_panel;
    RL_SWITCH(type, RL_PANEL)
}
// Whether the row-lane tiles run on VNNI: -1 until first asked, then 0 or 1.
static int vnni_state = -1;

int ek_vnni_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}

int ek_vnni_enabled(void) {
    int s = __atomic_load_n(&vnni_state, __ATOMIC_RELAXED);
    if (s < 0) {
        const char *choice = getenv("EMLAB_KERNELS");
        s = ek_vnni_available() && !(choice != NULL && strcmp(choice, "avx2") == 0);
        __atomic_store_n(&vnni_state, s, __ATOMIC_RELAXED);
    }
    return s;
}

int ek_set_vnni(int enable) {
    const int s = enable && ek_vnni_available();
    __atomic_store_n(&vnni_state, s, __ATOMIC_RELAXED);
    return s;
}

ek_rowlane_fn ek_rowlane_get(int type, int V, int vnni) {
#define RL_TILE_OF(prefix, kind)                                                                              \
    switch (V) {                                                                                              \
    case 1: return prefix##kind##_1;                                                                          \
    case 2: return prefix##kind##_2;                                                                          \
    case 3: return prefix##kind##_3;                                                                          \
    case 4: return prefix##kind##_4;                                                                          \
    default: return NULL;                                                                                     \
    }
#define RL_TILE(kind)                                                                                         \
    if (vnni) { RL_TILE_OF(rlv_, kind) }                                                                      \
    RL_TILE_OF(rl_, kind)
    RL_SWITCH(type, RL_TILE)
}

float ek_dot_quant_avx2(int type, int nb, const uint8_t *w, const uint8_t *x, int *ok) {
    *ok = 1;
    switch (type) {
    case EK_TYPE_Q4_0: return leg_K40_dot(nb, w, x);
    case EK_TYPE_Q4_1: return leg_K41_dot(nb, w, x);
    case EK_TYPE_Q5_0: return leg_K50_dot(nb, w, x);
    case EK_TYPE_Q5_1: return leg_K51_dot(nb, w, x);
    case EK_TYPE_Q8_0: return leg_K80_dot(nb, w, x);
    case EK_TYPE_Q4_K: return dot_q4_K(0, nb, w, x);
    case EK_TYPE_Q5_K: return dot_q4_K(1, nb, w, x);
    case EK_TYPE_Q6_K: return dot_q6_K(nb, w, x);
    default: *ok = 0; return 0.0f;
    }
}

#else
ek_tile_fn ek_tile_get(int type, int R) { (void)type; (void)R; return NULL; }
int ek_panel_rows(int vnni) { (void)vnni; return 8; }
size_t ek_panel_size(int type, int nb, int vnni) { (void)type; (void)nb; (void)vnni; return 0; }
ek_panel_fn ek_panel_get(int type, int vnni) { (void)type; (void)vnni; return NULL; }
ek_rowlane_fn ek_rowlane_get(int type, int V, int vnni) { (void)type; (void)V; (void)vnni; return NULL; }
int ek_vnni_available(void) { return 0; }
int ek_vnni_enabled(void) { return 0; }
int ek_set_vnni(int enable) { (void)enable; return 0; }
float ek_dot_quant_avx2(int type, int nb, const uint8_t *w, const uint8_t *x, int *ok) {
    (void)type; (void)nb; (void)w; (void)x;
    *ok = 0;
    return 0.0f;
}
#endif
