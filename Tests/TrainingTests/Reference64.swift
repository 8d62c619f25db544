import Foundation
import Inference
@testable import Training

/// A float64 forward pass written from the definitions, loop by loop, independent of the trainer's
/// code: the reference for finite-difference gradient checks. For qwen2 shapes it adds the Q/K/V
/// biases after the projections and rotates the pairs (i, i + ropeDims/2) of each head; for gemma3
/// shapes it scales the embeddings by √d, norms each head of Q and K, rotates halves with the local
/// or global base, gives local layers their window, norms the attention's and the MLP's outputs
/// before adding them, and gates with tanh GELU.
enum Ref {
    static func rmsnorm(_ x: [Double], _ w: [Double], rows: Int, n: Int, eps: Double) -> [Double] {
        var out = x
        for r in 0..<rows {
            var ss = 0.0
            for i in 0..<n { ss += x[r * n + i] * x[r * n + i] }
            let s = 1 / (ss / Double(n) + eps).squareRoot()
            for i in 0..<n { out[r * n + i] = x[r * n + i] * s * w[i] }
        }
        return out
    }

    /// y[T×out] = x[T×in]·Wᵀ.
    static func linear(_ x: [Double], _ w: ArraySlice<Double>, rows: Int, inputs: Int, outputs: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * outputs)
        let base = w.startIndex
        for r in 0..<rows {
            for o in 0..<outputs {
                var s = 0.0
                for i in 0..<inputs { s += x[r * inputs + i] * w[base + o * inputs + i] }
                y[r * outputs + o] = s
            }
        }
        return y
    }

    /// Rotates pairs of each head: (2i, 2i+1), or with `halves` (i, i + ropeDims/2).
    static func rope(_ x: inout [Double], ld: Int, offset: Int, positions: [Int32], heads: Int, headDim: Int, ropeDims: Int, base: Double,
                     halves: Bool = false, positionScale: Double = 1) {
        for r in positions.indices {
            for h in 0..<heads {
                for i in 0..<(ropeDims / 2) {
                    let theta = Double(Float(pow(base, -2 * Double(i) / Double(ropeDims))))
                    let angle = Double(positions[r]) * positionScale * theta
                    let c = cos(angle), s = sin(angle)
                    let first = r * ld + offset + h * headDim + (halves ? i : 2 * i)
                    let second = halves ? first + ropeDims / 2 : first + 1
                    let a = x[first], b = x[second]
                    x[first] = a * c - b * s
                    x[second] = a * s + b * c
                }
            }
        }
    }

    /// Causal attention within segments; q, k, v are column blocks of rows of `qkv` (row stride ld).
    /// With a window, row i sees rows i − window + 1 ... i of its segment.
    static func attention(_ qkv: [Double], ld: Int, qOff: Int, kOff: Int, vOff: Int, segments: [Segment], heads: Int, kvHeads: Int,
                          headDim: Int, window: Int? = nil) -> [Double] {
        let qDim = heads * headDim
        let rows = segments.map { $0.start + $0.length }.max() ?? 0
        var out = [Double](repeating: 0, count: rows * qDim)
        let scale = 1 / Double(headDim).squareRoot()
        for seg in segments {
            for h in 0..<heads {
                let g = h / (heads / kvHeads)
                for i in 0..<seg.length {
                    var scores = [Double](repeating: 0, count: i + 1)
                    let first = window.map { max(0, i - $0 + 1) } ?? 0
                    for j in 0...i {
                        guard j >= first else { scores[j] = -.infinity; continue }
                        var s = 0.0
                        for e in 0..<headDim {
                            s += qkv[(seg.start + i) * ld + qOff + h * headDim + e] * qkv[(seg.start + j) * ld + kOff + g * headDim + e]
                        }
                        scores[j] = s * scale
                    }
                    let m = scores.max()!
                    let ex = scores.map { exp($0 - m) }
                    let z = ex.reduce(0, +)
                    for e in 0..<headDim {
                        var o = 0.0
                        for j in 0...i { o += ex[j] / z * qkv[(seg.start + j) * ld + vOff + g * headDim + e] }
                        out[(seg.start + i) * qDim + h * headDim + e] = o
                    }
                }
            }
        }
        return out
    }

    static func silu(_ g: Double) -> Double { g / (1 + exp(-g)) }
    static func gelu(_ g: Double) -> Double { 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g))) }

    static func crossEntropy(_ logits: ArraySlice<Double>, target: Int) -> Double {
        let m = logits.max()!
        let z = logits.reduce(0) { $0 + exp($1 - m) }
        return m + log(z) - logits[logits.startIndex + target]
    }

    /// The summed cross-entropy of a packed batch under weights `w` (WeightLayout order) and, if
    /// given, LoRA values `p` (LoRALayout order).
    static func loss(shape s: ModelShape, weights w: [Double], lora: LoRALayout?, loraValues p: [Double], batch: PackedBatch) -> Double {
        let layout = WeightLayout(s)
        let t = batch.count, d = s.width, f = s.feedForward
        var x = [Double](repeating: 0, count: t * d)
        let gemma = s.architecture == .gemma3
        let embeddingScale = gemma ? Double(d).squareRoot() : 1
        for r in 0..<t { for i in 0..<d { x[r * d + i] = w[layout.embedding + Int(batch.tokens[r]) * d + i] * embeddingScale } }
        func slice(_ off: Int, _ n: Int) -> [Double] { Array(w[off..<(off + n)]) }
        func addLoRA(_ l: Int, _ kind: LoRALayout.GroupKind, input: [Double], into y: inout [Double], ld: Int) {
            guard let lora, let g = lora.group(l, kind) else { return }
            let r = lora.config.rank, scale = Double(lora.config.scale)
            for m in g.members {
                // u = x·Aᵀ (this module's rows of the stacked A), y += s·u·Bᵀ
                let u = linear(input, p[(g.a + m.rankOffset * g.inputs)...], rows: t, inputs: g.inputs, outputs: r)
                let dy = linear(u, p[m.b...], rows: t, inputs: r, outputs: m.outputs)
                for row in 0..<t { for o in 0..<m.outputs { y[row * ld + m.column + o] += scale * dy[row * m.outputs + o] } }
            }
        }
        for l in 0..<s.layers {
            let L = layout.layers[l]
            let xn = rmsnorm(x, slice(L.attnNorm, d), rows: t, n: d, eps: Double(s.eps))
            var qkv = linear(xn, w[L.qkv...], rows: t, inputs: d, outputs: s.qkvDim)
            addLoRA(l, .qkv, input: xn, into: &qkv, ld: s.qkvDim)
            if s.architecture == .qwen2 {
                // Biases of Q, K and V, stored one after another after the fused projection.
                let bias = L.qkv + s.qkvDim * d
                for r in 0..<t { for i in 0..<s.qkvDim { qkv[r * s.qkvDim + i] += w[bias + i] } }
            }
            // gemma3: layer l is global when (l + 1) is a multiple of globalEvery; the others are local.
            let global = !gemma || s.slidingWindow == nil || (l + 1) % s.globalEvery == 0
            if gemma {
                // Each head of Q and of K normed by itself with the layer's Q or K weight.
                for r in 0..<t {
                    for (offset, heads, weight) in [(0, s.heads, L.qNorm!), (s.qDim, s.kvHeads, L.kNorm!)] {
                        let block = Array(qkv[(r * s.qkvDim + offset)..<(r * s.qkvDim + offset + heads * s.headDim)])
                        let normed = rmsnorm(block, slice(weight, s.headDim), rows: heads, n: s.headDim, eps: Double(s.eps))
                        for i in normed.indices { qkv[r * s.qkvDim + offset + i] = normed[i] }
                    }
                }
            }
            let halves = s.architecture != .llama
            let base = Double(global ? s.ropeBase : s.localRopeBase), positionScale = Double(global ? s.globalPositionScale : 1)
            rope(&qkv, ld: s.qkvDim, offset: 0, positions: batch.positions, heads: s.heads, headDim: s.headDim, ropeDims: s.ropeDims,
                 base: base, halves: halves, positionScale: positionScale)
            rope(&qkv, ld: s.qkvDim, offset: s.qDim, positions: batch.positions, heads: s.kvHeads, headDim: s.headDim,
                 ropeDims: s.ropeDims, base: base, halves: halves, positionScale: positionScale)
            let att = attention(qkv, ld: s.qkvDim, qOff: 0, kOff: s.qDim, vOff: s.qDim + s.kvDim, segments: batch.segments,
                                heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, window: global ? nil : s.slidingWindow)
            var o = linear(att, w[L.o...], rows: t, inputs: s.qDim, outputs: d)
            addLoRA(l, .o, input: att, into: &o, ld: d)
            if gemma { o = rmsnorm(o, slice(L.postAttnNorm!, d), rows: t, n: d, eps: Double(s.eps)) }
            for i in 0..<(t * d) { x[i] += o[i] }
            let xn2 = rmsnorm(x, slice(L.ffnNorm, d), rows: t, n: d, eps: Double(s.eps))
            var gu = linear(xn2, w[L.gateUp...], rows: t, inputs: d, outputs: 2 * f)
            addLoRA(l, .gateUp, input: xn2, into: &gu, ld: 2 * f)
            var h = [Double](repeating: 0, count: t * f)
            for r in 0..<t {
                for i in 0..<f {
                    let g = gu[r * 2 * f + i]
                    h[r * f + i] = (gemma ? gelu(g) : silu(g)) * gu[r * 2 * f + f + i]
                }
            }
            var down = linear(h, w[L.down...], rows: t, inputs: f, outputs: d)
            addLoRA(l, .down, input: h, into: &down, ld: d)
            if gemma { down = rmsnorm(down, slice(L.postFFNNorm!, d), rows: t, n: d, eps: Double(s.eps)) }
            for i in 0..<(t * d) { x[i] += down[i] }
        }
        let xf = rmsnorm(x, slice(layout.outputNorm, d), rows: t, n: d, eps: Double(s.eps))
        let logits = linear(xf, w[layout.output...], rows: t, inputs: d, outputs: s.vocabulary)
        var total = 0.0
        for r in 0..<t where batch.targets[r] >= 0 {
            total += crossEntropy(logits[(r * s.vocabulary)..<((r + 1) * s.vocabulary)], target: Int(batch.targets[r]))
        }
        return total
    }
}

/// Random test data from a fixed seed.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    mutating func float(_ scale: Float = 1) -> Float { (Float(next() >> 40) / 16_777_216 * 2 - 1) * scale }
    mutating func floats(_ n: Int, _ scale: Float = 1) -> [Float] { (0..<n).map { _ in float(scale) } }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
