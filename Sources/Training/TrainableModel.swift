import CKernels
import Core
import Foundation
import GGUF
import Inference

/// Tokens of one forward/backward pass: several sequences packed one after another, each a
/// `Segment` that attends only to itself, positions restarting at 0 in each.
public struct PackedBatch: Sendable, Equatable {
    public var tokens: [Int32] = []
    public var positions: [Int32] = []
    /// The token each row predicts (the next token of its sequence), or -1 where no loss is taken.
    public var targets: [Int32] = []
    public var segments: [Segment] = []
    /// Id of the first row, for dropout masks (unique within a step).
    public var rowBase: Int64 = 0

    public init() {}

    public var count: Int { tokens.count }
    public var lossTokens: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Appends one sequence: `tokens`, with `trained[i]` saying whether token i is a target.
    public mutating func append(tokens seq: [Int32], trained: [Bool]) {
        precondition(seq.count == trained.count)
        segments.append(Segment(start: tokens.count, length: seq.count))
        for i in 0..<seq.count {
            tokens.append(seq[i])
            positions.append(Int32(i))
            targets.append(i + 1 < seq.count && trained[i + 1] ? seq[i + 1] : -1)
        }
    }
}

/// What is trained: low-rank adapters on frozen weights, or every weight.
public enum TrainingMode: Sendable, Equatable {
    case lora(LoRAConfig)
    case full
}

/// A model that computes its loss and its gradients: llama (SmolLM2 and kin), qwen2 (Qwen2.5) or
/// gemma3 (Gemma 3), one trainer switched by `ModelShape.architecture` — qwen2 adds the Q/K/V biases
/// after the fused projection (frozen under LoRA, trained with full finetuning) and rotates the halves
/// of each head (NeoX RoPE) where llama rotates adjacent pairs; gemma3 scales the embeddings, norms
/// each head of Q and K, norms the attention's and the MLP's outputs before their residual adds,
/// gates the MLP with tanh GELU, and gives its local layers a sliding window and their own RoPE base.
///
/// Base weights are dequantized once to float32 (`WeightLayout`); with LoRA they are frozen and the
/// trainable values are the adapters' (`LoRALayout`), with full finetuning they are the weights
/// themselves (float32 master weights). Each pass keeps the activations the backward pass needs:
/// per layer the block's input, the fused Q/K/V (after RoPE), the attention's log-normalizers, its
/// output, the residual after attention, the gate/up pre-activations, the adapters' `X·Aᵀ`, and the
/// norms' reciprocal RMS; gemma3 also keeps Q/K/V before its head norms and the attention's and the
/// MLP's outputs before their post-norms. Normalized inputs, the gated product and the attention
/// probabilities are recomputed in the backward pass.
public final class TrainableModel: @unchecked Sendable {
    public let shape: ModelShape
    public let layout: WeightLayout
    public let mode: TrainingMode
    public let lora: LoRALayout?
    /// Base weights (the trainable values with full finetuning).
    public let weights: Floats
    /// Trainable values and their gradients (the weights themselves with full finetuning).
    public let parameters: Floats
    public let gradients: Floats
    /// Seed of the dropout masks of this step (set by the optimizer loop).
    public var dropoutSeed: UInt64 = 0
    /// Dropout is applied in training passes only (those with a backward pass).
    private var dropoutActive = false

    /// RoPE tables of the global layers (every layer but gemma3's local ones) and of gemma3's local layers.
    private let globalRope: (cos: [Float], sin: [Float]), localRope: (cos: [Float], sin: [Float])?
    private let attention: AttentionShape
    private let scratch = AttentionScratch()
    private var capacity = 0
    private var acts: Activations?

    /// Rows of the output head computed at once (memory: rows × vocabulary floats).
    public var headChunk = 256
    private var headBuffers: (logits: Floats, xc: Floats, dxc: Floats)?

    /// Keep only each layer's input between the forward and the backward pass, and compute the
    /// layer's other activations again just before its backward: one more forward pass of work, and
    /// one layer's activations in memory instead of every layer's (for long sequences). The numbers
    /// are the same bit for bit.
    public var recompute = false {
        didSet { if recompute != oldValue { acts = nil; capacity = 0 } }
    }

    /// Where layer `l`'s activations live: its own slot, or the one shared slot when recomputing.
    private func slot(_ l: Int) -> Int { recompute ? 0 : l }

