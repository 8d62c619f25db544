import Foundation
import GGUF

/// The Gemma 3 architecture (text part): embeddings scaled by √d; per block RMSNorm → attention with
/// per-head RMSNorm on Q and K and NeoX-style RoPE → RMSNorm (post-attention) → residual add, then
/// RMSNorm → GeGLU MLP (tanh GELU) → RMSNorm (post-FFN) → residual add; final RMSNorm and a tied
/// output head. Layers alternate between sliding-window ("local": window and RoPE base 10⁴) and
/// full ("global": the file's RoPE base) attention, one global layer every `globalEvery`.
///
/// GGUF files store Gemma's norm weights with the +1 already added (llama.cpp's converter does it),
/// so every norm here is a plain `x / rms(x) · w`.
///
/// Hook points carry the vectors the residual stream adds: `attentionOutput` is the attention
/// output after its post-norm, `mlpOutput` the MLP output after its post-norm.
public final class Gemma3Model: CausalLM, @unchecked Sendable {
    struct Block {
        let attnNorm, qNorm, kNorm, postAttnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let ffnNorm, postFFNNorm: UnsafePointer<Float>
        let gate, up, down: WeightMatrix
        let isGlobal: Bool
    }

    public let config: ModelConfig
    /// Positions a local layer's query sees (itself included).
    public let slidingWindow: Int
    /// Layer `l` is global when `(l + 1) % globalEvery == 0`.
    public let globalEvery: Int
    public let localRopeBase: Float
    /// Positions are multiplied by this on global layers (linear RoPE scaling; 1 without).
    public let globalPositionScale: Float
    /// `cap · tanh(logit / cap)` on the output, when the file asks for it.
    public let finalLogitSoftcap: Float?

    private let file: GGUFFile              // keeps the mapping alive
    private let blocks: [Block]
    private let tokenEmbedding: WeightMatrix
    private let outputNorm: UnsafePointer<Float>
    private let output: WeightMatrix
    private let localInvFreq: [Float]
    private let globalInvFreq: [Float]

    let matmul = MatMul()
    let attention = Attention()
    private let x = FloatBuffer(), xb = FloatBuffer(), q = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer()
    private let att = FloatBuffer(), hb = FloatBuffer(), hb2 = FloatBuffer(), logits = FloatBuffer()

