import CKernels
import Foundation
import Inference
import Testing
@testable import Training

/// Gradient checks: each operation's backward and the whole model's gradients against central
/// finite differences of a float64 reference forward pass (`Ref`). The figure checked is the
/// largest |analytic − numeric| over the largest |numeric| of the tensor.
@Suite("Gradient checks", .serialized)
struct GradientCheckTests {
    init() { Parallel.configure(threads: 2) }

    /// Central differences of `f` at `x` for the listed indices, in float64.
    static func numeric(_ x: [Double], indices: [Int], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
        var x = x
        return indices.map { i in
            let keep = x[i]
            x[i] = keep + h
            let up = f(x)
            x[i] = keep - h
            let down = f(x)
            x[i] = keep
            return (up - down) / (2 * h)
        }
    }

    static func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
        let scale = max(numeric.map { abs($0) }.max() ?? 0, 1e-6)
        return zip(analytic, numeric).map { abs(Double($0) - $1) }.max()! / scale
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test func rmsnorm() {
        var rng = TestRandom(1)
        let rows = 3, n = 21
        let x = rng.floats(rows * n, 2), w = rng.floats(n).map { 1 + $0 * 0.5 }, dout = rng.floats(rows * n)
        var out = [Float](repeating: 0, count: rows * n), rstd = [Float](repeating: 0, count: rows)
        var dx = [Float](repeating: 0, count: rows * n), dw = [Float](repeating: 0, count: n)
        TrainOps.rmsnormForward(&out, rstd: &rstd, x: x, weight: w, rows: rows, width: n, eps: 1e-5)
        TrainOps.rmsnormBackward(dx: &dx, dweight: &dw, dout: dout, x: x, weight: w, rstd: rstd, rows: rows, width: n)
        let xd = x.map(Double.init), wd = w.map(Double.init), dd = dout.map(Double.init)
        let ref = Ref.rmsnorm(xd, wd, rows: rows, n: n, eps: 1e-5)
        #expect(Self.relativeError(out, ref) < 1e-5)
        let nx = Self.numeric(xd, indices: Array(xd.indices)) { Self.dot(dd, Ref.rmsnorm($0, wd, rows: rows, n: n, eps: 1e-5)) }
        let nw = Self.numeric(wd, indices: Array(wd.indices)) { Self.dot(dd, Ref.rmsnorm(xd, $0, rows: rows, n: n, eps: 1e-5)) }
        let (ex, ew) = (Self.relativeError(dx, nx), Self.relativeError(dw, nw))
        print("gradient check rmsnorm: dx \(ex), dw \(ew)")
        #expect(ex < 1e-4 && ew < 1e-4)
    }

    @Test func matmul() {
        var rng = TestRandom(2)
        let t = 5, i = 7, o = 9
        let x = rng.floats(t * i), w = rng.floats(o * i), dy = rng.floats(t * o)
        var y = [Float](repeating: 0, count: t * o), dx = [Float](repeating: 0, count: t * i), dw = [Float](repeating: 0, count: o * i)
        TrainOps.matmulForward(&y, ldy: o, x: x, ldx: i, weight: w, rows: t, inputs: i, outputs: o)
        TrainOps.matmulBackward(dx: &dx, lddx: i, accumulateDx: false, dweight: &dw, dy: dy, lddy: o, x: x, ldx: i, weight: w,
                                rows: t, inputs: i, outputs: o)
        let xd = x.map(Double.init), wd = w.map(Double.init), dd = dy.map(Double.init)
        #expect(Self.relativeError(y, Ref.linear(xd, wd[...], rows: t, inputs: i, outputs: o)) < 1e-6)
        let nx = Self.numeric(xd, indices: Array(xd.indices)) { Self.dot(dd, Ref.linear($0, wd[...], rows: t, inputs: i, outputs: o)) }
        let nw = Self.numeric(wd, indices: Array(wd.indices)) { Self.dot(dd, Ref.linear(xd, $0[...], rows: t, inputs: i, outputs: o)) }
        let (ex, ew) = (Self.relativeError(dx, nx), Self.relativeError(dw, nw))
        print("gradient check matmul: dx \(ex), dw \(ew)")
        #expect(ex < 1e-5 && ew < 1e-5)
    }