    public init(shape: ModelShape, weights: Floats, mode: TrainingMode) throws {
        self.shape = shape
        layout = WeightLayout(shape)
        precondition(weights.count == layout.count, "weights do not match the layout")
        guard shape.heads % shape.kvHeads == 0, shape.ropeDims % 2 == 0, shape.ropeDims <= shape.headDim,
              shape.globalEvery > 0, (shape.slidingWindow ?? 1) > 0 else {
            throw TrainingError.invalidOption("unsupported attention shape")
        }
        self.weights = weights
        self.mode = mode
        switch mode {
        case .lora(let config):
            let l = try LoRALayout(config: config, shape: shape)
            lora = l
            parameters = Floats(l.count)
            gradients = Floats(l.count)
        case .full:
            lora = nil
            parameters = weights
            gradients = Floats(layout.count)
        }
        globalRope = TrainOps.ropeTables(positions: shape.contextLength, ropeDims: shape.ropeDims, base: shape.ropeBase,
                                         positionScale: shape.globalPositionScale)
        localRope = shape.slidingWindow == nil ? nil
            : TrainOps.ropeTables(positions: shape.contextLength, ropeDims: shape.ropeDims, base: shape.localRopeBase)
        attention = AttentionShape(heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim, qOffset: 0,
                                   kOffset: shape.qDim, vOffset: shape.qDim + shape.kvDim, ld: shape.qkvDim)
    }

    /// Reads the weights of a llama, qwen2 or gemma3 GGUF file (dequantized to float32).
    public static func load(file: GGUFFile, mode: TrainingMode) throws -> TrainableModel {
        let c: ModelConfig
        do { c = try ModelConfig(gguf: file) } catch { throw TrainingError.data("\(error)") }
        guard let architecture = ModelShape.Architecture(rawValue: c.architecture) else {
            throw TrainingError.unsupportedArchitecture(c.architecture)
        }
        let tied = file.tensor(named: "output.weight") == nil
        let shape: ModelShape
        if architecture == .gemma3 {
            // The engine's reading of the window, the layer pattern and the RoPE (and its checks).
            let gemma: Gemma3Model
            do { gemma = try Gemma3Model(file: file) } catch { throw TrainingError.data("\(error)") }
            if let cap = gemma.finalLogitSoftcap {
                throw TrainingError.invalidOption("training does not support final logit soft-capping (gemma3.final_logit_softcapping = \(cap))")
            }
            shape = ModelShape(gemma, tiedOutput: tied)
        } else {
            shape = ModelShape(c, tiedOutput: tied)
        }
        let layout = WeightLayout(shape)
        let weights = Floats(layout.count, zeroed: false)
        try layout.load(from: file, into: weights.pointer)
        return try TrainableModel(shape: shape, weights: weights, mode: mode)
    }

    public var isFull: Bool { mode == .full }

    // MARK: Activations

    final class Activations {
        let rows: Int
        let resid, rstd1, rstd2, rstdF, qkv, lse, att, xMid, gu, u: Floats
        /// gemma3: Q/K/V before the head norms and their rstd; the attention's and the MLP's outputs
        /// before their post-norms and theirs (one float each otherwise).
        let qkvRaw, rstdQ, rstdK, attnOut, rstdPostAttn, mlpOut, rstdPostMLP: Floats
        // scratch
        let xn, h, dresid, dxn, dqkv, datt, dgu, dh, du, drop, dropGrad, dpost, dqkvRaw: Floats

