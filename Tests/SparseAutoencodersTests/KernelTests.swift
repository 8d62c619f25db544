import CKernels
import Core
import Foundation
import Testing

/// `ek_sae`'s kernels against plain Swift loops (a second implementation).
@Suite struct SAEKernelTests {
    func randomValues(_ n: Int, seed: UInt64, levels: Int? = nil) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            if let levels { return Float(rng.below(levels)) }   // many ties
            return Float(Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1)
        }
    }

    /// Indices of the k largest (ties: lower index first), over `allowed` columns.
    func referenceTopK(_ row: ArraySlice<Float>, k: Int, allowed: (Int) -> Bool) -> [Int32] {
        let base = row.startIndex
        let order = row.indices.filter { allowed($0 - base) }.sorted { a, b in row[a] > row[b] || (row[a] == row[b] && a < b) }
        let top = order.prefix(k).map { Int32($0 - base) }
        return top + [Int32](repeating: -1, count: k - top.count)
    }

    @Test(arguments: [(1, false), (7, false), (32, false), (32, true), (100, false)])
    func topKMatchesSorting(k: Int, ties: Bool) {
        let rows = 9, n = 523
        let p = randomValues(rows * n, seed: UInt64(k), levels: ties ? 5 : nil)
        var idx = [Int32](repeating: 0, count: rows * k), val = [Float](repeating: 0, count: rows * k)
        eks_topk_rows(p, Int32(rows), Int32(n), Int32(n), Int32(k), nil, &idx, &val)
        for r in 0..<rows {
            let want = referenceTopK(p[(r * n)..<((r + 1) * n)], k: k) { _ in true }
            #expect(Array(idx[(r * k)..<((r + 1) * k)]) == want, "row \(r)")
            for s in 0..<k { #expect(val[r * k + s] == p[r * n + Int(want[s])]) }
        }
    }

    @Test func maskedTopKPadsWhenFewAreAllowed() {
        let rows = 4, n = 300, k = 20
        let p = randomValues(rows * n, seed: 9)
        var mask = [UInt8](repeating: 0, count: n)
        for j in stride(from: 0, to: n, by: 23) { mask[j] = 1 }   // 14 allowed, fewer than k
        var idx = [Int32](repeating: 0, count: rows * k), val = [Float](repeating: 7, count: rows * k)
        eks_topk_rows(p, Int32(rows), Int32(n), Int32(n), Int32(k), mask, &idx, &val)
        for r in 0..<rows {
            let want = referenceTopK(p[(r * n)..<((r + 1) * n)], k: k) { mask[$0] != 0 }
            #expect(Array(idx[(r * k)..<((r + 1) * k)]) == want)
            #expect(val[r * k + k - 1] == 0, "padding carries value 0")
        }
    }

    @Test func sparseProductsMatchDenseLoops() {
        let rows = 37, k = 5, n = 61, d = 19
        let W = randomValues(n * d, seed: 1), X = randomValues(rows * d, seed: 2), coef = randomValues(rows * k, seed: 3)
        let bias = randomValues(d, seed: 4)
        var rng = SplitMix64(seed: 5)
        let idx: [Int32] = (0..<(rows * k)).map { i in i % 7 == 6 ? -1 : Int32(rng.below(n)) }

        var out = [Float](repeating: 0, count: rows * d)
        eks_sparse_decode(idx, coef, Int32(rows), Int32(k), W, Int32(d), bias, &out)
        var dots = [Float](repeating: 0, count: rows * k)
        eks_sparse_dot(idx, Int32(rows), Int32(k), W, Int32(d), X, &dots)
        var gW = [Float](repeating: 0.5, count: n * d), gb = [Float](repeating: 0.25, count: n)
        eks_scatter_rows(idx, coef, Int32(rows), Int32(k), X, Int32(d), &gW, &gb, Int32(n))

        var wantOut = [Double](repeating: 0, count: rows * d), wantDots = [Double](repeating: 0, count: rows * k)
        var wantGW = [Double](repeating: 0.5, count: n * d), wantGb = [Double](repeating: 0.25, count: n)
        for r in 0..<rows {
            for i in 0..<d { wantOut[r * d + i] = Double(bias[i]) }
            for s in 0..<k where idx[r * k + s] >= 0 {
                let j = Int(idx[r * k + s]), c = Double(coef[r * k + s])
                for i in 0..<d {
                    wantOut[r * d + i] += c * Double(W[j * d + i])
                    wantDots[r * k + s] += Double(W[j * d + i]) * Double(X[r * d + i])
                    wantGW[j * d + i] += c * Double(X[r * d + i])
                }
                wantGb[j] += c
            }
        }
        for i in 0..<(rows * d) { #expect(abs(Double(out[i]) - wantOut[i]) < 1e-5) }
        for i in 0..<(rows * k) { #expect(abs(Double(dots[i]) - wantDots[i]) < 1e-5) }
        for i in 0..<(n * d) { #expect(abs(Double(gW[i]) - wantGW[i]) < 1e-5) }
        for i in 0..<n { #expect(abs(Double(gb[i]) - wantGb[i]) < 1e-5) }
    }

    @Test func decoderConstraintKernels() {
        let n = 13, d = 9
        var W = randomValues(n * d, seed: 11), g = randomValues(n * d, seed: 12)
        eks_normalize_rows(&W, Int32(n), Int32(d))
        for j in 0..<n {
            let norm = (0..<d).reduce(0.0) { $0 + Double(W[j * d + $1]) * Double(W[j * d + $1]) }
            #expect(abs(norm - 1) < 1e-5)
        }
        eks_remove_parallel(&g, W, Int32(n), Int32(d))
        for j in 0..<n {
            let dot = (0..<d).reduce(0.0) { $0 + Double(W[j * d + $1]) * Double(g[j * d + $1]) }
            #expect(abs(dot) < 1e-5, "row \(j) keeps a parallel component \(dot)")
        }
    }

    @Test func adamMatchesTheFormula() {
        let n = 1003
        var p = randomValues(n, seed: 21), m = randomValues(n, seed: 22), v = randomValues(n, seed: 23).map { abs($0) }
        let g = randomValues(n, seed: 24)
        let (p0, m0, v0) = (p, m, v)
        let (lr, b1, b2, eps): (Float, Float, Float, Float) = (1e-2, 0.9, 0.999, 1e-8)
        let (c1, c2) = (1 - pow(b1, 3), 1 - pow(b2, 3))
        eks_adam(&p, g, &m, &v, n, lr, b1, b2, eps, c1, c2)
        for i in 0..<n {
            let mi = Double(b1) * Double(m0[i]) + Double(1 - b1) * Double(g[i])
            let vi = Double(b2) * Double(v0[i]) + Double(1 - b2) * Double(g[i]) * Double(g[i])
            let want = Double(p0[i]) - Double(lr) * (mi / Double(c1)) / ((vi / Double(c2)).squareRoot() + Double(eps))
            #expect(abs(Double(m[i]) - mi) < 1e-6 && abs(Double(v[i]) - vi) < 1e-6)
            #expect(abs(Double(p[i]) - want) < 1e-5, "element \(i)")
        }
    }
}