    @Test func rope() {
        var rng = TestRandom(3)
        let positions: [Int32] = [0, 3, 1, 7], heads = 2, hd = 8, ld = 19
        let (c, s) = TrainOps.ropeTables(positions: 8, ropeDims: hd, base: 10_000)
        let x = rng.floats(positions.count * ld), dout = rng.floats(positions.count * ld)
        var y = x, dx = dout
        TrainOps.rope(&y, ld: ld, positions: positions, rows: 4, heads: heads, headDim: hd, ropeDims: hd, cos: c, sin: s)
        TrainOps.rope(&dx, ld: ld, positions: positions, rows: 4, heads: heads, headDim: hd, ropeDims: hd, cos: c, sin: s, backward: true)
        let f = { (v: [Double]) -> [Double] in
            var v = v
            Ref.rope(&v, ld: ld, offset: 0, positions: positions, heads: heads, headDim: hd, ropeDims: hd, base: 10_000)
            return v
        }
        let xd = x.map(Double.init), dd = dout.map(Double.init)
        #expect(Self.relativeError(y, f(xd)) < 1e-5)
        let nx = Self.numeric(xd, indices: Array(xd.indices)) { Self.dot(dd, f($0)) }
        let e = Self.relativeError(dx, nx)
        print("gradient check rope: dx \(e)")
        #expect(e < 1e-5)
    }

    /// NeoX RoPE (qwen2): pairs (i, i + d/2) of each head, forward and backward.
    @Test func ropeHalves() {
        var rng = TestRandom(8)
        let positions: [Int32] = [0, 5, 2, 7], heads = 3, hd = 8, ld = 27
        let (c, s) = TrainOps.ropeTables(positions: 8, ropeDims: hd, base: 1_000_000)
        let x = rng.floats(positions.count * ld), dout = rng.floats(positions.count * ld)
        var y = x, dx = dout
        TrainOps.rope(&y, ld: ld, positions: positions, rows: 4, heads: heads, headDim: hd, ropeDims: hd, cos: c, sin: s, halves: true)
        TrainOps.rope(&dx, ld: ld, positions: positions, rows: 4, heads: heads, headDim: hd, ropeDims: hd, cos: c, sin: s, halves: true,
                      backward: true)
        let f = { (v: [Double]) -> [Double] in
            var v = v
            Ref.rope(&v, ld: ld, offset: 0, positions: positions, heads: heads, headDim: hd, ropeDims: hd, base: 1_000_000, halves: true)
            return v
        }
        let xd = x.map(Double.init), dd = dout.map(Double.init)
        let ey = Self.relativeError(y, f(xd))
        // The adjacent-pair reference is a different rotation: the check tells the two apart.
        var adjacent = xd
        Ref.rope(&adjacent, ld: ld, offset: 0, positions: positions, heads: heads, headDim: hd, ropeDims: hd, base: 1_000_000)
        #expect(Self.relativeError(y, adjacent) > 1e-2)
        let nx = Self.numeric(xd, indices: Array(xd.indices)) { Self.dot(dd, f($0)) }
        let e = Self.relativeError(dx, nx)
        print("gradient check rope (NeoX halves): y \(ey), dx \(e)")
        #expect(ey < 1e-5 && e < 1e-5)
    }

