import CBLAS
import CKernels
import Foundation
import Inference

/// The operations of the trainer's blocks (llama, qwen2, gemma3), each forward beside its backward, the way llm.c writes them:
/// plain pointers to row-major float matrices, activations the caller keeps for the backward pass,
/// backward functions that accumulate (`+=`) into gradients the caller zeroed. Row-wise work is
/// split over the engine's thread pool by rows; matrix products go through `GEMM`.
public enum TrainOps {
    // MARK: Embedding

    /// out[r] = table[tokens[r]]·scale (gemma3 scales by √d; 1 leaves the rows as stored).
    public static func embeddingForward(_ out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, rows: Int,
                                        table: UnsafePointer<Float>, width d: Int, scale: Float = 1) {
        for r in 0..<rows { (out + r * d).update(from: table + Int(tokens[r]) * d, count: d) }
        if scale != 1 { for i in 0..<(rows * d) { out[i] *= scale } }
    }

    /// dtable[tokens[r]] += dout[r]·scale, rows in order (one thread: the same sums whatever the pool).
    public static func embeddingBackward(_ dtable: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                         tokens: UnsafePointer<Int32>, rows: Int, width d: Int, scale: Float = 1) {
        for r in 0..<rows {
            if scale == 1 {
                ekt_add(dtable + Int(tokens[r]) * d, dout + r * d, d)
            } else {
                cblas_saxpy(Int32(d), scale, dout + r * d, 1, dtable + Int(tokens[r]) * d, 1)
            }
        }
    }

    // MARK: RMSNorm

    /// out = x·rstd·w per row, rstd = 1/√(mean(x²)+eps) saved (pass nil to recompute `out` only).
    public static func rmsnormForward(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?,
                                      x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, width n: Int, eps: Float) {
        Parallel.forRange(rows) { r in
            ekt_rmsnorm_fwd(x, weight, out, rstd, Int32(r.lowerBound), Int32(r.upperBound), Int32(n), eps)
        }
    }