        /// `keptLayers`: the layers whose activations are kept at once (all, or one when recomputing);
        /// every layer's input is kept either way.
        init(rows t: Int, shape s: ModelShape, keptLayers L: Int, uWidth: Int, maxRank: Int, dropout: Bool) {
            rows = t
            resid = Floats((s.layers + 1) * t * s.width, zeroed: false)
            rstd1 = Floats(L * t, zeroed: false)
            rstd2 = Floats(L * t, zeroed: false)
            rstdF = Floats(t, zeroed: false)
            qkv = Floats(L * t * s.qkvDim, zeroed: false)
            lse = Floats(L * t * s.heads, zeroed: false)
            att = Floats(L * t * s.qDim, zeroed: false)
            xMid = Floats(L * t * s.width, zeroed: false)
            gu = Floats(L * t * 2 * s.feedForward, zeroed: false)
            u = Floats(L * t * uWidth, zeroed: false)
            let wide = max(s.width, s.qDim, s.feedForward)
            xn = Floats(t * wide, zeroed: false)
            h = Floats(t * s.feedForward, zeroed: false)
            dresid = Floats(t * s.width, zeroed: false)
            dxn = Floats(t * wide, zeroed: false)
            dqkv = Floats(t * s.qkvDim, zeroed: false)
            datt = Floats(t * s.qDim, zeroed: false)
            dgu = Floats(t * 2 * s.feedForward, zeroed: false)
            dh = Floats(t * s.feedForward, zeroed: false)
            du = Floats(max(1, t * maxRank), zeroed: false)
            drop = Floats(dropout ? t * wide : 1, zeroed: false)
            dropGrad = Floats(dropout ? t * wide : 1, zeroed: false)
            func gemma(_ n: Int, _ needed: Bool) -> Floats { Floats(needed ? n : 1, zeroed: false) }
            qkvRaw = gemma(L * t * s.qkvDim, s.qkNorm)
            rstdQ = gemma(L * t * s.heads, s.qkNorm)
            rstdK = gemma(L * t * s.kvHeads, s.qkNorm)
            dqkvRaw = gemma(t * s.qkvDim, s.qkNorm)
            attnOut = gemma(L * t * s.width, s.postNorms)
            rstdPostAttn = gemma(L * t, s.postNorms)
            mlpOut = gemma(L * t * s.width, s.postNorms)
            rstdPostMLP = gemma(L * t, s.postNorms)
            dpost = gemma(t * s.width, s.postNorms)
        }

        var bytes: Int {
            [resid, rstd1, rstd2, rstdF, qkv, lse, att, xMid, gu, u, qkvRaw, rstdQ, rstdK, attnOut, rstdPostAttn, mlpOut, rstdPostMLP,
             xn, h, dresid, dxn, dqkv, datt, dgu, dh, du, drop, dropGrad, dpost, dqkvRaw]
                .reduce(0) { $0 + $1.count * 4 }
        }
    }

    /// Allocates activations for passes of up to `rows` tokens (done on first use otherwise).
    public func reserve(rows: Int) {
        guard rows > capacity else { return }
        acts = nil
        acts = Activations(rows: rows, shape: shape, keptLayers: recompute ? 1 : shape.layers, uWidth: lora?.uWidth ?? 0,
                           maxRank: lora?.maxGroupRank ?? 0,
                           dropout: (lora?.config.dropout ?? 0) > 0)
        capacity = rows
    }

    /// Bytes of activation memory reserved.
    public var activationBytes: Int { acts?.bytes ?? 0 }

    // MARK: Forward and backward

    /// The summed cross-entropy of `batch`'s targets (and how many there were). With `backward`, also
    /// adds the gradient of `lossScale ×` that sum to `gradients` (the caller zeroes them per step).
    @discardableResult
    public func run(_ batch: PackedBatch, backward: Bool, lossScale: Float = 1) throws -> (loss: Double, tokens: Int) {
        let t = batch.count
        guard t > 0 else { return (0, 0) }
        for tok in batch.tokens where tok < 0 || Int(tok) >= shape.vocabulary {
            throw TrainingError.data("token id \(tok) is outside the vocabulary (\(shape.vocabulary))")
        }
        for p in batch.positions where Int(p) >= shape.contextLength {
            throw TrainingError.data("position \(p) is beyond the model's context (\(shape.contextLength))")
        }
        reserve(rows: t)
        dropoutActive = backward
        let a = acts!
        let s = shape, d = s.width
        let w = weights.pointer
        return try batch.tokens.withUnsafeBufferPointer { tokens in
            try batch.positions.withUnsafeBufferPointer { positions in
                TrainOps.embeddingForward(a.resid.pointer, tokens: tokens.baseAddress!, rows: t, table: w + layout.embedding, width: d,
                                          scale: s.embeddingScale)
                for l in 0..<s.layers { layerForward(l, batch: batch, positions: positions.baseAddress!, rows: t) }
                // Final norm into xn (kept until the head is done).
                let xL = a.resid.pointer + s.layers * t * d
                TrainOps.rmsnormForward(a.xn.pointer, rstd: a.rstdF.pointer, x: xL, weight: w + layout.outputNorm, rows: t, width: d, eps: s.eps)
                if backward { a.dxn.pointer.update(repeating: 0, count: t * d) }
                let (loss, count) = outputHead(batch, backward: backward, lossScale: lossScale)
                guard backward else { return (loss, count) }
                let g = gradients.pointer
                a.dresid.pointer.update(repeating: 0, count: t * d)
                TrainOps.rmsnormBackward(dx: a.dresid.pointer, dweight: isFull ? g + layout.outputNorm : nil, dout: a.dxn.pointer,
                                         x: xL, weight: w + layout.outputNorm, rstd: a.rstdF.pointer, rows: t, width: d)
                let lowest = isFull ? 0 : (lora?.lowestLayer ?? s.layers)
                var l = s.layers - 1
                while l >= lowest {
                    // The last layer's activations are still in the shared slot.
                    if recompute && l < s.layers - 1 { layerForward(l, batch: batch, positions: positions.baseAddress!, rows: t) }
                    layerBackward(l, batch: batch, positions: positions.baseAddress!, rows: t, needInputGradient: isFull || l > lowest)
                    l -= 1
                }
                if isFull {
                    TrainOps.embeddingBackward(g + layout.embedding, dout: a.dresid.pointer, tokens: tokens.baseAddress!, rows: t, width: d,
                                               scale: s.embeddingScale)
                }
                return (loss, count)
            }
        }
    }