    /// The Q/K/V bias: forward adds it to every row, backward sums the rows.
    @Test func bias() {
        var rng = TestRandom(9)
        let rows = 5, n = 11, ld = 14
        let y0 = rng.floats(rows * ld), b = rng.floats(n), dy = rng.floats(rows * ld)
        var y = y0, db = [Float](repeating: 0, count: n)
        TrainOps.biasForward(&y, ld: ld, bias: b, rows: rows, width: n)
        TrainOps.biasBackward(&db, dy: dy, ld: ld, rows: rows, width: n)
        let f = { (bd: [Double]) -> [Double] in
            var out = y0.map(Double.init)
            for r in 0..<rows { for i in 0..<n { out[r * ld + i] += bd[i] } }
            return out
        }
        let bd = b.map(Double.init), dd = dy.map(Double.init)
        #expect(Self.relativeError(y, f(bd)) < 1e-6)
        let e = Self.relativeError(db, Self.numeric(bd, indices: Array(bd.indices)) { Self.dot(dd, f($0)) })
        print("gradient check bias: dbias \(e)")
        #expect(e < 1e-5)
    }

    /// The gated MLP: SwiGLU (llama, qwen2) and GeGLU with tanh GELU (gemma3), gates over ±6.
    @Test(arguments: [false, true]) func gatedMLP(gelu: Bool) {
        var rng = TestRandom(gelu ? 10 : 4)
        let rows = 3, n = 13
        let gu = rng.floats(rows * 2 * n, 3).enumerated().map { $0.offset % (2 * n) < n ? $0.element * 2 : $0.element }
        let dh = rng.floats(rows * n)
        var h = [Float](repeating: 0, count: rows * n), dgu = [Float](repeating: 0, count: rows * 2 * n)
        TrainOps.gluForward(&h, gu: gu, rows: rows, width: n, gelu: gelu)
        TrainOps.gluBackward(dgu: &dgu, dh: dh, gu: gu, rows: rows, width: n, gelu: gelu)
        let act: (Double) -> Double = { gelu ? Ref.gelu($0) : Ref.silu($0) }
        let f = { (v: [Double]) -> [Double] in
            var out = [Double](repeating: 0, count: rows * n)
            for r in 0..<rows { for i in 0..<n { out[r * n + i] = act(v[r * 2 * n + i]) * v[r * 2 * n + n + i] } }
            return out
        }
        let gd = gu.map(Double.init), dd = dh.map(Double.init)
        let ey = Self.relativeError(h, f(gd))
        // The other activation is a different function: the check tells them apart.
        var otherH = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for i in 0..<n {
                let g = gd[r * 2 * n + i], u = gd[r * 2 * n + n + i]
                otherH[r * n + i] = (gelu ? Ref.silu(g) : Ref.gelu(g)) * u
            }
        }
        #expect(Self.relativeError(h, otherH) > 1e-2)
        let e = Self.relativeError(dgu, Self.numeric(gd, indices: Array(gd.indices)) { Self.dot(dd, f($0)) })
        print("gradient check \(gelu ? "geglu (tanh GELU)" : "swiglu"): h \(ey), dgu \(e)")
        #expect(ey < 1e-5 && e < 1e-5)
    }

    /// gemma3's Q/K norms: each head of a strided block of columns normalized by itself, one shared weight.
    @Test func headNorm() {
        var rng = TestRandom(20)
        let rows = 3, heads = 2, hd = 8, ld = 21, eps: Float = 1e-6
        let x = rng.floats(rows * ld, 2), w = rng.floats(hd).map { 1 + $0 * 0.5 }, dout = rng.floats(rows * ld)
        var out = x, rstd = [Float](repeating: 0, count: rows * heads)
        var dx = [Float](repeating: 0, count: rows * ld), dw = [Float](repeating: 0, count: hd)
        TrainOps.headNormForward(&out, rstd: &rstd, x: x, ld: ld, weight: w, rows: rows, heads: heads, headDim: hd, eps: eps)
        TrainOps.headNormBackward(dx: &dx, dweight: &dw, dout: dout, x: x, ld: ld, weight: w, rstd: rstd, rows: rows, heads: heads, headDim: hd)
        // Columns past the heads are left as they are, and get no gradient.
        let f = { (xv: [Double], wv: [Double]) -> [Double] in
            var y = xv
            for r in 0..<rows {
                let normed = Ref.rmsnorm(Array(xv[(r * ld)..<(r * ld + heads * hd)]), wv, rows: heads, n: hd, eps: Double(eps))
                for i in 0..<(heads * hd) { y[r * ld + i] = normed[i] }
            }
            return y
        }
        let xd = x.map(Double.init), wd = w.map(Double.init), dd = dout.map(Double.init)
        let ey = Self.relativeError(out, f(xd, wd))
        let inside = (0..<(rows * ld)).filter { $0 % ld < heads * hd }
        let dotInside = { (y: [Double]) in inside.reduce(0.0) { $0 + dd[$1] * y[$1] } }
        let nx = Self.numeric(xd, indices: Array(xd.indices)) { dotInside(f($0, wd)) }
        let nw = Self.numeric(wd, indices: Array(wd.indices)) { dotInside(f(xd, $0)) }
        let (ex, ew) = (Self.relativeError(dx, nx), Self.relativeError(dw, nw))
        print("gradient check head norm: y \(ey), dx \(ex), dw \(ew)")
        #expect(ey < 1e-5 && ex < 1e-4 && ew < 1e-4)
    }

    /// Full causal attention, and a sliding window of 3 (gemma3's local layers) that cuts the longer segment.
    @Test(arguments: [nil, 3] as [Int?]) func attention(window: Int?) {
        var rng = TestRandom(window == nil ? 5 : 21)
        let heads = 4, kvHeads = 2, hd = 8, segments = [Segment(start: 0, length: 5), Segment(start: 5, length: 3)]
        let qDim = heads * hd, kvDim = kvHeads * hd, ld = qDim + 2 * kvDim, t = 8
        let shape = AttentionShape(heads: heads, kvHeads: kvHeads, headDim: hd, qOffset: 0, kOffset: qDim, vOffset: qDim + kvDim, ld: ld,
                                   window: window)
        let qkv = rng.floats(t * ld, 1.5), dout = rng.floats(t * qDim)
        var out = [Float](repeating: 0, count: t * qDim), lse = [Float](repeating: 0, count: t * heads)
        var dqkv = [Float](repeating: 0, count: t * ld)
        let scratch = AttentionScratch()
        TrainOps.attentionForward(out: &out, lse: &lse, qkv: qkv, segments: segments, shape: shape, scratch: scratch)
        TrainOps.attentionBackward(dqkv: &dqkv, dout: dout, qkv: qkv, lse: lse, segments: segments, shape: shape, scratch: scratch)
        let f = { (v: [Double]) in
            Ref.attention(v, ld: ld, qOff: 0, kOff: qDim, vOff: qDim + kvDim, segments: segments, heads: heads, kvHeads: kvHeads, headDim: hd,
                          window: window)
        }
        let xd = qkv.map(Double.init), dd = dout.map(Double.init)
        #expect(Self.relativeError(out, f(xd)) < 1e-5)
        if window != nil {
            // Without the window the output differs: the check tells them apart.
            let whole = Ref.attention(xd, ld: ld, qOff: 0, kOff: qDim, vOff: qDim + kvDim, segments: segments, heads: heads, kvHeads: kvHeads,
                                      headDim: hd)
            #expect(Self.relativeError(out, whole) > 1e-2)
        }
        let e = Self.relativeError(dqkv, Self.numeric(xd, indices: Array(xd.indices)) { Self.dot(dd, f($0)) })
        print("gradient check attention (GQA, 2 packed segments, window \(window.map(String.init) ?? "none")): dqkv \(e)")
        #expect(e < 1e-4)
    }

    @Test func crossEntropy() {
        var rng = TestRandom(6)
        let v = 37, target = 11
        var logits = rng.floats(v, 4)
        let xd = logits.map(Double.init)
        let loss = ekt_cross_entropy_row(&logits, Int32(v), Int32(target), 1)
        #expect(abs(loss - Ref.crossEntropy(xd[...], target: target)) < 1e-5)
        let e = Self.relativeError(logits, Self.numeric(xd, indices: Array(xd.indices)) { Ref.crossEntropy($0[...], target: target) })
        print("gradient check cross-entropy: dlogits \(e)")
        #expect(e < 1e-5)
    }

    /// The embedding, as stored and scaled (gemma3 multiplies by √d).
    @Test(arguments: [1, Float(5).squareRoot()] as [Float]) func embedding(scale: Float) {
        var rng = TestRandom(7)
        let vocab = 6, d = 5, tokens: [Int32] = [2, 0, 2, 5]
        let table = rng.floats(vocab * d), dout = rng.floats(tokens.count * d)
        var out = [Float](repeating: 0, count: tokens.count * d), dt = [Float](repeating: 0, count: vocab * d)
        TrainOps.embeddingForward(&out, tokens: tokens, rows: tokens.count, table: table, width: d, scale: scale)
        TrainOps.embeddingBackward(&dt, dout: dout, tokens: tokens, rows: tokens.count, width: d, scale: scale)
        let f = { (tb: [Double]) -> [Double] in tokens.flatMap { tok in (0..<d).map { tb[Int(tok) * d + $0] * Double(scale) } } }
        let td = table.map(Double.init), dd = dout.map(Double.init)
        #expect(Self.relativeError(out, f(td)) < 1e-7)
        let e = Self.relativeError(dt, Self.numeric(td, indices: Array(td.indices)) { Self.dot(dd, f($0)) })
        print("gradient check embedding (scale \(scale)): dtable \(e)")
        #expect(e < 1e-6)
    }

    // MARK: Whole model

    static let tiny = ModelShape(vocabulary: 29, width: 16, feedForward: 24, layers: 2, heads: 4, kvHeads: 2, headDim: 4,
                                 ropeBase: 10_000, eps: 1e-5, tiedOutput: true, contextLength: 64)
    /// A tiny qwen2: Q/K/V biases, NeoX RoPE, untied head (headDim 8: four pairs per head).
    static let tinyQwen2 = ModelShape(vocabulary: 29, width: 16, feedForward: 24, layers: 2, heads: 4, kvHeads: 2, headDim: 8,
                                      ropeBase: 10_000, eps: 1e-6, tiedOutput: false, contextLength: 64, architecture: .qwen2)

    /// A tiny gemma3: layer 0 local (a window of 3 that cuts both packed sequences, its own RoPE base),
    /// layer 1 global with linear RoPE scaling.
    static let tinyGemma3 = ModelShape.gemma3(vocabulary: 29, width: 16, feedForward: 24, layers: 2, heads: 4, kvHeads: 2, headDim: 8,
                                             ropeBase: 10_000, eps: 1e-6, contextLength: 64, slidingWindow: 3, globalEvery: 2,
                                             localRopeBase: 100, globalPositionScale: 0.5)

    /// Random weights: matrices uniform in ±0.4, norm weights near 1.
    static func randomWeights(_ s: ModelShape, seed: UInt64) -> [Float] {
        var rng = TestRandom(seed)
        let layout = WeightLayout(s)
        var w = rng.floats(layout.count, 0.4)
        for r in layout.normRanges { for i in r { w[i] = 1 + rng.float(0.3) } }
        return w
    }

    static func tinyBatch() -> PackedBatch {
        var b = PackedBatch()
        b.append(tokens: [1, 7, 3, 22, 9, 4], trained: [false, false, true, true, false, true])
        b.append(tokens: [5, 28, 0, 13], trained: [false, true, true, true])
        return b
    }

    /// The model's gradients against finite differences of the float64 reference, over `sample`
    /// indices of the trainable values.
    func checkModel(_ shape: ModelShape, mode: TrainingMode, seed: UInt64, label: String) throws -> Double {
        let weights = Self.randomWeights(shape, seed: seed)
        let model = try TrainableModel(shape: shape, weights: Floats(weights), mode: mode)
        var rng = TestRandom(seed + 100)
        if let lora = model.lora {
            lora.initialize(model.parameters.pointer, seed: seed)
            for g in lora.layers.flatMap({ $0 }) { for m in g.members { for i in 0..<(m.outputs * lora.config.rank) { model.parameters[m.b + i] = rng.float(0.3) } } }
        }
        let batch = Self.tinyBatch()
        let (loss, count) = try model.run(batch, backward: true)
        #expect(count == batch.lossTokens)
        let grads = model.gradients.array
        let wd = weights.map(Double.init)
        let pd = model.lora == nil ? [] : model.parameters.array.map(Double.init)
        let refLoss = Ref.loss(shape: shape, weights: wd, lora: model.lora, loraValues: pd, batch: batch)
        #expect(abs(loss - refLoss) < 1e-4 * max(1, abs(refLoss)), "loss \(loss) vs reference \(refLoss)")
        let n = grads.count
        let indices = n <= 1500 ? Array(0..<n) : (0..<1500).map { _ in rng.below(n) }
        let numeric: [Double]
        if let lora = model.lora {
            numeric = Self.numeric(pd, indices: indices) { Ref.loss(shape: shape, weights: wd, lora: lora, loraValues: $0, batch: batch) }
        } else {
            numeric = Self.numeric(wd, indices: indices) { Ref.loss(shape: shape, weights: $0, lora: nil, loraValues: [], batch: batch) }
        }
        let e = Self.relativeError(indices.map { grads[$0] }, numeric)
        print("gradient check whole model, \(label): \(indices.count) of \(n) values, max error / max gradient \(e); loss \(loss) (float64 \(refLoss))")
        return e
    }

    @Test func wholeModelFull() throws {
        #expect(try checkModel(Self.tiny, mode: .full, seed: 11, label: "full finetuning, tied head") < 1e-3)
        var untied = Self.tiny
        untied.tiedOutput = false
        #expect(try checkModel(untied, mode: .full, seed: 12, label: "full finetuning, untied head") < 1e-3)
    }

    @Test func wholeModelLoRA() throws {
        let all = LoRAConfig(rank: 3, alpha: 6, rsLoRA: true, targets: LoRAModule.allCases)
        #expect(try checkModel(Self.tiny, mode: .lora(all), seed: 13, label: "LoRA r3 rsLoRA, all seven modules") < 1e-3)
        let one = LoRAConfig(rank: 1, alpha: 8, targets: [.down], layers: [1])
        #expect(try checkModel(Self.tiny, mode: .lora(one), seed: 14, label: "LoRA r1 on layer 1's down_proj") < 1e-3)
        let some = LoRAConfig(rank: 2, alpha: 4, targets: [.k, .o, .up], layers: [0])
        #expect(try checkModel(Self.tiny, mode: .lora(some), seed: 15, label: "LoRA r2 on k/o/up of layer 0") < 1e-3)
    }

    @Test func wholeModelQwen2Full() throws {
        let layout = WeightLayout(Self.tinyQwen2)
        // The bias lies right after the fused projection (where the float64 reference reads it).
        #expect(layout.layers.allSatisfy { $0.qkvBias == $0.qkv + Self.tinyQwen2.qkvDim * Self.tinyQwen2.width })
        #expect(layout.count == Self.tinyQwen2.parameterCount)
        #expect(try checkModel(Self.tinyQwen2, mode: .full, seed: 16, label: "qwen2 full finetuning (biases, NeoX RoPE, untied head)") < 1e-3)
        // The biases' own gradients, all of them (a sample of the whole buffer holds few).
        let weights = Self.randomWeights(Self.tinyQwen2, seed: 17)
        let model = try TrainableModel(shape: Self.tinyQwen2, weights: Floats(weights), mode: .full)
        let batch = Self.tinyBatch()
        try model.run(batch, backward: true)
        let indices = layout.layers.flatMap { L in (L.qkvBias!..<(L.qkvBias! + Self.tinyQwen2.qkvDim)).map { $0 } }
        let wd = weights.map(Double.init)
        let numeric = Self.numeric(wd, indices: indices) { Ref.loss(shape: Self.tinyQwen2, weights: $0, lora: nil, loraValues: [], batch: batch) }
        let e = Self.relativeError(indices.map { model.gradients[$0] }, numeric)
        print("gradient check qwen2 Q/K/V biases: \(indices.count) values, max error / max gradient \(e)")
        #expect(e < 1e-3)
    }

    @Test func wholeModelQwen2LoRA() throws {
        let all = LoRAConfig(rank: 3, alpha: 6, rsLoRA: true, targets: LoRAModule.allCases)
        #expect(try checkModel(Self.tinyQwen2, mode: .lora(all), seed: 18, label: "qwen2 LoRA r3 rsLoRA, all seven modules") < 1e-3)
        let some = LoRAConfig(rank: 2, alpha: 4, targets: [.q, .k, .v], layers: [1])
        #expect(try checkModel(Self.tinyQwen2, mode: .lora(some), seed: 19, label: "qwen2 LoRA r2 on q/k/v of layer 1") < 1e-3)
    }

    @Test func wholeModelGemma3Full() throws {
        let s = Self.tinyGemma3, layout = WeightLayout(s)
        #expect(layout.count == s.parameterCount)
        #expect(!s.isGlobal(layer: 0) && s.isGlobal(layer: 1))
        #expect(try checkModel(s, mode: .full, seed: 30, label: "gemma3 full finetuning (scaled embedding, Q/K norms, post-norms, GeGLU, window)") < 1e-3)
        // Every norm weight's gradient (a sample of the whole buffer holds few): the Q/K head norms,
        // the post-attention and post-MLP norms, the pre-norms and the final norm.
        let weights = Self.randomWeights(s, seed: 31)
        let model = try TrainableModel(shape: s, weights: Floats(weights), mode: .full)
        let batch = Self.tinyBatch()
        try model.run(batch, backward: true)
        let indices = layout.normRanges.flatMap { Array($0) }
        #expect(indices.count == s.layers * (4 * s.width + 2 * s.headDim) + s.width)
        let wd = weights.map(Double.init)
        let numeric = Self.numeric(wd, indices: indices) { Ref.loss(shape: s, weights: $0, lora: nil, loraValues: [], batch: batch) }
        let e = Self.relativeError(indices.map { model.gradients[$0] }, numeric)
        // The embedding's rows of the batch's tokens (scaled by √d on the way in).
        var rows: [Int] = []
        for tok in Set(batch.tokens.map(Int.init)).sorted() {
            let start = layout.embedding + tok * s.width
            rows += Array(start..<(start + s.width))
        }
        let numericRows = Self.numeric(wd, indices: rows) { Ref.loss(shape: s, weights: $0, lora: nil, loraValues: [], batch: batch) }
        let eRows = Self.relativeError(rows.map { model.gradients[$0] }, numericRows)
        print("gradient check gemma3 norm weights: \(indices.count) values, max error / max gradient \(e); embedding rows of the batch: \(rows.count) values, \(eRows)")
        #expect(e < 1e-3 && eRows < 1e-3)
    }

    @Test func wholeModelGemma3LoRA() throws {
        let all = LoRAConfig(rank: 3, alpha: 6, rsLoRA: true, targets: LoRAModule.allCases)
        #expect(try checkModel(Self.tinyGemma3, mode: .lora(all), seed: 32, label: "gemma3 LoRA r3 rsLoRA, all seven modules") < 1e-3)
        let some = LoRAConfig(rank: 2, alpha: 4, targets: [.q, .k, .down], layers: [0])
        #expect(try checkModel(Self.tinyGemma3, mode: .lora(some), seed: 33, label: "gemma3 LoRA r2 on q/k/down of the local layer 0") < 1e-3)
    }
}