    /// dx += ∂L/∂x and, if given, dweight += ∂L/∂w, from dout and the saved rstd.
    public static func rmsnormBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
                                       dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                       rstd: UnsafePointer<Float>, rows: Int, width n: Int) {
        Parallel.forRange(rows) { r in
            ekt_rmsnorm_bwd_dx(dx, dout, x, weight, rstd, Int32(r.lowerBound), Int32(r.upperBound), Int32(n))
        }
        if let dweight { ekt_rmsnorm_bwd_dw(dweight, dout, x, rstd, Int32(rows), Int32(n)) }
    }

    /// The RMSNorm of each head (gemma3's Q and K norms): for rows of `x` (row stride `ld`), the
    /// `heads` runs of `headDim` values from its first column, each normalized by itself with the
    /// shared `weight`; rstd [rows × heads] saved.
    public static func headNormForward(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                                       ld: Int, weight: UnsafePointer<Float>, rows: Int, heads: Int, headDim: Int, eps: Float) {
        Parallel.forRange(rows) { range in
            for r in range { ekt_rmsnorm_fwd(x + r * ld, weight, out + r * ld, rstd + r * heads, 0, Int32(heads), Int32(headDim), eps) }
        }
    }

    /// dx += ∂L/∂x of `headNormForward` (same strides) and dweight += ∂L/∂w (rows in order, when given).
    public static func headNormBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                        x: UnsafePointer<Float>, ld: Int, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                        rows: Int, heads: Int, headDim: Int) {
        Parallel.forRange(rows) { range in
            for r in range {
                ekt_rmsnorm_bwd_dx(dx + r * ld, dout + r * ld, x + r * ld, weight, rstd + r * heads, 0, Int32(heads), Int32(headDim))
            }
        }
        guard let dweight else { return }
        for r in 0..<rows { ekt_rmsnorm_bwd_dw(dweight, dout + r * ld, x + r * ld, rstd + r * heads, Int32(heads), Int32(headDim)) }
    }

    // MARK: Linear (Y = X·Wᵀ)

    /// y[T×out] = x[T×in]·Wᵀ (W is out×in), or += with `accumulate`.
    public static func matmulForward(_ y: UnsafeMutablePointer<Float>, ldy: Int, x: UnsafePointer<Float>, ldx: Int,
                                     weight: UnsafePointer<Float>, rows t: Int, inputs: Int, outputs: Int,
                                     accumulate: Bool = false) {
        GEMM.parallel(transA: false, transB: true, m: t, n: outputs, k: inputs, a: x, lda: ldx, b: weight, ldb: inputs,
                      beta: accumulate ? 1 : 0, c: y, ldc: ldy)
    }

    /// dx (+)= dy·W; dweight += dyᵀ·x when given.
    public static func matmulBackward(dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulateDx: Bool,
                                      dweight: UnsafeMutablePointer<Float>?, dy: UnsafePointer<Float>, lddy: Int,
                                      x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>,
                                      rows t: Int, inputs: Int, outputs: Int) {
        if let dx {
            GEMM.parallel(transA: false, transB: false, m: t, n: inputs, k: outputs, a: dy, lda: lddy, b: weight, ldb: inputs,
                          beta: accumulateDx ? 1 : 0, c: dx, ldc: lddx)
        }
        if let dweight {
            GEMM.parallel(transA: true, transB: false, m: outputs, n: inputs, k: t, a: dy, lda: lddy, b: x, ldb: ldx,
                          beta: 1, c: dweight, ldc: inputs)
        }
    }

    // MARK: Bias

    /// y[r] += bias for rows of `y` (row stride `ld`), the first `n` columns.
    public static func biasForward(_ y: UnsafeMutablePointer<Float>, ld: Int, bias: UnsafePointer<Float>, rows: Int, width n: Int) {
        Parallel.forRange(rows) { r in ekt_bias_rows(y, Int32(ld), bias, Int32(r.lowerBound), Int32(r.upperBound), Int32(n)) }
    }

    /// dbias += Σ over rows of dy (rows in order: one thread, the same sums whatever the pool).
    public static func biasBackward(_ dbias: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, ld: Int, rows: Int, width n: Int) {
        ekt_bias_bwd(dbias, dy, Int32(ld), Int32(rows), Int32(n))
    }

    // MARK: RoPE (adjacent pairs, the llama GGUF layout; or halves, NeoX's, for qwen2)

    /// cos and sin of pos·θᵢ for every position below `positions`, θᵢ = base^(−2i/dims), computed as
    /// the inference engine computes them (float angle, then cos and sin); `positionScale` multiplies
    /// the position first (linear RoPE scaling).
    public static func ropeTables(positions: Int, ropeDims: Int, base: Float, positionScale: Float = 1) -> (cos: [Float], sin: [Float]) {
        let half = ropeDims / 2
        let inv = (0..<half).map { i in Float(pow(Double(base), -2 * Double(i) / Double(ropeDims))) }
        var c = [Float](repeating: 0, count: positions * half), s = c
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Float(p) * positionScale * inv[i]
                c[p * half + i] = Foundation.cos(angle)
                s[p * half + i] = Foundation.sin(angle)
            }
        }
        return (c, s)
    }

    /// Rotates the pairs of each head of rows of `x` (row stride `ld`) by their position's angles:
    /// adjacent pairs (x[2i], x[2i+1]), or with `halves` the pairs (x[i], x[i + ropeDims/2]);
    /// `backward` rotates gradients back (the transpose of the rotation).
    public static func rope(_ x: UnsafeMutablePointer<Float>, ld: Int, positions: UnsafePointer<Int32>, rows: Int,
                            heads: Int, headDim: Int, ropeDims: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
                            halves: Bool = false, backward: Bool = false) {
        Parallel.forRange(rows) { r in
            if halves {
                ekt_rope_halves(x, Int32(ld), positions, Int32(r.lowerBound), Int32(r.upperBound), Int32(heads),
                                Int32(headDim), Int32(ropeDims), cos, sin, backward ? -1 : 1)
            } else {
                ekt_rope_pairs(x, Int32(ld), positions, Int32(r.lowerBound), Int32(r.upperBound), Int32(heads),
                               Int32(headDim), Int32(ropeDims), cos, sin, backward ? -1 : 1)
            }
        }
    }

    // MARK: Gated MLP (SwiGLU, GeGLU)

    /// h = act(g)·u, g and u side by side in rows of `gu` ([T × 2n]); act is SiLU, or tanh GELU with `gelu`.
    public static func gluForward(_ h: UnsafeMutablePointer<Float>, gu: UnsafePointer<Float>, rows: Int, width n: Int, gelu: Bool) {
        Parallel.forRange(rows) { r in
            ekt_glu_fwd(gu, Int32(2 * n), h, Int32(n), Int32(r.lowerBound), Int32(r.upperBound), Int32(n), gelu ? 1 : 0)
        }
    }

    /// dgu = (dh·u·act'(g), dh·act(g)).
    public static func gluBackward(dgu: UnsafeMutablePointer<Float>, dh: UnsafePointer<Float>, gu: UnsafePointer<Float>,
                                   rows: Int, width n: Int, gelu: Bool) {
        Parallel.forRange(rows) { r in
            ekt_glu_bwd(dh, Int32(n), gu, Int32(2 * n), dgu, Int32(r.lowerBound), Int32(r.upperBound), Int32(n), gelu ? 1 : 0)
        }
    }

    // MARK: Residual

    /// y += x (the residual add's forward; its backward passes the gradient on unchanged).
    public static func residualForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        ekt_add(y, x, count)
    }
}