    private func layerForward(_ l: Int, batch: PackedBatch, positions: UnsafePointer<Int32>, rows t: Int) {
        let a = acts!, s = shape, d = s.width, f = s.feedForward, k = slot(l)
        let w = weights.pointer, L = layout.layers[l]
        let x = a.resid.pointer + l * t * d, xNext = a.resid.pointer + (l + 1) * t * d
        let qkv = a.qkv.pointer + k * t * s.qkvDim, att = a.att.pointer + k * t * s.qDim
        let xMid = a.xMid.pointer + k * t * d, gu = a.gu.pointer + k * t * 2 * f
        let xn = a.xn.pointer
        // gemma3 keeps the projections before its head norms and post-norms; the others write them in place.
        let qkvIn = s.qkNorm ? a.qkvRaw.pointer + k * t * s.qkvDim : qkv
        let attnOut = s.postNorms ? a.attnOut.pointer + k * t * d : xn
        let mlpOut = s.postNorms ? a.mlpOut.pointer + k * t * d : xNext

        // Attention.
        TrainOps.rmsnormForward(xn, rstd: a.rstd1.pointer + k * t, x: x, weight: w + L.attnNorm, rows: t, width: d, eps: s.eps)
        TrainOps.matmulForward(qkvIn, ldy: s.qkvDim, x: xn, ldx: d, weight: w + L.qkv, rows: t, inputs: d, outputs: s.qkvDim)
        loraForward(l, .qkv, x: xn, y: qkvIn, ldy: s.qkvDim, batch: batch, rows: t)
        if let b = L.qkvBias { TrainOps.biasForward(qkvIn, ld: s.qkvDim, bias: w + b, rows: t, width: s.qkvDim) }
        if let qNorm = L.qNorm, let kNorm = L.kNorm {
            TrainOps.headNormForward(qkv, rstd: a.rstdQ.pointer + k * t * s.heads, x: qkvIn, ld: s.qkvDim, weight: w + qNorm, rows: t,
                                     heads: s.heads, headDim: s.headDim, eps: s.eps)
            TrainOps.headNormForward(qkv + s.qDim, rstd: a.rstdK.pointer + k * t * s.kvHeads, x: qkvIn + s.qDim, ld: s.qkvDim,
                                     weight: w + kNorm, rows: t, heads: s.kvHeads, headDim: s.headDim, eps: s.eps)
            for r in 0..<t { (qkv + r * s.qkvDim + s.qDim + s.kvDim).update(from: qkvIn + r * s.qkvDim + s.qDim + s.kvDim, count: s.kvDim) }
        }
        ropeQK(l, qkv, positions: positions, rows: t, backward: false)
        TrainOps.attentionForward(out: att, lse: a.lse.pointer + k * t * s.heads, qkv: qkv, segments: batch.segments,
                                  shape: attentionShape(l), scratch: scratch)
        TrainOps.matmulForward(attnOut, ldy: d, x: att, ldx: s.qDim, weight: w + L.o, rows: t, inputs: s.qDim, outputs: d)
        loraForward(l, .o, x: att, y: attnOut, ldy: d, batch: batch, rows: t)
        if let n = L.postAttnNorm {
            TrainOps.rmsnormForward(xn, rstd: a.rstdPostAttn.pointer + k * t, x: attnOut, weight: w + n, rows: t, width: d, eps: s.eps)
        }
        xMid.update(from: x, count: t * d)
        TrainOps.residualForward(xMid, xn, count: t * d)
        // MLP.
        TrainOps.rmsnormForward(xn, rstd: a.rstd2.pointer + k * t, x: xMid, weight: w + L.ffnNorm, rows: t, width: d, eps: s.eps)
        TrainOps.matmulForward(gu, ldy: 2 * f, x: xn, ldx: d, weight: w + L.gateUp, rows: t, inputs: d, outputs: 2 * f)
        loraForward(l, .gateUp, x: xn, y: gu, ldy: 2 * f, batch: batch, rows: t)
        TrainOps.gluForward(a.h.pointer, gu: gu, rows: t, width: f, gelu: s.gelu)
        TrainOps.matmulForward(mlpOut, ldy: d, x: a.h.pointer, ldx: f, weight: w + L.down, rows: t, inputs: f, outputs: d)
        loraForward(l, .down, x: a.h.pointer, y: mlpOut, ldy: d, batch: batch, rows: t)
        if let n = L.postFFNNorm {
            TrainOps.rmsnormForward(xNext, rstd: a.rstdPostMLP.pointer + k * t, x: mlpOut, weight: w + n, rows: t, width: d, eps: s.eps)
        }
        TrainOps.residualForward(xNext, xMid, count: t * d)
    }

