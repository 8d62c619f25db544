import CKernels
import Foundation
import TestSupport
import GGUF
import Testing

/// Weight matrix and activations for one type, with every activation row padded so strides matter.
struct Problem {
    let type: GGMLType, rows: Int, cols: Int, nvec: Int
    let w: [UInt8], xq: [UInt8], xStride: Int
    init(_ type: GGMLType, rows: Int, cols: Int, nvec: Int, seed: UInt64) {
        self.type = type; self.rows = rows; self.cols = cols; self.nvec = nvec
        var rng = SplitMix64(seed: seed)
        w = randomRow(type, count: rows * cols, rng: &rng)
        let rowBytes = Int(ek_row_size(ek_activation_type(type.ek), Int32(cols)))
        xStride = rowBytes + 40
        var x = [UInt8](repeating: 0, count: xStride * nvec)
        for v in 0..<nvec {
            let q = quantizeActivation(for: type, randomActivations(cols, rng: &rng))
            x.replaceSubrange((v * xStride)..<(v * xStride + rowBytes), with: q)
        }
        xq = x
    }
    /// `p`'s shapes with other bytes (hand-made extreme quants) and, given, its first `nvec` vectors only.
    init(copying p: Problem, w: [UInt8], xq: [UInt8], nvec: Int? = nil) {
        type = p.type; rows = p.rows; cols = p.cols; self.nvec = nvec ?? p.nvec; xStride = p.xStride
        self.w = w
        self.xq = xq
    }
    /// Y[v*yStride + r], padding lanes left as a sentinel.
    func matmul(yStride: Int) -> [Float] {
        var y = [Float](repeating: -12345, count: yStride * nvec)
        w.withUnsafeBytes { wp in
            xq.withUnsafeBytes { xp in
                y.withUnsafeMutableBufferPointer {
                    ek_matmul(type.ek, wp.baseAddress, Int32(rows), Int32(cols), xp.baseAddress, Int32(nvec),
                              xStride, $0.baseAddress, Int32(yStride))
                }
            }
        }
        return y
    }
    func rowDot(_ r: Int, _ v: Int, reference: Bool = false) -> Float {
        let wrow = type.byteCount(elements: cols)
        return w.withUnsafeBytes { wp in
            xq.withUnsafeBytes {
                ekDot(type, cols, wp.baseAddress! + r * wrow, $0.baseAddress! + v * xStride, reference: reference)
            }
        }
    }
}

