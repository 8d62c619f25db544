// CKernels: hot loops of the CPU engine for GGUF (ggml) quantized weights.
//
// Types are identified by their ggml type ids. Weight rows stay in ggml's on-disk block
// layout (memory-mapped, never repacked); activations are quantized per row into the
// matching "dot partner" format given by ek_activation_type().
//
// All row lengths `n` must be multiples of the type's block size (32, or 256 for K-quants).
#ifndef EK_CKERNELS_H
#define EK_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ggml type ids
enum {
    EK_TYPE_F32 = 0,
    EK_TYPE_F16 = 1,
    EK_TYPE_Q4_0 = 2,
    EK_TYPE_Q4_1 = 3,
    EK_TYPE_Q5_0 = 6,
    EK_TYPE_Q5_1 = 7,
    EK_TYPE_Q8_0 = 8,
    EK_TYPE_Q8_1 = 9,
    EK_TYPE_Q4_K = 12,
    EK_TYPE_Q5_K = 13,
    EK_TYPE_Q6_K = 14,
    EK_TYPE_Q8_K = 15,
    EK_TYPE_BF16 = 30,
};

#define EK_QK 32     // elements per block of the "legacy" quants
#define EK_QK_K 256  // elements per K-quant super-block

typedef uint16_t ek_half;  // IEEE binary16 bits

// Block layouts (ggml). Values: type-0 w = d*q, type-1 w = d*q + m.
typedef struct { ek_half d; uint8_t qs[16]; } ek_block_q4_0;               // 18 B, w=d*(q-8); qs[j]: lo nibble elem j, hi nibble elem j+16
typedef struct { ek_half d; ek_half m; uint8_t qs[16]; } ek_block_q4_1;    // 20 B, w=d*q+m
typedef struct { ek_half d; uint8_t qh[4]; uint8_t qs[16]; } ek_block_q5_0; // 22 B, w=d*(q-16); bit j of qh (LE u32) is bit 4 of elem j
typedef struct { ek_half d; ek_half m; uint8_t qh[4]; uint8_t qs[16]; } ek_block_q5_1; // 24 B, w=d*q+m
typedef struct { ek_half d; int8_t qs[32]; } ek_block_q8_0;                // 34 B
typedef struct { ek_half d; ek_half s; int8_t qs[32]; } ek_block_q8_1;     // 36 B, s = d*sum(qs)
typedef struct { ek_half d; ek_half dmin; uint8_t scales[12]; uint8_t qs[128]; } ek_block_q4_K;                  // 144 B
typedef struct { ek_half d; ek_half dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } ek_block_q5_K; // 176 B
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ek_half d; } ek_block_q6_K;                 // 210 B
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } ek_block_q8_K;                                    // 292 B, bsums: sums of 16 qs

// ---- type facts -------------------------------------------------------------------------
int ek_type_supported(int type);            // 1 if every entry point below handles `type`
int ek_block_size(int type);                // elements per block (1 for f32/f16/bf16); 0 if unknown
size_t ek_type_size(int type);              // bytes per block; 0 if unknown
size_t ek_row_size(int type, int n);        // bytes of a row of n elements
int ek_activation_type(int type);           // format x must be in for ek_vec_dot(type, ...): Q8_0, Q8_1,
                                            // Q8_K, or F32 (for f32/f16/bf16 weights); -1 if unsupported

// The instruction set the kernels were compiled for and run on: "avx2+fma+f16c", "avx2+fma+f16c
// +avx512vnni" where the quantized tiles run on AVX-512 VNNI, or "scalar" (the portable twins only).
const char *ek_kernel_isa(void);
// AVX-512 VNNI for the quantized tiles (several vectors against weights of every quantized type,
// 16 rows at a time in 512-bit registers; one vector against the 32-element types):
// whether the CPU offers it, whether it is in use (by default where offered, unless the environment
// has EMLAB_KERNELS=avx2), and switching it (returns whether it is now on). Both paths give the same
// bits; the switch is for tests and side-by-side timing.
int ek_vnni_available(void);
int ek_vnni_enabled(void);
int ek_set_vnni(int enable);

// ---- scalar conversions -----------------------------------------------------------------
float ek_fp16_to_fp32(ek_half h);
ek_half ek_fp32_to_fp16(float f);           // round to nearest even
float ek_fp16_to_fp32_soft(ek_half h);      // bit-twiddling twin (no F16C), for tests
ek_half ek_fp32_to_fp16_soft(float f);
float ek_bf16_to_fp32(uint16_t h);

