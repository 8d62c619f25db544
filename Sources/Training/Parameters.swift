import Foundation
import GGUF
import Inference

/// The shape of a model as the trainer needs it: llama itself (SmolLM2), qwen2 (Qwen2 / Qwen2.5),
/// the Llama block with biases on Q, K and V and RoPE on the halves of each head, or gemma3 (the
/// text part of Gemma 3).
public struct ModelShape: Sendable, Equatable, Codable {
    /// The architectures the trainer runs. The differences are in the flags below (`qkvBias`,
    /// `ropeHalves`, `qkNorm`, `postNorms`, `gelu`, `embeddingScale`) and in the sliding window.
    public enum Architecture: String, Sendable, Equatable, Codable, CaseIterable {
        /// SmolLM2 and kin: no biases, RoPE on adjacent pairs (llama GGUF files permute Q/K rows for it).
        case llama
        /// Qwen2 / Qwen2.5: Q/K/V biases, NeoX RoPE on pairs (i, i + d/2), Q/K rows as Hugging Face's.
        case qwen2
        /// Gemma 3: embeddings scaled by √d, an RMSNorm on each head of Q and K, RMSNorms after the
        /// attention and after the MLP (before their residual adds), a GeGLU MLP (tanh GELU), NeoX
        /// RoPE, and layers that attend to a sliding window (RoPE base `localRopeBase`) between
        /// layers that attend to everything (`ropeBase`).
        case gemma3
    }

    public var architecture: Architecture
    public var vocabulary: Int
    public var width: Int           // d
    public var feedForward: Int     // f
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ropeDims: Int
    public var ropeBase: Float
    public var eps: Float
    public var tiedOutput: Bool
    /// Longest position the RoPE tables cover.
    public var contextLength: Int
    /// gemma3: positions a local layer's query sees (itself included); nil when every layer is global.
    public var slidingWindow: Int?
    /// gemma3: layer `l` is global when `(l + 1) % globalEvery == 0`.
    public var globalEvery = 1
    /// gemma3: the RoPE base of local layers.
    public var localRopeBase: Float = 10_000
    /// gemma3: positions are multiplied by this on global layers (linear RoPE scaling; 1 without).
    public var globalPositionScale: Float = 1

    public init(vocabulary: Int, width: Int, feedForward: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int,
                ropeDims: Int? = nil, ropeBase: Float = 10_000, eps: Float = 1e-5, tiedOutput: Bool = true, contextLength: Int = 2048,
                architecture: Architecture = .llama) {
        self.architecture = architecture
        self.vocabulary = vocabulary
        self.width = width
        self.feedForward = feedForward
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ropeDims = ropeDims ?? headDim
        self.ropeBase = ropeBase
        self.eps = eps
        self.tiedOutput = tiedOutput
        self.contextLength = contextLength
    }

    /// A gemma3 shape: the Llama fields plus the sliding window and its RoPE.
    public static func gemma3(vocabulary: Int, width: Int, feedForward: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int,
                              ropeBase: Float = 1_000_000, eps: Float = 1e-6, contextLength: Int = 2048, slidingWindow: Int?,
                              globalEvery: Int, localRopeBase: Float = 10_000, globalPositionScale: Float = 1) -> ModelShape {
        var s = ModelShape(vocabulary: vocabulary, width: width, feedForward: feedForward, layers: layers, heads: heads, kvHeads: kvHeads,
                           headDim: headDim, ropeBase: ropeBase, eps: eps, tiedOutput: true, contextLength: contextLength,
                           architecture: .gemma3)
        s.slidingWindow = slidingWindow
        s.globalEvery = globalEvery
        s.localRopeBase = localRopeBase
        s.globalPositionScale = globalPositionScale
        return s
    }

    /// The shape of a model the engine read (an architecture other than qwen2 and gemma3 is taken as llama;
    /// `TrainableModel.load` refuses the others first). A gemma3 model's window and local RoPE come from
    /// the engine's `Gemma3Model` (`init(_:)` reads them).
    public init(_ c: ModelConfig, tiedOutput: Bool) {
        self.init(vocabulary: c.vocabularySize, width: c.embeddingLength, feedForward: c.feedForwardLength, layers: c.layerCount,
                  heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDimension, ropeDims: c.ropeDimensions,
                  ropeBase: c.ropeBase, eps: c.rmsEpsilon, tiedOutput: tiedOutput, contextLength: c.contextLength,
                  architecture: Architecture(rawValue: c.architecture) ?? .llama)
    }

    /// The shape of a Gemma 3 model the engine opened (its sliding window, layer pattern and RoPE).
    public init(_ m: Gemma3Model, tiedOutput: Bool) {
        self.init(m.config, tiedOutput: tiedOutput)
        slidingWindow = m.slidingWindow
        globalEvery = m.globalEvery
        localRopeBase = m.localRopeBase
        globalPositionScale = m.globalPositionScale
    }