    public init(file: GGUFFile) throws {
        let c = try ModelConfig(gguf: file)
        guard c.architecture == "gemma3" else { throw ModelError.unsupportedArchitecture(c.architecture) }
        let arch = c.architecture
        func positiveInt(_ key: String, default d: Int) throws -> Int {
            guard let v = file["\(arch).\(key)"] else { return d }
            guard let i = v.intValue, i > 0 else {
                throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "expected a positive integer")
            }
            return i
        }
        func positiveFloat(_ key: String) throws -> Float? {
            guard let v = file["\(arch).\(key)"] else { return nil }
            guard let f = v.floatValue, f.isFinite, f > 0 else {
                throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "expected a positive number")
            }
            return Float(f)
        }
        if let vl = file["\(arch).attention.value_length"]?.intValue, vl != c.headDimension {
            throw ModelError.invalidMetadata(key: "\(arch).attention.value_length",
                                             reason: "\(vl) differs from key_length \(c.headDimension)")
        }
        guard c.ropeDimensions == c.headDimension else {
            throw ModelError.invalidMetadata(key: "\(arch).rope.dimension_count",
                                             reason: "partial rotary embeddings are not supported for gemma3")
        }
        slidingWindow = try positiveInt("attention.sliding_window", default: 512)
        globalEvery = try positiveInt("attention.sliding_window_pattern", default: 6)
        localRopeBase = try positiveFloat("rope.freq_base_swa") ?? 10_000
        finalLogitSoftcap = try positiveFloat("final_logit_softcapping")
        switch file["\(arch).rope.scaling.type"]?.stringValue {
        case nil, "none": globalPositionScale = 1
        case "linear": globalPositionScale = 1 / (try positiveFloat("rope.scaling.factor") ?? 1)
        case let other?:
            throw ModelError.invalidMetadata(key: "\(arch).rope.scaling.type", reason: "'\(other)' is not supported (none, linear)")
        }
        self.config = c
        self.file = file
        let d = c.embeddingLength, hd = c.headDimension
        let every = globalEvery
        blocks = try (0..<c.layerCount).map { l in
            let p = "blk.\(l)."
            return Block(
                attnNorm: try vectorTensor(file, p + "attn_norm.weight", length: d),
                qNorm: try vectorTensor(file, p + "attn_q_norm.weight", length: hd),
                kNorm: try vectorTensor(file, p + "attn_k_norm.weight", length: hd),
                postAttnNorm: try vectorTensor(file, p + "post_attention_norm.weight", length: d),
                wq: try WeightMatrix(file: file, name: p + "attn_q.weight", rows: c.qDimension, cols: d),
                wk: try WeightMatrix(file: file, name: p + "attn_k.weight", rows: c.kvDimension, cols: d),
                wv: try WeightMatrix(file: file, name: p + "attn_v.weight", rows: c.kvDimension, cols: d),
                wo: try WeightMatrix(file: file, name: p + "attn_output.weight", rows: d, cols: c.qDimension),
                ffnNorm: try vectorTensor(file, p + "ffn_norm.weight", length: d),
                postFFNNorm: try vectorTensor(file, p + "post_ffw_norm.weight", length: d),
                gate: try WeightMatrix(file: file, name: p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d),
                up: try WeightMatrix(file: file, name: p + "ffn_up.weight", rows: c.feedForwardLength, cols: d),
                down: try WeightMatrix(file: file, name: p + "ffn_down.weight", rows: d, cols: c.feedForwardLength),
                isGlobal: (l + 1) % every == 0)
        }
        tokenEmbedding = try WeightMatrix(file: file, name: "token_embd.weight", rows: c.vocabularySize, cols: d)
        outputNorm = try vectorTensor(file, "output_norm.weight", length: d)
        output = file.tensor(named: "output.weight") != nil
            ? try WeightMatrix(file: file, name: "output.weight", rows: c.vocabularySize, cols: d)
            : tokenEmbedding
        localInvFreq = Ops.ropeInverseFrequencies(base: localRopeBase, dims: c.ropeDimensions)
        globalInvFreq = Ops.ropeInverseFrequencies(base: c.ropeBase, dims: c.ropeDimensions)
    }

    /// Whether layer `l` attends to the whole sequence (else to the last `slidingWindow` positions).
    public func isGlobal(layer l: Int) -> Bool { blocks[l].isGlobal }

    public func forward(_ batch: Batch, hooks: Hooks?) throws -> UnsafeBufferPointer<Float> {
        let c = config, t = batch.count, d = c.embeddingLength, hd = c.headDimension
        try validateBatch(batch, config: c)
        let lastLayer = hooks?.lastLayer ?? c.layerCount - 1
        let hooks = try RowHooks(batch, shared: hooks, width: d, layers: c.layerCount)
        let ir = batch.independentRows

        let x = self.x.reserve(t * d), xb = self.xb.reserve(t * d)
        let q = self.q.reserve(t * c.qDimension), att = self.att.reserve(t * c.qDimension)
        let k = self.k.reserve(t * c.kvDimension), v = self.v.reserve(t * c.kvDimension)
        let hb = self.hb.reserve(t * c.feedForwardLength), hb2 = self.hb2.reserve(t * c.feedForwardLength)

        for r in 0..<t { tokenEmbedding.dequantizeRow(Int(batch.tokens[r]), into: x + r * d) }
        Ops.scale(x, by: Float(d).squareRoot(), count: t * d)
        let scale = 1 / Float(hd).squareRoot()
        let local = Attention.Shape(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd, scale: scale,
                                    window: slidingWindow)
        var global = local
        global.window = nil

        for (l, b) in blocks.enumerated() {
            // Captures that end earlier need no deeper layer and no logits (`Hooks.lastLayer`).
            if l > lastLayer { break }
            hooks?.apply(.residualIn(layer: l), x, rows: t, width: d)
            // Attention.
            Ops.rmsNorm(x, b.attnNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            matmul.apply([(b.wq, q), (b.wk, k), (b.wv, v)], xb, rows: t, independentRows: ir)
            Ops.rmsNorm(q, b.qNorm, q, rows: t * c.headCount, n: hd, eps: c.rmsEpsilon)
            Ops.rmsNorm(k, b.kNorm, k, rows: t * c.kvHeadCount, n: hd, eps: c.rmsEpsilon)
            let positionScale = b.isGlobal ? globalPositionScale : 1
            (b.isGlobal ? globalInvFreq : localInvFreq).withUnsafeBufferPointer { f in
                for r in 0..<t {
                    let pos = batch.positions[r]
                    let p = Float(pos) * positionScale
                    Ops.ropeHalves(q + r * c.qDimension, heads: c.headCount, headDim: hd,
                                   ropeDims: c.ropeDimensions, position: p, invFreq: f.baseAddress!)
                    Ops.ropeHalves(k + r * c.kvDimension, heads: c.kvHeadCount, headDim: hd,
                                   ropeDims: c.ropeDimensions, position: p, invFreq: f.baseAddress!)
                    batch.sequences[r].write(layer: l, position: pos, key: k + r * c.kvDimension,
                                             value: v + r * c.kvDimension)
                }
            }
            attention.run(q: q, out: att, rows: t, sequences: batch.sequences, positions: batch.positions,
                          layer: l, shape: b.isGlobal ? global : local, independentRows: ir)
            matmul.apply(b.wo, att, rows: t, xb, independentRows: ir)
            Ops.rmsNorm(xb, b.postAttnNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            hooks?.apply(.attentionOutput(layer: l), xb, rows: t, width: d)
            Ops.add(x, xb, count: t * d)
            // MLP.
            Ops.rmsNorm(x, b.ffnNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            matmul.apply([(b.gate, hb), (b.up, hb2)], xb, rows: t, independentRows: ir)
            Ops.geGLU(hb, hb2, rows: t, n: c.feedForwardLength)
            matmul.apply(b.down, hb, rows: t, xb, independentRows: ir)
            Ops.rmsNorm(xb, b.postFFNNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            hooks?.apply(.mlpOutput(layer: l), xb, rows: t, width: d)
            Ops.add(x, xb, count: t * d)
            hooks?.apply(.residualOut(layer: l), x, rows: t, width: d)
        }
        for r in 0..<t { batch.sequences[r].commit(length: max(batch.sequences[r].length, batch.positions[r] + 1)) }
        if lastLayer < c.layerCount - 1 { return UnsafeBufferPointer(start: nil, count: 0) }

        // Output head on the requested rows only.
        let n = batch.logitRows.count
        for (i, r) in batch.logitRows.enumerated() { (xb + i * d).update(from: x + r * d, count: d) }
        Ops.rmsNorm(xb, outputNorm, xb, rows: n, n: d, eps: c.rmsEpsilon)
        let out = logits.reserve(max(n, 1) * c.vocabularySize)
        if n > 0 { head(xb, rows: n, out) }
        return UnsafeBufferPointer(start: out, count: n * c.vocabularySize)
    }

    /// The output head always runs on the quantized kernels: dequantizing a 262k-row matrix for
    /// the float path would cost more than the product, and per-row results stay batch-independent.
    private func head(_ normed: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>) {
        matmul.apply(output, normed, rows: n, out, independentRows: true)
        if let cap = finalLogitSoftcap {
            for i in 0..<(n * config.vocabularySize) { out[i] = cap * tanh(out[i] / cap) }
        }
    }

    public func unembed(_ residual: [Float]) -> [Float] {
        let d = config.embeddingLength
        precondition(residual.count == d)
        var normed = [Float](repeating: 0, count: d)
        var out = [Float](repeating: 0, count: config.vocabularySize)
        residual.withUnsafeBufferPointer { r in
            normed.withUnsafeMutableBufferPointer { nb in
                Ops.rmsNorm(r.baseAddress!, outputNorm, nb.baseAddress!, rows: 1, n: d, eps: config.rmsEpsilon)
                out.withUnsafeMutableBufferPointer { ob in head(nb.baseAddress!, rows: 1, ob.baseAddress!) }
            }
        }
        return out
    }
}
