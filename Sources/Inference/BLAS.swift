import CBLAS

/// The few BLAS calls the engine needs, with row-major conventions spelled out.
///
/// OpenBLAS runs single-threaded in the calling thread; the engine's own pool splits big products
/// over threads. Two thread pools spinning on two cores would steal each other's time slices.
enum BLAS {
    static func setThreads(_ n: Int) { openblas_set_num_threads(1) }

    /// `gemmABt` with the n output columns split across the pool's threads.
    static func parallelGemmABt(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let threads = Parallel.threadCount
        if threads == 1 || m * n * k < 1 << 18 {
            gemmABt(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            return
        }
        Parallel.run { ith, nth in
            // Column slices in multiples of 16 so that tile edges fall at the same places.
            let blocks = (n + 15) / 16
            let lo = min(n, blocks * ith / nth * 16), hi = min(n, blocks * (ith + 1) / nth * 16)
            if lo < hi {
                gemmABt(m: m, n: hi - lo, k: k, a: a, lda: lda, b: b + lo * ldb, ldb: ldb, c: c + lo, ldc: ldc)
            }
        }
    }

    /// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C   (row-major, B given as rows: `Y = X Wᵀ`).
    static func gemmABt(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                        alpha: Float = 1, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] = alpha · A[m×k] · B[k×n] + beta · C   (row-major).
    static func gemmAB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float = 1, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