    /// Biases on the Q, K and V projections (qwen2).
    public var qkvBias: Bool { architecture == .qwen2 }
    /// RoPE on pairs (x[i], x[i + ropeDims/2]) of each head (qwen2, gemma3), rather than adjacent pairs (llama).
    public var ropeHalves: Bool { architecture != .llama }
    /// An RMSNorm (with its own weight) on each head of Q and of K before RoPE (gemma3).
    public var qkNorm: Bool { architecture == .gemma3 }
    /// RMSNorms on the attention's and the MLP's outputs before their residual adds (gemma3).
    public var postNorms: Bool { architecture == .gemma3 }
    /// The MLP's gate goes through tanh GELU (gemma3) rather than SiLU.
    public var gelu: Bool { architecture == .gemma3 }
    /// Embeddings are multiplied by this on the way in (√d for gemma3, as the engine computes it).
    public var embeddingScale: Float { architecture == .gemma3 ? Float(width).squareRoot() : 1 }

    /// Whether layer `l` attends to every earlier position (false: to its sliding window).
    public func isGlobal(layer l: Int) -> Bool { slidingWindow == nil || (l + 1) % globalEvery == 0 }
    /// The positions layer `l`'s queries see (nil: all earlier ones).
    public func window(layer l: Int) -> Int? { isGlobal(layer: l) ? nil : slidingWindow }

    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }
    public var qkvDim: Int { qDim + 2 * kvDim }

    /// Input and output widths of a projection.
    public func dimensions(_ m: LoRAModule) -> (inputs: Int, outputs: Int) {
        switch m {
        case .q: (width, qDim)
        case .k, .v: (width, kvDim)
        case .o: (qDim, width)
        case .gate, .up: (width, feedForward)
        case .down: (feedForward, width)
        }
    }

    /// The engine's config for this shape (adapter files use it for shapes and the Q/K row order).
    public var modelConfig: ModelConfig {
        ModelConfig(architecture: architecture.rawValue, layerCount: layers, embeddingLength: width, feedForwardLength: feedForward,
                    headCount: heads, kvHeadCount: kvHeads, headDimension: headDim, contextLength: contextLength,
                    vocabularySize: vocabulary, ropeBase: ropeBase, ropeDimensions: ropeDims, rmsEpsilon: eps)
    }

    /// Parameters of the whole model.
    public var parameterCount: Int {
        let perLayer = 2 * width + qkvDim * width + (qkvBias ? qkvDim : 0) + width * qDim + 2 * feedForward * width + width * feedForward
            + (qkNorm ? 2 * headDim : 0) + (postNorms ? 2 * width : 0)
        return vocabulary * width * (tiedOutput ? 1 : 2) + width + layers * perLayer
    }
}

/// Where each weight of the model lives in one contiguous float buffer: per layer the attention
/// norm, the fused Q/K/V projection ([qDim + 2·kvDim] × d: Q rows, then K, then V, in the GGUF file's
/// row order), for qwen2 its fused bias (qDim + 2·kvDim: Q's, K's, V's), for gemma3 the Q and K head
/// norms, the output projection, for gemma3 the post-attention norm, the MLP norm, the fused gate/up
/// projection ([2f] × d), the down projection and, for gemma3, the post-MLP norm; the embedding
/// first and the final norm (and an untied output head) last.
public struct WeightLayout: Sendable {
    public struct Layer: Sendable {
        public var attnNorm, qkv, o, ffnNorm, gateUp, down: Int
        /// The fused Q/K/V bias (qwen2 only).
        public var qkvBias: Int?
        /// The per-head Q and K norms (headDim each) and the post-attention and post-MLP norms (gemma3 only).
        public var qNorm, kNorm, postAttnNorm, postFFNNorm: Int?
    }
    public let shape: ModelShape
    public let embedding: Int
    public let layers: [Layer]
    public let outputNorm: Int
    public let output: Int          // == embedding when tied
    public let count: Int

    public init(_ s: ModelShape) {
        shape = s
        var offset = 0
        func take(_ n: Int) -> Int { defer { offset += n }; return offset }
        embedding = take(s.vocabulary * s.width)
        var layers: [Layer] = []
        for _ in 0..<s.layers {
            let attnNorm = take(s.width), qkv = take(s.qkvDim * s.width)
            let bias: Int? = s.qkvBias ? take(s.qkvDim) : nil
            let qNorm: Int? = s.qkNorm ? take(s.headDim) : nil, kNorm: Int? = s.qkNorm ? take(s.headDim) : nil
            let o = take(s.width * s.qDim)
            let postAttnNorm: Int? = s.postNorms ? take(s.width) : nil
            let ffnNorm = take(s.width), gateUp = take(2 * s.feedForward * s.width), down = take(s.width * s.feedForward)
            let postFFNNorm: Int? = s.postNorms ? take(s.width) : nil
            layers.append(Layer(attnNorm: attnNorm, qkv: qkv, o: o, ffnNorm: ffnNorm, gateUp: gateUp, down: down, qkvBias: bias,
                                qNorm: qNorm, kNorm: kNorm, postAttnNorm: postAttnNorm, postFFNNorm: postFFNNorm))
        }
        self.layers = layers
        outputNorm = take(s.width)
        output = s.tiedOutput ? embedding : take(s.vocabulary * s.width)
        count = offset
    }

