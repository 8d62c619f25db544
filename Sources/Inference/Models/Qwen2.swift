import Foundation
import GGUF

/// The Qwen2 architecture (Qwen2 / Qwen2.5, Qwen2.5-Coder): the Llama block with biases on the
/// Q, K and V projections and NeoX-style RoPE — pairs (x[i], x[i + d/2]) of each head, as llama.cpp
/// applies it for `qwen2` (its converter does not permute Q/K rows for this architecture). RMSNorm
/// (epsilon from the file), grouped-query attention, SwiGLU MLP, and an output matrix of its own
/// (`output.weight`; the token embedding when a file has none).
///
/// Hook points as in Llama: `attentionOutput` is the attention block's output projection,
/// `mlpOutput` the MLP's down projection, each before it is added to the residual stream.
public final class Qwen2Model: CausalLM, @unchecked Sendable {
    struct Block {
        let attnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let bq, bk, bv: UnsafePointer<Float>
        let ffnNorm: UnsafePointer<Float>
        let gate, up, down: WeightMatrix
    }

    public let config: ModelConfig
    private let file: GGUFFile              // keeps the mapping alive
    private let blocks: [Block]
    private let tokenEmbedding: WeightMatrix
    private let outputNorm: UnsafePointer<Float>
    private let output: WeightMatrix
    private let invFreq: [Float]

    let matmul = MatMul()
    let attention = Attention()
    // Activations for the current batch, [rows × width].
    private let x = FloatBuffer(), xb = FloatBuffer(), q = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer()
    private let att = FloatBuffer(), hb = FloatBuffer(), hb2 = FloatBuffer(), logits = FloatBuffer()

    public init(file: GGUFFile) throws {
        let c = try ModelConfig(gguf: file)
        guard c.architecture == "qwen2" else { throw ModelError.unsupportedArchitecture(c.architecture) }
        self.config = c
        self.file = file
        let d = c.embeddingLength
        blocks = try (0..<c.layerCount).map { l in
            let p = "blk.\(l)."
            return Block(
                attnNorm: try vectorTensor(file, p + "attn_norm.weight", length: d),
                wq: try WeightMatrix(file: file, name: p + "attn_q.weight", rows: c.qDimension, cols: d),
                wk: try WeightMatrix(file: file, name: p + "attn_k.weight", rows: c.kvDimension, cols: d),
                wv: try WeightMatrix(file: file, name: p + "attn_v.weight", rows: c.kvDimension, cols: d),
                wo: try WeightMatrix(file: file, name: p + "attn_output.weight", rows: d, cols: c.qDimension),
                bq: try vectorTensor(file, p + "attn_q.bias", length: c.qDimension),
                bk: try vectorTensor(file, p + "attn_k.bias", length: c.kvDimension),
                bv: try vectorTensor(file, p + "attn_v.bias", length: c.kvDimension),
                ffnNorm: try vectorTensor(file, p + "ffn_norm.weight", length: d),
                gate: try WeightMatrix(file: file, name: p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d),
                up: try WeightMatrix(file: file, name: p + "ffn_up.weight", rows: c.feedForwardLength, cols: d),
                down: try WeightMatrix(file: file, name: p + "ffn_down.weight", rows: d, cols: c.feedForwardLength))
        }
        tokenEmbedding = try WeightMatrix(file: file, name: "token_embd.weight", rows: c.vocabularySize, cols: d)
        outputNorm = try vectorTensor(file, "output_norm.weight", length: d)
        output = file.tensor(named: "output.weight") != nil
            ? try WeightMatrix(file: file, name: "output.weight", rows: c.vocabularySize, cols: d)
            : tokenEmbedding
        invFreq = Ops.ropeInverseFrequencies(base: c.ropeBase, dims: c.ropeDimensions)
    }

    public func forward(_ batch: Batch, hooks: Hooks?) throws -> UnsafeBufferPointer<Float> {
        let c = config, t = batch.count, d = c.embeddingLength
        try validateBatch(batch, config: c)
        let lastLayer = hooks?.lastLayer ?? c.layerCount - 1
        let hooks = try RowHooks(batch, shared: hooks, width: d, layers: c.layerCount)
        let ir = batch.independentRows

        let x = self.x.reserve(t * d), xb = self.xb.reserve(t * d)
        let q = self.q.reserve(t * c.qDimension), att = self.att.reserve(t * c.qDimension)
        let k = self.k.reserve(t * c.kvDimension), v = self.v.reserve(t * c.kvDimension)
        let hb = self.hb.reserve(t * c.feedForwardLength), hb2 = self.hb2.reserve(t * c.feedForwardLength)

        for r in 0..<t { tokenEmbedding.dequantizeRow(Int(batch.tokens[r]), into: x + r * d) }
        let shape = Attention.Shape(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDimension,
                                    scale: 1 / Float(c.headDimension).squareRoot(), window: nil)

        for (l, b) in blocks.enumerated() {
            // Captures that end earlier need no deeper layer and no logits (`Hooks.lastLayer`).
            if l > lastLayer { break }
            hooks?.apply(.residualIn(layer: l), x, rows: t, width: d)
            // Attention: biased projections, NeoX RoPE on Q and K.
            Ops.rmsNorm(x, b.attnNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            matmul.apply([(b.wq, q), (b.wk, k), (b.wv, v)], xb, rows: t, independentRows: ir)
            Self.addBias(q, b.bq, rows: t, n: c.qDimension)
            Self.addBias(k, b.bk, rows: t, n: c.kvDimension)
            Self.addBias(v, b.bv, rows: t, n: c.kvDimension)
            invFreq.withUnsafeBufferPointer { f in
                for r in 0..<t {
                    let pos = batch.positions[r]
                    Ops.ropeHalves(q + r * c.qDimension, heads: c.headCount, headDim: c.headDimension,
                                   ropeDims: c.ropeDimensions, position: Float(pos), invFreq: f.baseAddress!)
                    Ops.ropeHalves(k + r * c.kvDimension, heads: c.kvHeadCount, headDim: c.headDimension,
                                   ropeDims: c.ropeDimensions, position: Float(pos), invFreq: f.baseAddress!)
                    batch.sequences[r].write(layer: l, position: pos, key: k + r * c.kvDimension,
                                             value: v + r * c.kvDimension)
                }
            }
            attention.run(q: q, out: att, rows: t, sequences: batch.sequences, positions: batch.positions,
                          layer: l, shape: shape, independentRows: ir)
            matmul.apply(b.wo, att, rows: t, xb, independentRows: ir)
            hooks?.apply(.attentionOutput(layer: l), xb, rows: t, width: d)
            Ops.add(x, xb, count: t * d)
            // MLP.
            Ops.rmsNorm(x, b.ffnNorm, xb, rows: t, n: d, eps: c.rmsEpsilon)
            matmul.apply([(b.gate, hb), (b.up, hb2)], xb, rows: t, independentRows: ir)
            Ops.swiGLU(hb, hb2, rows: t, n: c.feedForwardLength)
            matmul.apply(b.down, hb, rows: t, xb, independentRows: ir)
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

    /// The output head always runs on the quantized kernels, as Gemma 3's does: the float path would
    /// dequantize the 151,936-row matrix (545 MB of floats for the 0.5B model) on every call, and
    /// per-row results stay batch-independent.
    private func head(_ normed: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>) {
        matmul.apply(output, normed, rows: n, out, independentRows: true)
    }

    /// x[r] += bias for each of `rows` rows of `n` floats.
    private static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows { Ops.add(x + r * n, bias, count: n) }
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