    private func layerBackward(_ l: Int, batch: PackedBatch, positions: UnsafePointer<Int32>, rows t: Int, needInputGradient: Bool) {
        let a = acts!, s = shape, d = s.width, f = s.feedForward, k = slot(l)
        let w = weights.pointer, L = layout.layers[l]
        let g: UnsafeMutablePointer<Float>? = isFull ? gradients.pointer : nil
        let x = a.resid.pointer + l * t * d
        let qkv = a.qkv.pointer + k * t * s.qkvDim, att = a.att.pointer + k * t * s.qDim
        let xMid = a.xMid.pointer + k * t * d, gu = a.gu.pointer + k * t * 2 * f
        let xn = a.xn.pointer, dresid = a.dresid.pointer, dxn = a.dxn.pointer

        // What this layer must still compute: at the lowest adapted layer, nothing below its lowest adapter.
        let has = { (k: LoRALayout.GroupKind) in self.lora?.group(l, k) != nil }
        let needQKV = needInputGradient || has(.qkv)
        let needO = needQKV || has(.o)
        let needGateUp = needO || has(.gateUp)

        // dresid is ∂L/∂x_{l+1}; dmlp is ∂L/∂(down projection), through gemma3's post-norm.
        let dmlp = postNormBackward(L.postFFNNorm, dout: dresid, input: a.mlpOut.pointer + k * t * d, rstd: a.rstdPostMLP.pointer + k * t,
                                    rows: t)
        // Down projection.
        TrainOps.gluForward(a.h.pointer, gu: gu, rows: t, width: f, gelu: s.gelu)
        TrainOps.matmulBackward(dx: needGateUp ? a.dh.pointer : nil, lddx: f, accumulateDx: false, dweight: g.map { $0 + L.down },
                                dy: dmlp, lddy: d, x: a.h.pointer, ldx: f, weight: w + L.down, rows: t, inputs: f, outputs: d)
        loraBackward(l, .down, x: a.h.pointer, dy: dmlp, lddy: d, dx: needGateUp ? a.dh.pointer : nil, batch: batch, rows: t)
        guard needGateUp else { return }
        TrainOps.gluBackward(dgu: a.dgu.pointer, dh: a.dh.pointer, gu: gu, rows: t, width: f, gelu: s.gelu)
        // Gate and up.
        TrainOps.rmsnormForward(xn, rstd: nil, x: xMid, weight: w + L.ffnNorm, rows: t, width: d, eps: s.eps)
        TrainOps.matmulBackward(dx: needO ? dxn : nil, lddx: d, accumulateDx: false, dweight: g.map { $0 + L.gateUp }, dy: a.dgu.pointer,
                                lddy: 2 * f, x: xn, ldx: d, weight: w + L.gateUp, rows: t, inputs: d, outputs: 2 * f)
        loraBackward(l, .gateUp, x: xn, dy: a.dgu.pointer, lddy: 2 * f, dx: needO ? dxn : nil, batch: batch, rows: t)
        guard needO else { return }
        TrainOps.rmsnormBackward(dx: dresid, dweight: g.map { $0 + L.ffnNorm }, dout: dxn, x: xMid, weight: w + L.ffnNorm,
                                 rstd: a.rstd2.pointer + k * t, rows: t, width: d)
        // dresid is now ∂L/∂xMid; dattn is ∂L/∂(output projection), through gemma3's post-norm.
        let dattn = postNormBackward(L.postAttnNorm, dout: dresid, input: a.attnOut.pointer + k * t * d,
                                     rstd: a.rstdPostAttn.pointer + k * t, rows: t)
        // Output projection.
        TrainOps.matmulBackward(dx: needQKV ? a.datt.pointer : nil, lddx: s.qDim, accumulateDx: false, dweight: g.map { $0 + L.o },
                                dy: dattn, lddy: d, x: att, ldx: s.qDim, weight: w + L.o, rows: t, inputs: s.qDim, outputs: d)
        loraBackward(l, .o, x: att, dy: dattn, lddy: d, dx: needQKV ? a.datt.pointer : nil, batch: batch, rows: t)
        guard needQKV else { return }
        // Attention and RoPE.
        TrainOps.attentionBackward(dqkv: a.dqkv.pointer, dout: a.datt.pointer, qkv: qkv, lse: a.lse.pointer + k * t * s.heads,
                                   segments: batch.segments, shape: attentionShape(l), scratch: scratch)
        ropeQK(l, a.dqkv.pointer, positions: positions, rows: t, backward: true)
        // dproj is ∂L/∂(projection + bias): through gemma3's head norms, or dqkv itself.
        var dproj = UnsafePointer(a.dqkv.pointer)
        if let qNorm = L.qNorm, let kNorm = L.kNorm {
            let raw = a.qkvRaw.pointer + k * t * s.qkvDim, dr = a.dqkvRaw.pointer, dq = a.dqkv.pointer
            for r in 0..<t {
                (dr + r * s.qkvDim).update(repeating: 0, count: s.qDim + s.kvDim)
                (dr + r * s.qkvDim + s.qDim + s.kvDim).update(from: dq + r * s.qkvDim + s.qDim + s.kvDim, count: s.kvDim)
            }
            TrainOps.headNormBackward(dx: dr, dweight: g.map { $0 + qNorm }, dout: dq, x: raw, ld: s.qkvDim, weight: w + qNorm,
                                      rstd: a.rstdQ.pointer + k * t * s.heads, rows: t, heads: s.heads, headDim: s.headDim)
            TrainOps.headNormBackward(dx: dr + s.qDim, dweight: g.map { $0 + kNorm }, dout: dq + s.qDim, x: raw + s.qDim, ld: s.qkvDim,
                                      weight: w + kNorm, rstd: a.rstdK.pointer + k * t * s.kvHeads, rows: t, heads: s.kvHeads,
                                      headDim: s.headDim)
            dproj = UnsafePointer(dr)
        }
        // The bias's gradient is the column sums of dproj.
        if let g, let b = L.qkvBias { TrainOps.biasBackward(g + b, dy: dproj, ld: s.qkvDim, rows: t, width: s.qkvDim) }
        // Q, K, V.
        let needsInput = g != nil || lora?.group(l, .qkv) != nil
        if needsInput { TrainOps.rmsnormForward(xn, rstd: nil, x: x, weight: w + L.attnNorm, rows: t, width: d, eps: s.eps) }
        TrainOps.matmulBackward(dx: needInputGradient ? dxn : nil, lddx: d, accumulateDx: false, dweight: g.map { $0 + L.qkv },
                                dy: dproj, lddy: s.qkvDim, x: xn, ldx: d, weight: w + L.qkv, rows: t, inputs: d, outputs: s.qkvDim)
        loraBackward(l, .qkv, x: xn, dy: dproj, lddy: s.qkvDim, dx: needInputGradient ? dxn : nil, batch: batch, rows: t)
        if needInputGradient {
            TrainOps.rmsnormBackward(dx: dresid, dweight: g.map { $0 + L.attnNorm }, dout: dxn, x: x, weight: w + L.attnNorm,
                                     rstd: a.rstd1.pointer + k * t, rows: t, width: d)
        }
    }