    /// Every tensor as (GGUF name, offset, rows, cols), in file order; the fused projections are
    /// split into their GGUF tensors (vectors — norms, biases — have one row).
    public var ggufTensors: [(name: String, offset: Int, rows: Int, cols: Int)] {
        let s = shape
        var out: [(String, Int, Int, Int)] = [("token_embd.weight", embedding, s.vocabulary, s.width)]
        for (l, L) in layers.enumerated() {
            let p = "blk.\(l)."
            out.append((p + "attn_norm.weight", L.attnNorm, 1, s.width))
            out.append((p + "attn_q.weight", L.qkv, s.qDim, s.width))
            out.append((p + "attn_k.weight", L.qkv + s.qDim * s.width, s.kvDim, s.width))
            out.append((p + "attn_v.weight", L.qkv + (s.qDim + s.kvDim) * s.width, s.kvDim, s.width))
            if let b = L.qkvBias {
                out.append((p + "attn_q.bias", b, 1, s.qDim))
                out.append((p + "attn_k.bias", b + s.qDim, 1, s.kvDim))
                out.append((p + "attn_v.bias", b + s.qDim + s.kvDim, 1, s.kvDim))
            }
            if let q = L.qNorm, let k = L.kNorm {
                out.append((p + "attn_q_norm.weight", q, 1, s.headDim))
                out.append((p + "attn_k_norm.weight", k, 1, s.headDim))
            }
            out.append((p + "attn_output.weight", L.o, s.width, s.qDim))
            if let n = L.postAttnNorm { out.append((p + "post_attention_norm.weight", n, 1, s.width)) }
            out.append((p + "ffn_norm.weight", L.ffnNorm, 1, s.width))
            out.append((p + "ffn_gate.weight", L.gateUp, s.feedForward, s.width))
            out.append((p + "ffn_up.weight", L.gateUp + s.feedForward * s.width, s.feedForward, s.width))
            out.append((p + "ffn_down.weight", L.down, s.width, s.feedForward))
            if let n = L.postFFNNorm { out.append((p + "post_ffw_norm.weight", n, 1, s.width)) }
        }
        out.append(("output_norm.weight", outputNorm, 1, s.width))
        if !s.tiedOutput { out.append(("output.weight", output, s.vocabulary, s.width)) }
        return out
    }

    /// Offsets of the norm weights (no weight decay on them, as Hugging Face's trainer does).
    public var normRanges: [Range<Int>] {
        let d = shape.width, hd = shape.headDim
        return layers.flatMap { L in
            [L.attnNorm..<(L.attnNorm + d), L.ffnNorm..<(L.ffnNorm + d)]
                + [L.qNorm, L.kNorm].compactMap { $0.map { $0..<($0 + hd) } }
                + [L.postAttnNorm, L.postFFNNorm].compactMap { $0.map { $0..<($0 + d) } }
        } + [outputNorm..<(outputNorm + d)]
    }

    /// Offsets without weight decay: the norm weights and the biases (Hugging Face's trainer exempts both).
    public var noDecayRanges: [Range<Int>] {
        normRanges + layers.compactMap { L in L.qkvBias.map { $0..<($0 + shape.qkvDim) } }
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingTensor(String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case invalidOption(String)
    case checkpoint(path: String, String)
    case data(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): "training supports the llama (SmolLM2 and kin), qwen2 (Qwen2.5) and gemma3 (Gemma 3) architectures; this model is '\(a)'"
        case .missingTensor(let n): "GGUF tensor '\(n)' is missing"
        case .tensorShape(let n, let e, let f): "tensor '\(n)' has shape \(f), expected \(e)"
        case .invalidOption(let why): why
        case .checkpoint(let path, let why): "checkpoint \(path): \(why)"
        case .data(let why): why
        }
    }
}

extension WeightLayout {
    /// Dequantizes every weight of a llama, qwen2 or gemma3 GGUF file into `dst` (this layout's `count` floats), once.
    public func load(from file: GGUFFile, into dst: UnsafeMutablePointer<Float>) throws {
        for (name, offset, rows, cols) in ggufTensors {
            guard let info = file.tensor(named: name) else { throw TrainingError.missingTensor(name) }
            let expected = rows == 1 ? [cols] : [cols, rows]
            guard info.dimensions == expected else { throw TrainingError.tensorShape(name: name, expected: expected, found: info.dimensions) }
            let values: [Float]
            do { values = try file.floats(for: info) } catch { throw TrainingError.data("tensor '\(name)': \(error)") }
            values.withUnsafeBufferPointer { (dst + offset).update(from: $0.baseAddress!, count: values.count) }
        }
    }
}
