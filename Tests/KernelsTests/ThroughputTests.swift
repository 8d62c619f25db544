import CBLAS
import CKernels
import Foundation
import TestSupport
import GGUF
import Testing

/// Throughput figures, printed only (no timing assertions: the host is shared and noisy).
/// Opt in with EMLAB_KERNEL_BENCH=1; best of several trials.
@Suite("Kernel throughput (prints only)", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["EMLAB_KERNEL_BENCH"] == "1", "set EMLAB_KERNEL_BENCH=1 to run"))
struct ThroughputTests {
    static func seconds(_ body: () -> Void) -> Double {
        let c = ContinuousClock()
        let d = c.measure(body)
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    static func best(trials: Int = 7, iterations: Int, _ body: () -> Void) -> Double {
        var b = Double.infinity
        for _ in 0..<trials { b = min(b, seconds { for _ in 0..<iterations { body() } } / Double(iterations)) }
        return b
    }

    /// blk.0.ffn_up.weight when the model is present, random Q4_1 blocks otherwise.
    static func ffnUp() -> (bytes: [UInt8], rows: Int, cols: Int, source: String) {
        if modelPresent, let f = try? GGUFFile(path: modelPath), let t = f.tensor(named: "blk.0.ffn_up.weight") {
            return (Array(f.data(for: t)), t.dimensions[1], t.dimensions[0], "model blk.0.ffn_up.weight")
        }
        var rng = SplitMix64(seed: 3)
        return (randomRow(.q4_1, count: 1536 * 576, rng: &rng), 1536, 576, "random Q4_1")
    }

    @Test("ek_matmul vs OpenBLAS sgemm, Q4_1 576x1536, nvec 1...64")
    func matmulGflops() {
        let (w, rows, cols, source) = Self.ffnUp()
        var wf = [Float](repeating: 0, count: rows * cols)
        w.withUnsafeBytes { wp in
            wf.withUnsafeMutableBufferPointer {
                for r in 0..<rows { ek_dequantize_row(GGMLType.q4_1.ek, wp.baseAddress! + r * 20 * cols / 32, $0.baseAddress! + r * cols, Int32(cols)) }
            }
        }
        let xr = Int(ek_row_size(GGMLType.q8_1.ek, Int32(cols)))
        for threads: Int32 in [1, 2] {
            ek_pool_init(threads)
            openblas_set_num_threads(threads)
            for nvec in [1, 4, 8, 16, 64] {
                var rng = SplitMix64(seed: UInt64(nvec))
                let xf = randomActivations(cols * nvec, rng: &rng)
                var xq = [UInt8](repeating: 0, count: xr * nvec)
                var y = [Float](repeating: 0, count: rows * nvec)
                let flops = 2.0 * Double(rows * cols * nvec)
                let iters = max(2, Int(1e8 / flops))
                let tq = Self.best(iterations: iters) {
                    xf.withUnsafeBufferPointer { xp in
                        xq.withUnsafeMutableBytes { q in
                            for v in 0..<nvec { ek_quantize_row_q8_1(xp.baseAddress! + v * cols, q.baseAddress! + v * xr, Int32(cols)) }
                        }
                    }
                    w.withUnsafeBytes { wp in
                        xq.withUnsafeBytes { q in
                            y.withUnsafeMutableBufferPointer {
                                ek_matmul(GGMLType.q4_1.ek, wp.baseAddress, Int32(rows), Int32(cols), q.baseAddress, Int32(nvec), xr, $0.baseAddress, Int32(rows))
                            }
                        }
                    }
                }
                let tb = Self.best(iterations: iters) {
                    xf.withUnsafeBufferPointer { xp in
                        wf.withUnsafeBufferPointer { wp in
                            y.withUnsafeMutableBufferPointer {
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(nvec), Int32(rows), Int32(cols), 1,
                                            xp.baseAddress, Int32(cols), wp.baseAddress, Int32(cols), 0, $0.baseAddress, Int32(rows))
                            }
                        }
                    }
                }
                print(String(format: "[%@] threads %d nvec %2d: ek_matmul (incl. activation quant) %7.1f us %6.1f GFLOP/s | sgemm f32 %7.1f us %6.1f GFLOP/s",
                             source, threads, nvec, tq * 1e6, flops / tq / 1e9, tb * 1e6, flops / tb / 1e9))
            }
        }
        ek_pool_init(2)
    }

    @Test("matvec bandwidth: Q4_1 576x1536, 1536x576, Q8_0 576x49152 (hot = same matrix, cold = rotating copies)")
    func matvecBandwidth() {
        let shapes: [(GGMLType, Int, Int)] = [(.q4_1, 1536, 576), (.q4_1, 576, 1536), (.q8_0, 49152, 576)]
        for threads: Int32 in [1, 2] {
            ek_pool_init(threads)
            for (t, rows, cols) in shapes {
                var rng = SplitMix64(seed: 9)
                let one = randomRow(t, count: rows * cols, rng: &rng)
                let copies = max(3, (160 << 20) / one.count)
                var big = [UInt8](repeating: 0, count: one.count * copies)
                for c in 0..<copies { big.replaceSubrange((c * one.count)..<((c + 1) * one.count), with: one) }
                let xq = quantizeActivation(for: t, randomActivations(cols, rng: &rng))
                var y = [Float](repeating: 0, count: rows)
                let iters = max(3, 200_000_000 / one.count)
                // Pointers are taken once, outside the timed loops.
                let (hot, cold) = big.withUnsafeBytes { wp in
                    xq.withUnsafeBytes { xp in
                        y.withUnsafeMutableBufferPointer { ybuf -> (Double, Double) in
                            let yp = ybuf.baseAddress
                            var next = 0
                            func run(_ offset: Int) {
                                ek_matvec(t.ek, wp.baseAddress! + offset, Int32(rows), Int32(cols), xp.baseAddress, yp)
                            }
                            let hot = Self.best(iterations: iters) { run(0) }
                            let cold = Self.best(iterations: copies) { next = (next + 7) % copies; run(next * one.count) }
                            return (hot, cold)
                        }
                    }
                }
                print(String(format: "threads %d %@ %dx%d (%.2f MB): hot %8.1f us %6.2f GB/s | cold %8.1f us %6.2f GB/s",
                             threads, t.name, cols, rows, Double(one.count) / 1e6, hot * 1e6, Double(one.count) / hot / 1e9,
                             cold * 1e6, Double(one.count) / cold / 1e9))
            }
        }
        ek_pool_init(2)
    }
}
