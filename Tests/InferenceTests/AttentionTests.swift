import Foundation
@testable import Inference
import Testing

/// Attention's two paths (matrix products for runs of prompt rows, per-row for decoding) against a
/// plain double-precision reference (over the half-float keys and values the cache holds), on random
/// data with shared-parent caches and sliding windows.
struct AttentionTests {
    func reference(q: [Float], keys: [[Float]], values: [[Float]], heads: Int, kvHeads: Int, hd: Int,
                   pos: Int, window: Int?) -> [Float] {
        let group = heads / kvHeads
        var out = [Float](repeating: 0, count: heads * hd)
        let first = window.map { max(0, pos - $0 + 1) } ?? 0
        for h in 0..<heads {
            let g = h / group
            var s: [Double] = []
            for j in first...pos {
                var d = 0.0
                for i in 0..<hd { d += Double(q[h * hd + i]) * Double(keys[j][g * hd + i]) }
                s.append(d / Double(hd).squareRoot())
            }
            let m = s.max()!
            let e = s.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for i in 0..<hd {
                var acc = 0.0
                for (k, j) in (first...pos).enumerated() { acc += e[k] / z * Double(values[j][g * hd + i]) }
                out[h * hd + i] = Float(acc)
            }
        }
        return out
    }

    /// With a 600-position parent and a window of 5, the prompt path skips the key blocks before
    /// the window.
    @Test(arguments: [(nil, 7), (5, 7), (nil, 600), (5, 600)] as [(Int?, Int)])
    func bothPathsMatchReference(window: Int?, parentLen: Int) throws {
        let heads = 4, kvHeads = 2, hd = 16, layers = 1
        let kvDim = kvHeads * hd, qDim = heads * hd
        var rng = RandomStream(seed: 9)
        func rand(_ n: Int, _ scale: Float = 2) -> [Float] { (0..<n).map { _ in (rng.nextUnit() * 2 - 1) * scale } }
        let own = 12
        let parent = KVSequence(layers: layers, kvDimension: kvDim, reserve: parentLen)
        var keys: [[Float]] = [], values: [[Float]] = []
        parent.ensureCapacity(parentLen)
        for p in 0..<parentLen {
            let k = rand(kvDim, 4), v = rand(kvDim)
            keys.append(k.map { Float(Float16($0)) }); values.append(v.map { Float(Float16($0)) })
            parent.write(layer: 0, position: p, key: k, value: v)
        }
        parent.commit(length: parentLen)
        let child = parent.fork(reserve: 4)
        child.ensureCapacity(parentLen + own)
        for p in parentLen..<(parentLen + own) {
            let k = rand(kvDim, 4), v = rand(kvDim)
            keys.append(k.map { Float(Float16($0)) }); values.append(v.map { Float(Float16($0)) })
            child.write(layer: 0, position: p, key: k, value: v)
        }
        let q = rand(own * qDim, 3)
        let positions = Array(parentLen..<(parentLen + own))
        let shape = Attention.Shape(heads: heads, kvHeads: kvHeads, headDim: hd, scale: 1 / Float(hd).squareRoot(), window: window)
        for minRun in [1, 1000] {
            let att = Attention()
            att.gemmMinRun = minRun
            var out = [Float](repeating: .nan, count: own * qDim)
            q.withUnsafeBufferPointer { qb in
                out.withUnsafeMutableBufferPointer { ob in
                    att.run(q: qb.baseAddress!, out: ob.baseAddress!, rows: own,
                            sequences: Array(repeating: child, count: own), positions: positions, layer: 0, shape: shape)
                }
            }
            var worst: Float = 0
            for r in 0..<own {
                let expected = reference(q: Array(q[(r * qDim)..<((r + 1) * qDim)]), keys: keys, values: values,
                                         heads: heads, kvHeads: kvHeads, hd: hd, pos: positions[r], window: window)
                for i in 0..<qDim { worst = max(worst, abs(out[r * qDim + i] - expected[i])) }
            }
            #expect(worst < 1e-4, "path \(minRun == 1 ? "matrix" : "per-row"): largest error \(worst)")
        }
    }

    @Test func cacheHoldsHalfFloats() {
        let seq = KVSequence(layers: 3, kvDimension: 20, reserve: 10)
        #expect(seq.ownBytes == 10 * 3 * 2 * 20 * 2)
        seq.ensureCapacity(5)
        let k = (0..<20).map { Float($0) * 0.1 + 1e-4 }, v = (0..<20).map { -Float($0) / 3 }
        seq.write(layer: 2, position: 4, key: k, value: v)
        let (ks, vs) = seq.slot(layer: 2, position: 4)
        #expect((0..<20).allSatisfy { ks[$0] == Float16(k[$0]) && vs[$0] == Float16(v[$0]) })
        #expect(Float(ks[13]) != k[13])
    }
}
