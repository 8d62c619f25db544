import Foundation
import GGUF
import Inference

// The double-precision Gemma 3 reference shared by the engine's tests (InferenceTests) and the
// trainer's (TrainingTests).

/// Roundings the definition does not have: 8-bit activations in every product (Q8_0 blocks for
/// 32-element weights, Q8_K for K-quants), keys and values in fp16 (the engine's cache, and
/// llama.cpp's), queries and attention weights in fp16, GELU read from an fp16 table (llama.cpp's
/// CPU backend). All off: the exact definition.
public struct GGMLNumerics: Sendable {
    public var quantizeActivations = false
    public var halfCache = false
    public var halfAttention = false
    public var geluTable = false
    /// ggml's CPU flash attention: one pass over the keys with a running maximum, the weighted
    /// values summed in an fp16 accumulator (rounded at every key), divided by the sum at the end.
    public var flashAttention = false
    public var isExact: Bool { !quantizeActivations && !halfCache && !halfAttention && !geluTable && !flashAttention }
    /// What the engine's prompt path computes beyond float rounding.
    public static let engine = GGMLNumerics(halfCache: true)
    public init(quantizeActivations: Bool = false, halfCache: Bool = false, halfAttention: Bool = false, geluTable: Bool = false,
                flashAttention: Bool = false) {
        self.quantizeActivations = quantizeActivations
        self.halfCache = halfCache
        self.halfAttention = halfAttention
        self.geluTable = geluTable
        self.flashAttention = flashAttention
    }
    /// What llama.cpp's CPU backend computes (without flash attention).
    public static let llamaCpp = GGMLNumerics(quantizeActivations: true, halfCache: true, halfAttention: true, geluTable: true)
}

