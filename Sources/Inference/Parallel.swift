import CKernels

/// Runs work on the engine's persistent C thread pool (the caller is thread 0).
/// One closure per parallel region — never per element — so the cost is a few microseconds.
public enum Parallel {
    /// Sets the number of threads used by the pool and by OpenBLAS.
    public static func configure(threads: Int) {
        let n = max(1, threads)
        ek_pool_init(Int32(n))
        BLAS.setThreads(n)
    }

    public static var threadCount: Int { Int(ek_pool_size()) }

    /// Calls `body(thread, threads)` once on every pool thread and returns when all are done.
    public static func run(_ body: (_ thread: Int, _ threads: Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var box = escapable
            withUnsafeMutablePointer(to: &box) { ptr in
                ek_parallel_for({ ctx, ith, nth in
                    ctx!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(ith), Int(nth))
                }, UnsafeMutableRawPointer(ptr))
            }
        }
    }

    /// Splits `0..<count` into contiguous ranges, one per thread.
    public static func forRange(_ count: Int, _ body: (_ range: Range<Int>) -> Void) {
        if count <= 1 || threadCount == 1 {
            body(0..<count)
            return
        }
        run { ith, nth in
            let lo = count * ith / nth, hi = count * (ith + 1) / nth
            if lo < hi { body(lo..<hi) }
        }
    }
}