/// Causal self-attention with grouped-query heads over packed sequences: each segment (a run of
/// rows of one sequence) attends only to itself, and with a `window` row i of a segment only to
/// rows max(0, i − window + 1)...i (gemma3's local layers). The softmax is not kept: its
/// log-normalizer per row and head is, and the backward pass recomputes the probabilities from it
/// (the memory of attention is then linear in the sequence length).
public struct AttentionShape: Sendable {
    public var heads: Int, kvHeads: Int, headDim: Int
    public var qOffset: Int, kOffset: Int, vOffset: Int   // column offsets in the qkv rows
    public var ld: Int                                     // row stride of qkv (and dqkv)
    public var window: Int? = nil
    public var scale: Float { 1 / Float(headDim).squareRoot() }
    public var qDim: Int { heads * headDim }
    /// The first key row `i` sees.
    func firstKey(_ i: Int) -> Int { window.map { max(0, i - $0 + 1) } ?? 0 }
}

public struct Segment: Sendable, Equatable {
    public var start: Int
    public var length: Int
    public init(start: Int, length: Int) { self.start = start; self.length = length }
}

/// Per-thread square scratch matrices for attention.
final class AttentionScratch: @unchecked Sendable {
    private var buffers: [Floats] = []
    private(set) var side = 0

    func reserve(threads: Int, side: Int) {
        if buffers.count >= 2 * threads && self.side >= side { return }
        self.side = max(side, self.side)
        buffers = (0..<(2 * threads)).map { _ in Floats(self.side * self.side, zeroed: false) }
    }

    func pair(_ thread: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        (buffers[2 * thread].pointer, buffers[2 * thread + 1].pointer)
    }
}

extension TrainOps {
    /// out[T × qDim] from qkv; lse[T × heads] saved.
    static func attentionForward(out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                                 qkv: UnsafePointer<Float>, segments: [Segment], shape s: AttentionShape,
                                 scratch: AttentionScratch) {
        let group = s.heads / s.kvHeads
        let tasks = segments.count * s.kvHeads
        scratch.reserve(threads: Parallel.threadCount, side: segments.map(\.length).max() ?? 0)
        segments.withUnsafeBufferPointer { segs in
            Parallel.run { ith, nth in
                let (sbuf, _) = scratch.pair(ith)
                var task = ith
                while task < tasks {
                    let seg = segs[task / s.kvHeads], g = task % s.kvHeads
                    let len = seg.length, base = seg.start
                    let k = qkv + base * s.ld + s.kOffset + g * s.headDim
                    let v = qkv + base * s.ld + s.vOffset + g * s.headDim
                    for h in (g * group)..<((g + 1) * group) {
                        let q = qkv + base * s.ld + s.qOffset + h * s.headDim
                        GEMM.serial(transA: false, transB: true, m: len, n: len, k: s.headDim, a: q, lda: s.ld, b: k, ldb: s.ld,
                                    c: sbuf, ldc: len)
                        for i in 0..<len {
                            let row = sbuf + i * len, lo = s.firstKey(i)
                            lse[(base + i) * s.heads + h] = ekt_softmax_row(row + lo, row + lo, Int32(i - lo), Int32(len - lo), s.scale)
                            row.update(repeating: 0, count: lo)
                        }
                        GEMM.serial(transA: false, transB: false, m: len, n: s.headDim, k: len, a: sbuf, lda: len, b: v, ldb: s.ld,
                                    c: out + base * s.qDim + h * s.headDim, ldc: s.qDim)
                    }
                    task += nth
                }
            }
        }
    }

