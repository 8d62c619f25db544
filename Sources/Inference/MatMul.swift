import CKernels
import GGUF

/// Computes `Y[T×rows] = X[T×cols] · Wᵀ` for a weight matrix in any supported format.
///
/// One row (decoding) goes to the C kernels on the quantized blocks with 8-bit activations, reading
/// each weight once; several rows (prompt processing) go to OpenBLAS on weights dequantized per call
/// into one scratch buffer (cheap next to the product; the weights stay mapped), with float
/// activations. `independentRows` forces the kernels, whose per-row results do not depend on the
/// other rows of the batch.
final class MatMul: @unchecked Sendable {
    /// Row count from which the OpenBLAS path is used.
    let gemmMinRows = 2

    private let activations = FloatBuffer()
    private let denseScratch = FloatBuffer()
    /// LoRA adapters' low-rank terms, added after the products with the weights they adapt (`LoRA.swift`).
    var lora: LoRATerms?

    func apply(_ w: WeightMatrix, _ x: UnsafePointer<Float>, rows t: Int, _ y: UnsafeMutablePointer<Float>,
               independentRows: Bool = false) {
        defer { lora?.apply(w, x, rows: t, y, independentRows: independentRows) }
        if t >= gemmMinRows && !independentRows {
            let dense = denseWeights(w)
            BLAS.parallelGemmABt(m: t, n: w.rows, k: w.cols, a: x, lda: w.cols, b: dense, ldb: w.cols, c: y, ldc: w.rows)
            return
        }
        let rowBytes = Kernels.activationRowBytes(for: w.type, cols: w.cols)
        let stride = (rowBytes + 63) & ~63
        let act = activations.reserve((stride * t + 3) / 4)
        let actRaw = UnsafeMutableRawPointer(act)
        Parallel.forRange(t) { range in
            for i in range { Kernels.quantizeActivation(for: w.type, x + i * w.cols, actRaw + i * stride, cols: w.cols) }
        }
        ek_matmul(Int32(w.type.rawValue), w.base, Int32(w.rows), Int32(w.cols), actRaw, Int32(t), stride, y, Int32(w.rows))
    }

    private func denseWeights(_ w: WeightMatrix) -> UnsafePointer<Float> {
        if w.type == .f32 { return w.base.assumingMemoryBound(to: Float.self) }
        let dst = denseScratch.reserve(w.rows * w.cols)
        Parallel.forRange(w.rows) { range in
            for r in range { w.dequantizeRow(r, into: dst + r * w.cols) }
        }
        return UnsafePointer(dst)
    }
}