    /// The gradient with respect to a post-norm's input (gemma3; `dpost` holds it), from `dout`, the
    /// one with respect to its output; with full finetuning also its weight's. Without the norm
    /// (`norm` nil), `dout` itself.
    private func postNormBackward(_ norm: Int?, dout: UnsafePointer<Float>, input: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                  rows t: Int) -> UnsafePointer<Float> {
        guard let norm else { return dout }
        let a = acts!, d = shape.width, dpost = a.dpost.pointer
        dpost.update(repeating: 0, count: t * d)
        TrainOps.rmsnormBackward(dx: dpost, dweight: isFull ? gradients.pointer + norm : nil, dout: dout, x: input,
                                 weight: weights.pointer + norm, rstd: rstd, rows: t, width: d)
        return UnsafePointer(dpost)
    }

    /// Layer `l`'s attention: gemma3's local layers see a sliding window.
    private func attentionShape(_ l: Int) -> AttentionShape {
        var shape = attention
        shape.window = self.shape.window(layer: l)
        return shape
    }

    private func ropeQK(_ l: Int, _ qkv: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, rows t: Int, backward: Bool) {
        let s = shape
        let tables = s.isGlobal(layer: l) ? globalRope : localRope!
        tables.cos.withUnsafeBufferPointer { c in
            tables.sin.withUnsafeBufferPointer { sn in
                TrainOps.rope(qkv, ld: s.qkvDim, positions: positions, rows: t, heads: s.heads, headDim: s.headDim, ropeDims: s.ropeDims,
                              cos: c.baseAddress!, sin: sn.baseAddress!, halves: s.ropeHalves, backward: backward)
                TrainOps.rope(qkv + s.qDim, ld: s.qkvDim, positions: positions, rows: t, heads: s.kvHeads, headDim: s.headDim,
                              ropeDims: s.ropeDims, cos: c.baseAddress!, sin: sn.baseAddress!, halves: s.ropeHalves, backward: backward)
            }
        }
    }

