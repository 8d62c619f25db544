import CBLAS
import CKernels

/// The few BLAS calls the engine needs, with row-major conventions spelled out.
///
/// OpenBLAS runs single-threaded in the calling thread; the engine's own pool splits big products
/// over threads. Two thread pools spinning on two cores would steal each other's time slices.
enum BLAS {
    static func setThreads(_ n: Int) { openblas_set_num_threads(1) }

    /// Output columns per chunk of a product with `n` output columns: about 256, in an even number
    /// of chunks (so that two threads share them evenly) of a multiple of 8 columns. It depends on
    /// `n` alone, so every chunk is the same OpenBLAS call whatever the thread count: results do not
    /// depend on how many threads ran them.
    static func columnChunk(for n: Int) -> Int {
        let count = (n + 255) / 256
        let even = count + (count & 1)
        return ((n + even - 1) / even + 7) & ~7
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

/// Which OpenBLAS kernels this process runs (chosen by CPU, or by `OPENBLAS_CORETYPE`), e.g. `Haswell`.
public var blasCoreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
}

/// Which compute paths this process runs: the C kernels' instruction set (with `+avx512vnni` where
/// the row-lane tiles run on AVX-512 VNNI), OpenBLAS's kernels, and the vector extensions the CPU
/// offers that no kernel here uses.
public struct KernelPath: Sendable, CustomStringConvertible {
    public let kernels: String
    public let blas: String
    /// AVX-512 and VNNI flags the CPU reports (from /proc/cpuinfo) that the kernels leave unused.
    public let unusedExtensions: [String]

    public static var current: KernelPath {
        let wanted = ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni"]
        let used: Set<String> = ek_vnni_enabled() != 0 ? ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"] : []
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
            .flatMap { $0.split(separator: "\n").first { $0.hasPrefix("flags") } }
            .map { Set($0.split(separator: " ").map(String.init)) } ?? []
        return KernelPath(kernels: String(cString: ek_kernel_isa()), blas: blasCoreName,
                          unusedExtensions: wanted.filter { flags.contains($0) && !used.contains($0) })
    }

    public var description: String {
        "\(kernels), OpenBLAS \(blas)" + (unusedExtensions.isEmpty ? "" : " (CPU also offers \(unusedExtensions.joined(separator: " ")), unused)")
    }
}
