import CBLAS
import Inference

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned float array owned by the trainer: parameters, gradients, optimizer moments,
/// activations. Allocated once per shape and reused every step.
public final class Floats: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ count: Int, zeroed: Bool = true) {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(count, 1) * MemoryLayout<Float>.stride) == 0, let raw else {
            fatalError("out of memory allocating \(count) floats")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        if zeroed { zero() }
    }

    public convenience init(_ values: [Float]) {
        self.init(values.count, zeroed: false)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { free(pointer) }

    public func zero() { memset(pointer, 0, count * MemoryLayout<Float>.stride) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

/// Matrix products through OpenBLAS (single-threaded calls), row-major, split over the engine's
/// thread pool: C's rows (or columns, when it is wider than tall) are cut into one block per thread,
/// at multiples of 16. Each element of C is one OpenBLAS dot product over the whole k in a fixed
/// order whichever block holds it, so the split changes no result (`deterministicLossCurve` checks
/// one thread against two).
public enum GEMM {
    /// C[m×n] = alpha·op(A)·op(B) + beta·C, where op(A) is m×k (A stored k×m when `transA`) and
    /// op(B) is k×n (B stored n×k when `transB`).
    @inline(__always)
    public static func serial(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            else if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product split over the pool: along C's rows when m ≥ n, else along its columns.
    public static func parallel(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let byRows = m >= n
        let extent = byRows ? m : n
        let threads = Parallel.threadCount
        if threads == 1 || extent < 32 || 2 * m * n * k < 2_000_000 {
            serial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
            return
        }
        Parallel.run { ith, nth in
            let lo = min(extent, (extent * ith / nth + 8) & ~15), hi = ith == nth - 1 ? extent : min(extent, (extent * (ith + 1) / nth + 8) & ~15)
            guard lo < hi else { return }
            if byRows {
                serial(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                       a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                       c: c + lo * ldc, ldc: ldc)
            } else {
                serial(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                       b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }
}