// ---- activation quantizers (AVX2) and their scalar twins (bit-identical output) ---------
// q = round-to-nearest-even(x / d) with d = max|x| / 127, so q in [-127, 127].
void ek_quantize_row_q8_0(const float *x, void *y, int n);
void ek_quantize_row_q8_1(const float *x, void *y, int n);
void ek_quantize_row_q8_K(const float *x, void *y, int n);
void ek_quantize_row_q8_0_ref(const float *x, void *y, int n);
void ek_quantize_row_q8_1_ref(const float *x, void *y, int n);
void ek_quantize_row_q8_K_ref(const float *x, void *y, int n);
// Quantize into ek_activation_type(weight_type)'s format (a plain copy for F32).
void ek_quantize_activation(int weight_type, const float *x, void *y, int n);

// ---- dot products: weight row (type) . activation row (ek_activation_type(type)) --------
// For the quantized types every entry point (ek_vec_dot, its scalar twin, ek_matvec, ek_matmul
// with any batch size or thread count) evaluates the same float operations per (row, vector):
//   per block: t = (float)exact_int_dot * (d_w*d_x) [+ m_w*s_x  |  - (float)imins * (dmin*d_x)]
//   acc = acc + t in block order.
// So results are bit-identical across all of them (batch- and thread-invariant).
// f32/f16/bf16 rows use 8-lane FMA accumulation (the twin sums sequentially).
float ek_vec_dot(int type, int n, const void *w_row, const void *x_quant);
float ek_vec_dot_ref(int type, int n, const void *w_row, const void *x_quant);  // scalar twin

// ---- dequantization to f32 (all types above, including Q8_1 and Q8_K) -------------------
void ek_dequantize_row(int type, const void *src, float *dst, int n);
void ek_dequantize_row_ref(int type, const void *src, float *dst, int n);         // scalar twin

// ---- persistent thread pool -------------------------------------------------------------
// nthreads <= 0 means one per online CPU. Idempotent; a different count rebuilds the pool.
// Call init from one thread while no parallel region is running.
void ek_pool_init(int nthreads);
int ek_pool_size(void);                     // 1 before init
// Runs fn(ctx, ith, nth) for ith = 0..nth-1; the caller runs ith 0, and also runs any slot no
// worker has picked up by the time it is done (so a descheduled worker never stalls it): do
// not assume ith >= 1 runs on another thread. Returns when all are done. About 0.3-0.5 us of
// overhead per region when workers are awake. Calls from inside a region run inline with
// nth = 1; concurrent callers are serialized.
void ek_parallel_for(void (*fn)(void *ctx, int ith, int nth), void *ctx);
// How long idle workers spin before sleeping on a futex (default 200 us).
void ek_pool_set_spin_us(int microseconds);

// ---- matrix-vector / small-batch matrix products over the pool --------------------------
// W: rows x cols, row-major rows of ek_row_size(type, cols) bytes. x_quant: one activation
// row in ek_activation_type(type) format. y[r] = dot(W[r], x).
void ek_matvec(int type, const void *W, int rows, int cols, const void *x_quant, float *y);
// nvec activation rows, the v-th at (char*)X_quant + v*x_stride_bytes.
// Y[v*y_stride + r] = dot(W[r], X_v). Quantized types with nvec >= 2 transpose 8 rows at a time
// into a scratch panel that every vector then passes over (weights stream from memory once per
// call); one vector runs 4-row tiles (K-quants: row by row). Uses per-thread scratch buffers
// (allocated once) for nvec >= 2.
void ek_matmul(int type, const void *W, int rows, int cols, const void *X_quant, int nvec,
               size_t x_stride_bytes, float *Y, int y_stride);
// Single-threaded body of ek_matmul over rows [r0, r1), for callers with their own threads.
void ek_matmul_rows(int type, const void *W, int r0, int r1, int cols, const void *X_quant,
                    int nvec, size_t x_stride_bytes, float *Y, int y_stride);

#ifdef __cplusplus
}
#endif

#include "ek_train.h"  // the training engine's element-wise kernels
#include "ek_sae.h"    // sparse-autoencoder training kernels

#endif
