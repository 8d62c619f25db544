import CKernels
import GGUF

/// Computes `Y[T×rows] = X[T×cols] · Wᵀ` for a weight matrix in any supported format.
///
/// One row (decoding) goes to the C kernels on the quantized blocks with 8-bit activations, reading
/// each weight once; several rows (prompt processing) go to OpenBLAS, each thread dequantizing the
/// weight rows of one chunk of output columns into its own scratch (a few hundred KB, in its cache)
/// and multiplying them with float activations. `independentRows` forces the kernels, whose per-row
/// results do not depend on the other rows of the batch.
final class MatMul: @unchecked Sendable {
    /// Row count from which the OpenBLAS path is used.
    let gemmMinRows = 2

    private let activations = FloatBuffer()
    /// One dequantization scratch per pool thread.
    private var denseScratch: [FloatBuffer] = []
    /// LoRA adapters' low-rank terms, added after the products with the weights they adapt (`LoRA.swift`).
    var lora: LoRATerms?

    func apply(_ w: WeightMatrix, _ x: UnsafePointer<Float>, rows t: Int, _ y: UnsafeMutablePointer<Float>,
               independentRows: Bool = false) {
        if t >= gemmMinRows && !independentRows {
            gemm([(w, y)], x, rows: t)
        } else {
            kernels(w, x, rows: t, y)
        }
        lora?.apply(w, x, rows: t, y, independentRows: independentRows)
    }

    /// Several products of the same activations (Q, K and V; gate and up): on the OpenBLAS path
    /// their column chunks share one parallel region, so that small products (K and V) do not
    /// leave a thread idle. Each result is the one `apply` gives.
    func apply(_ products: [(WeightMatrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, rows t: Int,
               independentRows: Bool = false) {
        if t >= gemmMinRows && !independentRows {
            gemm(products, x, rows: t)
        } else {
            for (w, y) in products { kernels(w, x, rows: t, y) }
        }
        if let lora {
            for (w, y) in products { lora.apply(w, x, rows: t, y, independentRows: independentRows) }
        }
    }

    private func kernels(_ w: WeightMatrix, _ x: UnsafePointer<Float>, rows t: Int, _ y: UnsafeMutablePointer<Float>) {
        let rowBytes = Kernels.activationRowBytes(for: w.type, cols: w.cols)
        let stride = (rowBytes + 63) & ~63
        let act = activations.reserve((stride * t + 3) / 4)
        let actRaw = UnsafeMutableRawPointer(act)
        Parallel.forRange(t) { range in
            for i in range { Kernels.quantizeActivation(for: w.type, x + i * w.cols, actRaw + i * stride, cols: w.cols) }
        }
        ek_matmul(Int32(w.type.rawValue), w.base, Int32(w.rows), Int32(w.cols), actRaw, Int32(t), stride, y, Int32(w.rows))
    }

    /// `Y = X Wᵀ` for every product, in fixed column chunks (`BLAS.columnChunk`) spread over the
    /// pool's threads; each chunk's weight rows are dequantized by the thread that multiplies them.
    private func gemm(_ products: [(WeightMatrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, rows t: Int) {
        var chunks: [(product: Int, lo: Int, hi: Int)] = []
        for (p, (w, _)) in products.enumerated() {
            let size = BLAS.columnChunk(for: w.rows)
            for lo in stride(from: 0, to: w.rows, by: size) { chunks.append((p, lo, min(w.rows, lo + size))) }
        }
        let threads = Parallel.threadCount
        while denseScratch.count < threads { denseScratch.append(FloatBuffer()) }
        let scratch = denseScratch
        func run(_ chunk: (product: Int, lo: Int, hi: Int), _ buffer: FloatBuffer) {
            let (w, y) = products[chunk.product]
            let k = w.cols, n = chunk.hi - chunk.lo
            let b: UnsafePointer<Float>
            if w.type == .f32 {
                b = w.base.assumingMemoryBound(to: Float.self) + chunk.lo * k
            } else {
                let dst = buffer.reserve(n * k)
                for r in 0..<n { w.dequantizeRow(chunk.lo + r, into: dst + r * k) }
                b = UnsafePointer(dst)
            }
            BLAS.gemmABt(m: t, n: n, k: k, a: x, lda: k, b: b, ldb: k, c: y + chunk.lo, ldc: w.rows)
        }
        if threads == 1 || chunks.count == 1 {
            for c in chunks { run(c, scratch[0]) }
            return
        }
        Parallel.run { ith, nth in
            for i in (chunks.count * ith / nth)..<(chunks.count * (ith + 1) / nth) { run(chunks[i], scratch[ith]) }
        }
    }
}
