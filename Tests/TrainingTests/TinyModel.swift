import Foundation
import GGUF
import Inference
import Testing
@testable import Training

/// A tiny random llama, qwen2 or gemma3 model written as a GGUF file (F32 tensors, no tokenizer): the
/// engine and the trainer both read it.
struct TinyModel {
    static let shape = ModelShape(vocabulary: 64, width: 32, feedForward: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 8,
                                  ropeBase: 10_000, eps: 1e-5, tiedOutput: true, contextLength: 128)
    /// The qwen2 twin: Q/K/V biases, NeoX RoPE, an untied output head, Qwen2.5's RoPE base and epsilon.
    static let qwen2Shape = ModelShape(vocabulary: 64, width: 32, feedForward: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 8,
                                       ropeBase: 1_000_000, eps: 1e-6, tiedOutput: false, contextLength: 128, architecture: .qwen2)

    /// The gemma3 twin: Q/K norms, post-norms, GeGLU, a scaled embedding; layer 0 local with a window
    /// of 4 and RoPE base 100, layer 1 global with linear RoPE scaling (factor 2).
    static let gemma3Shape = ModelShape.gemma3(vocabulary: 64, width: 32, feedForward: 48, layers: 2, heads: 4, kvHeads: 2, headDim: 8,
                                              ropeBase: 10_000, eps: 1e-6, contextLength: 128, slidingWindow: 4, globalEvery: 2,
                                              localRopeBase: 100, globalPositionScale: 0.5)

    let path: String
    let weights: [Float]   // WeightLayout order, GGUF row order

    /// Writes the model to a temporary file.
    init(seed: UInt64, shape s: ModelShape = TinyModel.shape, extraMetadata: [(String, GGUFValue)] = []) throws {
        weights = GradientCheckTests.randomWeights(s, seed: seed)
        let layout = WeightLayout(s)
        var w = GGUFWriter()
        let arch = s.architecture.rawValue
        w.addMetadata("general.architecture", .string(arch))
        w.addMetadata("general.name", .string("tiny"))
        w.addMetadata("\(arch).block_count", .uint32(UInt32(s.layers)))
        w.addMetadata("\(arch).embedding_length", .uint32(UInt32(s.width)))
        w.addMetadata("\(arch).feed_forward_length", .uint32(UInt32(s.feedForward)))
        w.addMetadata("\(arch).attention.head_count", .uint32(UInt32(s.heads)))
        w.addMetadata("\(arch).attention.head_count_kv", .uint32(UInt32(s.kvHeads)))
        w.addMetadata("\(arch).context_length", .uint32(UInt32(s.contextLength)))
        w.addMetadata("\(arch).vocab_size", .uint32(UInt32(s.vocabulary)))
        w.addMetadata("\(arch).rope.freq_base", .float32(s.ropeBase))
        w.addMetadata("\(arch).attention.layer_norm_rms_epsilon", .float32(s.eps))
        if s.architecture == .gemma3 {
            w.addMetadata("\(arch).attention.key_length", .uint32(UInt32(s.headDim)))
            w.addMetadata("\(arch).attention.value_length", .uint32(UInt32(s.headDim)))
            w.addMetadata("\(arch).attention.sliding_window", .uint32(UInt32(s.slidingWindow!)))
            w.addMetadata("\(arch).attention.sliding_window_pattern", .uint32(UInt32(s.globalEvery)))
            w.addMetadata("\(arch).rope.freq_base_swa", .float32(s.localRopeBase))
            if s.globalPositionScale != 1 {
                w.addMetadata("\(arch).rope.scaling.type", .string("linear"))
                w.addMetadata("\(arch).rope.scaling.factor", .float32(1 / s.globalPositionScale))
            }
        }
        for (key, value) in extraMetadata { w.addMetadata(key, value) }
        for t in layout.ggufTensors {
            let values = Array(weights[t.offset..<(t.offset + t.rows * t.cols)])
            try w.addTensor(name: t.name, dimensions: t.rows == 1 ? [t.cols] : [t.cols, t.rows], type: .f32, values: values)
        }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-tiny-\(arch)-\(seed)-\(getpid()).gguf").path
        try w.write(to: path)
    }

    /// The engine's logits for every position of `tokens` (one sequence), optionally with adapters.
    static func engineLogits(path: String, tokens: [Int32], adapters: [(adapter: LoRAAdapter, scale: Float)] = []) throws -> [Float] {
        let model = try loadModel(try GGUFFile(path: path))
        if !adapters.isEmpty { try applyLoRA(adapters, to: model) }
        let seq = model.newSequence(reserve: tokens.count)
        var batch = Batch()
        batch.append(tokens, to: seq, logitsForAll: true)
        return Array(try model.forward(batch, hooks: nil))
    }

    /// A random adapter on every module of every layer (B non-zero).
    static func randomAdapter(_ s: ModelShape, rank: Int, seed: UInt64, scale: Float = 0.1) -> LoRAAdapter {
        var rng = TestRandom(seed)
        var tensors: [LoRATensor] = []
        for l in 0..<s.layers {
            for m in LoRAModule.allCases {
                let (i, o) = s.dimensions(m)
                tensors.append(LoRATensor(module: m, layer: l, rank: rank, inputs: i, outputs: o, a: rng.floats(rank * i, scale),
                                          b: rng.floats(o * rank, scale), scale: 2))
            }
        }
        return LoRAAdapter(config: LoRAConfig(rank: rank, alpha: Float(2 * rank)), baseModel: "tiny", tensors: tensors)
    }
}