    // MARK: LoRA terms

    /// The group's input with its dropout mask applied (a copy), or the input itself.
    private func droppedInput(_ l: Int, _ g: LoRALayout.Group, x: UnsafePointer<Float>, batch: PackedBatch, rows t: Int,
                              into buffer: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard dropoutActive, let p = lora?.config.dropout, p > 0 else { return x }
        buffer.update(from: x, count: t * g.inputs)
        applyDropout(l, g, buffer, batch: batch, rows: t)
        return UnsafePointer(buffer)
    }

    private func applyDropout(_ l: Int, _ g: LoRALayout.Group, _ m: UnsafeMutablePointer<Float>, batch: PackedBatch, rows t: Int) {
        let p = lora!.config.dropout
        let seed = SplitMix64.mix(dropoutSeed, UInt64(l * 8 + g.kind.rawValue))
        let ids = (0..<t).map { batch.rowBase + Int64($0) }
        ids.withUnsafeBufferPointer { idp in
            Parallel.forRange(t) { r in
                ekt_dropout_rows(m, Int32(g.inputs), Int32(g.inputs), idp.baseAddress!, Int32(r.lowerBound), Int32(r.upperBound), seed, p)
            }
        }
    }

    /// y += s·(drop(x)·Aᵀ)·Bᵀ for each module of the group; U = drop(x)·Aᵀ kept.
    private func loraForward(_ l: Int, _ kind: LoRALayout.GroupKind, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int,
                             batch: PackedBatch, rows t: Int) {
        guard let lora, let g = lora.group(l, kind) else { return }
        let a = acts!, p = parameters.pointer, scale = lora.config.scale, k = slot(l)
        let u = a.u.pointer + k * t * lora.uWidth + g.uOffset * t
        let xd = droppedInput(l, g, x: x, batch: batch, rows: t, into: a.drop.pointer)
        GEMM.parallel(transA: false, transB: true, m: t, n: g.rank, k: g.inputs, a: xd, lda: g.inputs, b: p + g.a, ldb: g.inputs,
                      c: u, ldc: g.rank)
        for m in g.members {
            GEMM.parallel(transA: false, transB: true, m: t, n: m.outputs, k: lora.config.rank, alpha: scale, a: u + m.rankOffset,
                          lda: g.rank, b: p + m.b, ldb: lora.config.rank, beta: 1, c: y + m.column, ldc: ldy)
        }
    }