    /// dqkv (all of it, overwritten) from dout, qkv and the saved lse.
    static func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                  lse: UnsafePointer<Float>, segments: [Segment], shape s: AttentionShape,
                                  scratch: AttentionScratch) {
        let group = s.heads / s.kvHeads
        let tasks = segments.count * s.kvHeads
        scratch.reserve(threads: Parallel.threadCount, side: segments.map(\.length).max() ?? 0)
        segments.withUnsafeBufferPointer { segs in
            Parallel.run { ith, nth in
                let (pbuf, dbuf) = scratch.pair(ith)
                var task = ith
                while task < tasks {
                    let seg = segs[task / s.kvHeads], g = task % s.kvHeads
                    let len = seg.length, base = seg.start
                    let k = qkv + base * s.ld + s.kOffset + g * s.headDim
                    let v = qkv + base * s.ld + s.vOffset + g * s.headDim
                    let dk = dqkv + base * s.ld + s.kOffset + g * s.headDim
                    let dv = dqkv + base * s.ld + s.vOffset + g * s.headDim
                    for (n, h) in ((g * group)..<((g + 1) * group)).enumerated() {
                        let q = qkv + base * s.ld + s.qOffset + h * s.headDim
                        let dq = dqkv + base * s.ld + s.qOffset + h * s.headDim
                        let dO = dout + base * s.qDim + h * s.headDim
                        // P again from the saved log-normalizers.
                        GEMM.serial(transA: false, transB: true, m: len, n: len, k: s.headDim, a: q, lda: s.ld, b: k, ldb: s.ld,
                                    c: pbuf, ldc: len)
                        for i in 0..<len {
                            let row = pbuf + i * len, lo = s.firstKey(i)
                            ekt_softmax_row_from_lse(row + lo, row + lo, Int32(i - lo), Int32(len - lo), s.scale, lse[(base + i) * s.heads + h])
                            row.update(repeating: 0, count: lo)
                        }
                        // dV += Pᵀ·dO; dP = dO·Vᵀ; dS = P⊙(dP − Σ P⊙dP)·scale.
                        GEMM.serial(transA: true, transB: false, m: len, n: s.headDim, k: len, a: pbuf, lda: len, b: dO, ldb: s.qDim,
                                    beta: n == 0 ? 0 : 1, c: dv, ldc: s.ld)
                        GEMM.serial(transA: false, transB: true, m: len, n: len, k: s.headDim, a: dO, lda: s.qDim, b: v, ldb: s.ld,
                                    c: dbuf, ldc: len)
                        for i in 0..<len {
                            let lo = s.firstKey(i)
                            ekt_softmax_row_bwd(dbuf + i * len + lo, pbuf + i * len + lo, Int32(i - lo), Int32(len - lo), s.scale)
                            (dbuf + i * len).update(repeating: 0, count: lo)
                        }
                        // dQ = dS·K; dK += dSᵀ·Q.
                        GEMM.serial(transA: false, transB: false, m: len, n: s.headDim, k: len, a: dbuf, lda: len, b: k, ldb: s.ld,
                                    c: dq, ldc: s.ld)
                        GEMM.serial(transA: true, transB: false, m: len, n: s.headDim, k: len, a: dbuf, lda: len, b: q, ldb: s.ld,
                                    beta: n == 0 ? 0 : 1, c: dk, ldc: s.ld)
                    }
                    task += nth
                }
            }
        }
    }
}
