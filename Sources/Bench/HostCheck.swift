import CBLAS
import Foundation
import Inference

/// How fast this host is right now, against the machine that llama.cpp's figures were measured on
/// (`shared/reference/smollm2.md`: OpenBLAS sgemm 1024² and memory read bandwidth, by thread
/// count). Shared VMs vary by tens of percent from hour to hour; a ratio to llama.cpp's figures
/// means little without knowing whether the host was as fast as when those were taken.
public struct HostCheck {
    public let threads: Int

    public init(threads: Int) { self.threads = threads }

    /// The reference machine's figures: sgemm GFLOP/s and read GB/s, by thread count.
    static let referenceSgemm: [Int: Double] = [1: 71, 2: 139]
    static let referenceRead: [Int: Double] = [1: 14.7, 2: 18.5]

    /// One n × n OpenBLAS sgemm on `threads` threads, as the reference figure was taken (the engine
    /// keeps OpenBLAS on one thread, and gets it back so); GFLOP/s, the median of `repeats` (about a
    /// second: the host's speed over a moment, not its best instant).
    public func sgemm(n: Int = 1024, repeats: Int = 31, suffix: String = "") -> BenchResult {
        let count = n * n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 3 * count)
        defer { a.deallocate() }
        for i in 0..<(3 * count) { a[i] = Float(i % 97) * 0.01 - 0.4 }
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        var times: [Double] = []
        for run in 0...repeats {  // run 0 warms up
            let start = Stopwatch.now
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a, Int32(n), a + count, Int32(n), 0, a + 2 * count, Int32(n))
            if run > 0 { times.append(Stopwatch.seconds(since: start)) }
        }
        let flops = 2 * Double(n) * Double(n) * Double(n)
        return BenchResult(name: "host_sgemm\(n)\(suffix)", value: flops / median(times) * 1e-9, unit: "GFLOP/s",
                           reference: Self.referenceSgemm[threads], referenceName: "reference machine")
    }

    /// Sums a buffer of `megabytes` far larger than the caches, split over the pool's threads; GB/s,
    /// the median of `repeats`.
    public func memoryRead(megabytes: Int = 512, repeats: Int = 15, suffix: String = "") -> BenchResult {
        let count = megabytes << 18  // floats
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        var times: [Double] = [], total = 0.0
        let blocks = count / 32
        for run in 0...repeats {
            var sums = [Double](repeating: 0, count: Parallel.threadCount)
            let start = Stopwatch.now
            sums.withUnsafeMutableBufferPointer { out in
                Parallel.run { ith, nth in
                    typealias V = SIMD8<Float>
                    var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                    for i in (blocks * ith / nth)..<(blocks * (ith + 1) / nth) {
                        let p = UnsafeRawPointer(buffer + 32 * i)
                        a0 += p.loadUnaligned(as: V.self)
                        a1 += p.loadUnaligned(fromByteOffset: 32, as: V.self)
                        a2 += p.loadUnaligned(fromByteOffset: 64, as: V.self)
                        a3 += p.loadUnaligned(fromByteOffset: 96, as: V.self)
                    }
                    out[ith] = Double(a0.sum()) + Double(a1.sum()) + Double(a2.sum()) + Double(a3.sum())
                }
            }
            if run > 0 { times.append(Stopwatch.seconds(since: start)) }
            total = sums.reduce(0, +)
        }
        // Every element is 1 (and every partial sum an exact float): a wrong total means the loop
        // did not read what it claims.
        precondition(abs(total - Double(blocks * 32)) <= Double(blocks * 32) * 1e-6, "memory read check summed \(total), expected \(blocks * 32)")
        return BenchResult(name: "host_read\(suffix)", value: Double(count * 4) / median(times) * 1e-9, unit: "GB/s",
                           reference: Self.referenceRead[threads], referenceName: "reference machine")
    }
}