/// An independent double-precision Gemma 3 forward pass, written plainly from the architecture's
/// definition (weights dequantized by the GGUF module's scalar reference; no kernels, no BLAS, no
/// KV cache), optionally with llama.cpp's roundings. Returns the logits of the last position for
/// the vocabulary rows `rows`.
public func gemma3Float64Logits(file: GGUFFile, tokens: [Int32], rows: [Int], numerics n: GGMLNumerics = GGMLNumerics()) throws -> [Double] {
    let c = try ModelConfig(gguf: file)
    let d = c.embeddingLength, t = tokens.count, hd = c.headDimension, eps = Double(c.rmsEpsilon)
    func weights(_ name: String) -> ([Double], GGMLType) {
        let info = file.tensor(named: name)!
        var f = [Float](repeating: 0, count: info.elementCount)
        f.withUnsafeMutableBufferPointer { Dequantize.row(info.type, file.data(for: info).baseAddress!, $0.baseAddress!, count: info.elementCount) }
        return (f.map(Double.init), info.type)
    }
    func h16(_ x: Double) -> Double { Double(Float16(Float(x))) }
    /// Products and scalings land in float32 where llama.cpp stores them.
    func f32(_ x: Double) -> Double { n.isExact ? x : Double(Float(x)) }
    /// x as ggml's quantize_row_q8_0 / q8_K would hand it to a product with weights of `type`.
    func quantized(_ x: ArraySlice<Double>, for type: GGMLType) -> [Double] {
        let xs = Array(x).map { Float($0) }
        var out = [Double](repeating: 0, count: xs.count)
        let kquant = type.blockSize == 256
        let bs = kquant ? 256 : 32
        for b in 0..<(xs.count / bs) {
            let blk = xs[(b * bs)..<((b + 1) * bs)]
            if kquant {
                var amax: Float = 0, mx: Float = 0
                for v in blk where abs(v) > amax { amax = abs(v); mx = v }
                if amax == 0 { continue }
                let iscale = -127 / mx
                let dd = 1 / iscale
                for (j, v) in blk.enumerated() { out[b * bs + j] = Double(min(127, (iscale * v).rounded(.toNearestOrEven)) * dd) }
            } else {
                let amax = blk.map { abs($0) }.max()!
                let dd = Float(Float16(amax / 127))
                let id: Float = amax != 0 ? 127 / amax : 0
                for (j, v) in blk.enumerated() { out[b * bs + j] = Double((v * id).rounded(.toNearestOrEven) * dd) }
            }
        }
        return out
    }
    func matmul(_ x: [Double], _ name: String, rows: Int, cols: Int) -> [Double] {
        let (w, type) = weights(name)
        var y = [Double](repeating: 0, count: t * rows)
        for i in 0..<t {
            let xi = n.quantizeActivations && type != .f32 ? quantized(x[(i * cols)..<((i + 1) * cols)], for: type) : Array(x[(i * cols)..<((i + 1) * cols)])
            for r in 0..<rows {
                var s = 0.0
                for k in 0..<cols { s += w[r * cols + k] * xi[k] }
                y[i * rows + r] = f32(s)
            }
        }
        return y
    }
    func norm(_ x: [Double], _ name: String, n: Int) -> [Double] {
        let w = weights(name).0
        var y = x
        for g in 0..<(x.count / n) {
            var ss = 0.0
            for k in 0..<n { ss += x[g * n + k] * x[g * n + k] }
            let s = 1 / (ss / Double(n) + eps).squareRoot()
            for k in 0..<n { y[g * n + k] = x[g * n + k] * s * w[k] }
        }
        return y
    }
    func rope(_ x: inout [Double], heads: Int, base: Double) {
        for i in 0..<t { for h in 0..<heads { for p in 0..<(hd / 2) {
            let theta = Double(i) * pow(base, -2 * Double(p) / Double(hd))
            let o = i * heads * hd + h * hd + p
            let a = x[o], b = x[o + hd / 2]
            x[o] = a * cos(theta) - b * sin(theta)
            x[o + hd / 2] = a * sin(theta) + b * cos(theta)
        } } }
    }
    func gelu(_ g: Double) -> Double {
        if n.geluTable {
            if g <= -10 { return 0 }
            if g >= 10 { return g }
            let x = Float(Float16(Float(g)))
            let v = 0.5 * x * (1 + tanhf(0.7978845608 * x * (1 + 0.044715 * x * x)))
            return Double(Float(Float16(v)))
        }
        return 0.5 * g * (1 + tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)))
    }
    let embd = file.tensor(named: "token_embd.weight")!
    func embeddingRow(_ r: Int) -> [Double] {
        var f = [Float](repeating: 0, count: d)
        f.withUnsafeMutableBufferPointer {
            Dequantize.row(embd.type, file.data(for: embd).baseAddress! + r * embd.type.byteCount(elements: d), $0.baseAddress!, count: d)
        }
        return f.map(Double.init)
    }
    var x = [Double](repeating: 0, count: t * d)
    for i in 0..<t {
        let e = embeddingRow(Int(tokens[i]))
        for k in 0..<d { x[i * d + k] = f32(e[k] * (n.isExact ? Double(d).squareRoot() : Double(Float(d).squareRoot()))) }
    }
    let group = c.headCount / c.kvHeadCount
    for l in 0..<c.layerCount {
        let p = "blk.\(l)."
        let global = (l + 1) % 6 == 0
        let h = norm(x, p + "attn_norm.weight", n: d)
        var q = norm(matmul(h, p + "attn_q.weight", rows: c.qDimension, cols: d), p + "attn_q_norm.weight", n: hd)
        var k = norm(matmul(h, p + "attn_k.weight", rows: c.kvDimension, cols: d), p + "attn_k_norm.weight", n: hd)
        var v = matmul(h, p + "attn_v.weight", rows: c.kvDimension, cols: d)
        rope(&q, heads: c.headCount, base: global ? Double(c.ropeBase) : 10_000)
        rope(&k, heads: c.kvHeadCount, base: global ? Double(c.ropeBase) : 10_000)
        q = q.map { $0 / Double(hd).squareRoot() }
        if n.halfCache { k = k.map(h16); v = v.map(h16) }
        if n.halfAttention { q = q.map(h16) }
        var att = [Double](repeating: 0, count: t * c.qDimension)
        for i in 0..<t { for hh in 0..<c.headCount {
            let g = hh / group
            let first = global ? 0 : max(0, i - 511)
            let s = (first...i).map { j in
                f32((0..<hd).reduce(0.0) { $0 + q[i * c.qDimension + hh * hd + $1] * k[j * c.kvDimension + g * hd + $1] })
            }
            if n.flashAttention {
                var mx = -Float.infinity, sum: Float = 0
                var acc = [Float16](repeating: 0, count: hd)
                for (jj, j) in (first...i).enumerated() {
                    let sj = Float(s[jj])
                    var ms: Float = 1, vs: Float = 1
                    if sj > mx {
                        let old = mx
                        mx = sj
                        ms = expf(old - mx)
                        for e in 0..<hd { acc[e] = Float16(Float(acc[e]) * ms) }
                    } else {
                        vs = expf(sj - mx)
                    }
                    for e in 0..<hd { acc[e] = Float16(Float(acc[e]) + Float(v[j * c.kvDimension + g * hd + e]) * vs) }
                    sum = sum * ms + vs
                }
                for e in 0..<hd { att[i * c.qDimension + hh * hd + e] = Double(Float(acc[e]) * (1 / sum)) }
                continue
            }
            let m = s.max()!
            var pr = s.map { exp($0 - m) }
                let z = pr.reduce(0, +)
                pr = pr.map { $0 / z }
                if n.halfAttention { pr = pr.map(h16) }
                for e in 0..<hd {
                    att[i * c.qDimension + hh * hd + e] = (first...i).reduce(0.0) { $0 + pr[$1 - first] * v[$1 * c.kvDimension + g * hd + e] }
                }
        } }
        let o = norm(matmul(att, p + "attn_output.weight", rows: d, cols: c.qDimension), p + "post_attention_norm.weight", n: d)
        for i in 0..<(t * d) { x[i] += o[i] }
        let h2 = norm(x, p + "ffn_norm.weight", n: d)
        let gate = matmul(h2, p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d)
        let up = matmul(h2, p + "ffn_up.weight", rows: c.feedForwardLength, cols: d)
        let act = (0..<gate.count).map { i in gelu(gate[i]) * up[i] }
        let down = norm(matmul(act, p + "ffn_down.weight", rows: d, cols: c.feedForwardLength), p + "post_ffw_norm.weight", n: d)
        for i in 0..<(t * d) { x[i] += down[i] }
    }
    var normed = norm(Array(x[((t - 1) * d)..<(t * d)]), "output_norm.weight", n: d)
    if n.quantizeActivations { normed = quantized(normed[...], for: embd.type) }
    return rows.map { r in
        let w = embeddingRow(r)
        return (0..<d).reduce(0.0) { $0 + w[$1] * normed[$1] }
    }
}