    /// Gradients of A and B, and dx += the term's input gradient when `dx` is given.
    private func loraBackward(_ l: Int, _ kind: LoRALayout.GroupKind, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, lddy: Int,
                              dx: UnsafeMutablePointer<Float>?, batch: PackedBatch, rows t: Int) {
        guard let lora, let grp = lora.group(l, kind) else { return }
        let a = acts!, p = parameters.pointer, g = gradients.pointer, scale = lora.config.scale, r = lora.config.rank, k = slot(l)
        let u = a.u.pointer + k * t * lora.uWidth + grp.uOffset * t
        let du = a.du.pointer
        for m in grp.members {
            // dB += s·dYᵀ·U;  dU = s·dY·B.
            GEMM.parallel(transA: true, transB: false, m: m.outputs, n: r, k: t, alpha: scale, a: dy + m.column, lda: lddy,
                          b: u + m.rankOffset, ldb: grp.rank, beta: 1, c: g + m.b, ldc: r)
            GEMM.parallel(transA: false, transB: false, m: t, n: r, k: m.outputs, alpha: scale, a: dy + m.column, lda: lddy,
                          b: p + m.b, ldb: r, c: du + m.rankOffset, ldc: grp.rank)
        }
        // dA += dUᵀ·drop(x).
        let xd = droppedInput(l, grp, x: x, batch: batch, rows: t, into: a.drop.pointer)
        GEMM.parallel(transA: true, transB: false, m: grp.rank, n: grp.inputs, k: t, a: du, lda: grp.rank, b: xd, ldb: grp.inputs,
                      beta: 1, c: g + grp.a, ldc: grp.inputs)
        guard let dx else { return }
        if dropoutActive, lora.config.dropout > 0 {
            let tmp = a.dropGrad.pointer
            GEMM.parallel(transA: false, transB: false, m: t, n: grp.inputs, k: grp.rank, a: du, lda: grp.rank, b: p + grp.a,
                          ldb: grp.inputs, c: tmp, ldc: grp.inputs)
            applyDropout(l, grp, tmp, batch: batch, rows: t)
            ekt_add(dx, tmp, t * grp.inputs)
        } else {
            GEMM.parallel(transA: false, transB: false, m: t, n: grp.inputs, k: grp.rank, a: du, lda: grp.rank, b: p + grp.a,
                          ldb: grp.inputs, beta: 1, c: dx, ldc: grp.inputs)
        }
    }

    // MARK: Output head and loss

    /// Cross-entropy over the rows with a target, `headChunk` rows at a time: logits, loss and (with
    /// `backward`) ∂L/∂logits in place, then ∂L/∂(final norm output) into `dxn` and, with full
    /// finetuning, the head's weight gradient.
    private func outputHead(_ batch: PackedBatch, backward: Bool, lossScale: Float) -> (Double, Int) {
        let a = acts!, s = shape, d = s.width, V = s.vocabulary
        let rows = batch.targets.indices.filter { batch.targets[$0] >= 0 }
        guard !rows.isEmpty else { return (0, 0) }
        let chunk = min(headChunk, rows.count)
        if (headBuffers?.logits.count ?? 0) < chunk * V {
            headBuffers = (Floats(chunk * V, zeroed: false), Floats(chunk * d, zeroed: false), Floats(chunk * d, zeroed: false))
        }
        let (logits, xc, dxc) = headBuffers!
        let head = weights.pointer + layout.output
        var total = 0.0
        var losses = [Double](repeating: 0, count: chunk)
        var start = 0
        while start < rows.count {
            let n = min(chunk, rows.count - start)
            for i in 0..<n { (xc.pointer + i * d).update(from: a.xn.pointer + rows[start + i] * d, count: d) }
            GEMM.parallel(transA: false, transB: true, m: n, n: V, k: d, a: xc.pointer, lda: d, b: head, ldb: d, c: logits.pointer, ldc: V)
            let targets = (0..<n).map { batch.targets[rows[start + $0]] }
            losses.withUnsafeMutableBufferPointer { lp in
                targets.withUnsafeBufferPointer { tp in
                    Parallel.forRange(n) { range in
                        for i in range {
                            let row = logits.pointer + i * V
                            lp[i] = backward ? ekt_cross_entropy_row(row, Int32(V), tp[i], lossScale)
                                             : ekt_cross_entropy_loss(row, Int32(V), tp[i])
                        }
                    }
                }
            }
            for i in 0..<n { total += losses[i] }
            if backward {
                GEMM.parallel(transA: false, transB: false, m: n, n: d, k: V, a: logits.pointer, lda: V, b: head, ldb: d, c: dxc.pointer, ldc: d)
                for i in 0..<n { (a.dxn.pointer + rows[start + i] * d).update(from: dxc.pointer + i * d, count: d) }
                if isFull {
                    GEMM.parallel(transA: true, transB: false, m: V, n: d, k: n, a: logits.pointer, lda: V, b: xc.pointer, ldb: d,
                                  beta: 1, c: gradients.pointer + layout.output, ldc: d)
                }
            }
            start += n
        }
        return (total, rows.count)
    }
}