@Suite("Matrix products")
struct MatmulTests {
    struct Shape: CustomStringConvertible {
        let type: GGMLType, rows: Int, cols: Int, nvec: Int
        var description: String { "\(type) \(rows)x\(cols) nvec=\(nvec)" }
    }
    static let shapes: [Shape] = weightTypes.flatMap { t -> [Shape] in
        let cols = t.isKQuant ? 512 : 96
        return [(1, 1), (3, 1), (13, 1), (37, 2), (67, 5), (21, 8), (19, 17), (6, 3), (11, 12)].map {
            Shape(type: t, rows: $0.0, cols: cols, nvec: $0.1)
        }
    } + legacyTypes.flatMap { t -> [Shape] in
        // The 8-row panels (nvec >= 2): row counts off multiples of 8, vector groups of 4 with
        // every remainder, odd block counts.
        [(8, 2, 160), (7, 3, 160), (29, 4, 160), (17, 5, 544), (16, 8, 96), (9, 9, 160), (45, 17, 544), (43, 64, 160)].map {
            Shape(type: t, rows: $0.0, cols: $0.2, nvec: $0.1)
        }
    } + kQuantTypes.flatMap { t -> [Shape] in
        // The K-quant panels: the same around 8 rows and the vector groups, 1 to 5 super-blocks.
        [(8, 2, 256), (7, 3, 512), (29, 4, 256), (17, 5, 1280), (16, 8, 256), (9, 9, 768), (1, 2, 512),
         (45, 17, 512), (43, 64, 256), (15, 6, 1024)].map {
            Shape(type: t, rows: $0.0, cols: $0.2, nvec: $0.1)
        }
    } + [Shape(type: .q4_1, rows: 1536, cols: 576, nvec: 1), Shape(type: .q8_0, rows: 301, cols: 1536, nvec: 16),
         Shape(type: .q4_1, rows: 203, cols: 1536, nvec: 64), Shape(type: .q6_K, rows: 129, cols: 768, nvec: 9),
         Shape(type: .q4_K, rows: 203, cols: 2048, nvec: 64), Shape(type: .q6_K, rows: 75, cols: 2048, nvec: 64)]
    static let legacyTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0]
    static let kQuantTypes: [GGMLType] = [.q4_K, .q5_K, .q6_K]

    /// Every tile shape evaluates the same arithmetic per (row, vector), so a result does not depend
    /// on the batch it was computed in, the tile it fell into, or the thread count.
    /// Quantized types also against the scalar twin directly (float rows: the twin sums in another order).
    @Test("matmul equals per-row ek_vec_dot (and its scalar twin) exactly and leaves padding alone", arguments: shapes)
    func matchesRowDots(s: Shape) {
        let p = Problem(s.type, rows: s.rows, cols: s.cols, nvec: s.nvec, seed: UInt64(s.rows * 1000 + s.nvec))
        let yStride = s.rows + 3
        let y = p.matmul(yStride: yStride)
        let quantized = s.type.blockSize > 1
        var bad = 0
        for v in 0..<s.nvec {
            for r in 0..<s.rows {
                let got = y[v * yStride + r], dot = p.rowDot(r, v), twin = quantized ? p.rowDot(r, v, reference: true) : dot
                if got.bitPattern != dot.bitPattern || got.bitPattern != twin.bitPattern {
                    if bad == 0 { Issue.record("\(s): Y[\(v)][\(r)] = \(got), dot = \(dot), twin = \(twin)") }
                    bad += 1
                }
            }
            for r in s.rows..<yStride { #expect(y[v * yStride + r] == -12345) }
        }
        #expect(bad == 0)
    }

    @Test("matvec is matmul with one vector")
    func matvec() {
        let p = Problem(.q4_1, rows: 77, cols: 576, nvec: 1, seed: 5)
        var y = [Float](repeating: 0, count: 77)
        p.w.withUnsafeBytes { wp in
            p.xq.withUnsafeBytes { xp in
                y.withUnsafeMutableBufferPointer { ek_matvec(GGMLType.q4_1.ek, wp.baseAddress, 77, 576, xp.baseAddress, $0.baseAddress) }
            }
        }
        for r in 0..<77 { #expect(y[r] == p.rowDot(r, 0)) }
    }
}

/// The row-lane tiles (several vectors) and the 32-element types' one-vector tiles on AVX-512 VNNI
/// against the AVX2 ones. They switch the process-wide choice, so they run one at a time (other
/// tests may run meanwhile: both paths give the same bits).
@Suite("Quantized tiles on AVX-512 VNNI", .serialized)
struct VNNITests {
    static let shapes = MatmulTests.shapes.filter { $0.type.blockSize > 1 && ($0.nvec >= 2 || !$0.type.isKQuant) }

    @Test("VNNI tiles equal the AVX2 tiles and the scalar twin bit for bit", .enabled(if: ek_vnni_available() != 0, "this CPU has no AVX-512 VNNI"),
          arguments: shapes)
    func equalsAVX2(s: MatmulTests.Shape) {
        Self.checkBothPaths(Problem(s.type, rows: s.rows, cols: s.cols, nvec: s.nvec, seed: UInt64(s.rows * 7919 + s.nvec)),
                            yStride: s.rows + 3, label: "\(s)")
    }

    /// `p`'s product on AVX2 and then on VNNI (the process-wide choice restored after): the two equal
    /// bit for bit, and each entry equals the scalar twin's row dot.
    static func checkBothPaths(_ p: Problem, yStride: Int, label: String) {
        let before = ek_vnni_enabled()
        defer { ek_set_vnni(before) }
        #expect(ek_set_vnni(0) == 0)
        #expect(String(cString: ek_kernel_isa()) == "avx2+fma+f16c")
        let avx2 = p.matmul(yStride: yStride)
        #expect(ek_set_vnni(1) == 1)
        #expect(String(cString: ek_kernel_isa()) == "avx2+fma+f16c+avx512vnni")
        let vnni = p.matmul(yStride: yStride)
        #expect(vnni.map(\.bitPattern) == avx2.map(\.bitPattern))
        var bad = 0
        for v in 0..<p.nvec {
            for r in 0..<p.rows where vnni[v * yStride + r].bitPattern != p.rowDot(r, v, reference: true).bitPattern { bad += 1 }
        }
        #expect(bad == 0, "\(label): \(bad) entries differ from the scalar twin")
    }

    /// Extreme quants: -128 weights (Q8_0 stores them: |w| is 128 as an unsigned byte on AVX2, and
    /// w ^ 0x80 is 0 on VNNI) and ±127 activations everywhere, where an int16 stage would be closest
    /// to overflowing.
    @Test("extreme Q8_0 quants give the same sums on both paths", .enabled(if: ek_vnni_available() != 0, "this CPU has no AVX-512 VNNI"))
    func extremes() {
        let p = Problem(.q8_0, rows: 16, cols: 256, nvec: 5, seed: 3)
        var w = p.w, x = p.xq
        for blockStart in stride(from: 0, to: w.count, by: 34) {
            for i in 0..<32 { w[blockStart + 2 + i] = i % 3 == 0 ? 0x80 : (i % 3 == 1 ? 0x7F : 0x81) }
        }
        for v in 0..<5 {
            for b in 0..<(256 / 32) {
                let start = v * p.xStride + b * 34
                for i in 0..<32 { x[start + 2 + i] = UInt8(bitPattern: (i + v) % 2 == 0 ? 127 : -127) }
            }
        }
        Self.checkBothPaths(Problem(copying: p, w: w, xq: x), yStride: 16, label: "extreme Q8_0 quants")
        // one vector: the 4-row tiles
        let one = Problem(copying: p, w: w, xq: Array(x[0..<p.xStride]), nvec: 1)
        Self.checkBothPaths(one, yStride: 16, label: "extreme Q8_0 quants, one vector")
    }
}

/// Tests that resize the global pool run one at a time.
@Suite("Thread pool", .serialized)
struct PoolTests {
    @Test("results are identical with 1 and 2 threads")
    func oneVersusTwo() {
        let probs = [Problem(.q4_1, rows: 1536, cols: 576, nvec: 1, seed: 1), Problem(.q8_0, rows: 999, cols: 576, nvec: 3, seed: 2),
                     Problem(.q4_K, rows: 257, cols: 512, nvec: 6, seed: 3), Problem(.q5_0, rows: 640, cols: 640, nvec: 16, seed: 4),
                     Problem(.q4_1, rows: 203, cols: 576, nvec: 64, seed: 5), Problem(.q5_1, rows: 301, cols: 160, nvec: 9, seed: 6),
                     Problem(.q6_K, rows: 131, cols: 768, nvec: 9, seed: 7), Problem(.q5_K, rows: 77, cols: 512, nvec: 64, seed: 8),
                     Problem(.q4_K, rows: 640, cols: 1024, nvec: 2, seed: 9)]
        ek_pool_init(1)
        #expect(ek_pool_size() == 1)
        let one = probs.map { $0.matmul(yStride: $0.rows) }
        ek_pool_init(2)
        #expect(ek_pool_size() == 2)
        let two = probs.map { $0.matmul(yStride: $0.rows) }
        for i in probs.indices { #expect(one[i].map(\.bitPattern) == two[i].map(\.bitPattern), "problem \(i)") }
    }

    /// Per-thread counters; each participant only touches its own slot.
    /// Raw buffers, not arrays: participants write concurrently (to distinct slots).
    final class Counters: @unchecked Sendable {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        let onOtherThread = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        let caller = pthread_self()
        var workMicroseconds: UInt64 = 0
        let lastNth = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        let nested = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        init() {
            hits.initialize(repeating: 0, count: 64)
            onOtherThread.initialize(repeating: 0, count: 64)
            lastNth.initialize(repeating: 0, count: 64)
            nested.initialize(repeating: -1, count: 64)
        }
        deinit { hits.deallocate(); onOtherThread.deallocate(); lastNth.deallocate(); nested.deallocate() }
    }

    func dispatch(_ c: Counters, times: Int) {
        withExtendedLifetime(c) {
            let ctx = Unmanaged.passUnretained(c).toOpaque()
            for _ in 0..<times {
                ek_parallel_for({ ctx, ith, nth in
                    let c = Unmanaged<Counters>.fromOpaque(ctx!).takeUnretainedValue()
                    c.hits[Int(ith)] += 1
                    c.lastNth[Int(ith)] = nth
                    if pthread_equal(pthread_self(), c.caller) == 0 { c.onOtherThread[Int(ith)] += 1 }
                    if c.workMicroseconds > 0 {  // busy work, so a worker has time to take its slot
                        let end = DispatchTime.now().uptimeNanoseconds + c.workMicroseconds * 1000
                        while DispatchTime.now().uptimeNanoseconds < end {}
                    }
                }, ctx)
            }
        }
    }

    @Test("many rapid dispatches run every participant exactly once each")
    func rapid() {
        ek_pool_init(2)
        let c = Counters()
        let clock = ContinuousClock()
        let n = 20_000
        let t = clock.measure { dispatch(c, times: n) }
        #expect(c.hits[0] == n && c.hits[1] == n)
        #expect(c.hits[2] == 0)
        #expect(c.lastNth[0] == 2 && c.lastNth[1] == 2)
        print("ek_parallel_for: \(t / n) per empty dispatch with 2 threads")
    }

    @Test("workers take slots: spinning, and woken from the futex (spin window 0)")
    func workersParticipate() {
        ek_pool_init(2)
        let spinning = Counters()
        spinning.workMicroseconds = 300
        dispatch(spinning, times: 50)
        #expect(spinning.hits[0] == 50 && spinning.hits[1] == 50)
        #expect(spinning.onOtherThread[0] == 0, "slot 0 always runs on the caller")
        #expect(spinning.onOtherThread[1] > 0, "the worker never ran a slot")

        ek_pool_set_spin_us(0)
        defer { ek_pool_set_spin_us(200) }
        let sleeping = Counters()
        sleeping.workMicroseconds = 2000
        for _ in 0..<20 {
            usleep(1000)  // the worker falls asleep on the futex between regions
            dispatch(sleeping, times: 1)
        }
        #expect(sleeping.hits[0] == 20 && sleeping.hits[1] == 20)
        #expect(sleeping.onOtherThread[1] > 0, "a sleeping worker was never woken")
    }

    @Test("re-init with other counts, and idempotent init")
    func reinit() {
        for n: Int32 in [1, 2, 2, 3, 1, 2] {
            ek_pool_init(n)
            #expect(ek_pool_size() == n)
            let c = Counters()
            dispatch(c, times: 50)
            for i in 0..<Int(n) { #expect(c.hits[i] == 50, "n=\(n) ith=\(i)") }
            #expect(c.hits[Int(n)] == 0)
        }
        ek_pool_init(0)
        #expect(ek_pool_size() >= 1)
        ek_pool_init(2)
    }

    @Test("a region started inside a region runs inline with nth = 1")
    func nested() {
        ek_pool_init(2)
        let c = Counters()
        withExtendedLifetime(c) {
            ek_parallel_for({ ctx, ith, _ in
                let c = Unmanaged<Counters>.fromOpaque(ctx!).takeUnretainedValue()
                c.hits[Int(ith)] += 1
                var probe: (Int32, Int32, Int32) = (-1, -1, 0)  // inner (ith, nth, calls)
                withUnsafeMutablePointer(to: &probe) { pp in
                    ek_parallel_for({ p, ith2, nth2 in
                        let q = p!.assumingMemoryBound(to: (Int32, Int32, Int32).self)
                        q.pointee.0 = ith2
                        q.pointee.1 = nth2
                        q.pointee.2 += 1
                    }, pp)
                }
                c.nested[Int(ith)] = probe == (0, 1, 1) ? 1 : 0
            }, Unmanaged.passUnretained(c).toOpaque())
        }
        #expect(c.hits[0] == 1 && c.hits[1] == 1)
        #expect(c.nested[0] == 1 && c.nested[1] == 1)
    }

    @Test("concurrent callers are serialized, not mixed")
    func concurrentCallers() {
        ek_pool_init(2)
        let a = Counters(), b = Counters()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            dispatch(i == 0 ? a : b, times: 2000)
        }
        #expect(a.hits[0] == 2000 && a.hits[1] == 2000)
        #expect(b.hits[0] == 2000 && b.hits[1] == 2000)
    }
}
