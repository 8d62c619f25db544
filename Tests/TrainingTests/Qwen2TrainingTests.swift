import Core
import Datasets
import Foundation
import GGUF
@testable import Inference
import Safetensors
import Testing
import TestSupport
import Tokenizer
@testable import Training

/// The mean cross-entropy of `tokens[i+1]` under the logits of row i, over the rows `trained` marks
/// (float64 sums), from a [rows × vocabulary] logit matrix.
func crossEntropy(logits: [Float], vocabulary v: Int, tokens: [Int32], trained: [Bool]) -> Double {
    var total = 0.0, n = 0
    for r in 0..<(tokens.count - 1) where trained[r + 1] {
        let row = logits[(r * v)..<((r + 1) * v)]
        let m = Double(row.max()!)
        let z = row.reduce(0.0) { $0 + exp(Double($1) - m) }
        total += m + log(z) - Double(row[row.startIndex + Int(tokens[r + 1])])
        n += 1
    }
    return total / Double(n)
}

/// The trainer on qwen2 against the inference engine's own Qwen2 model (an implementation of its
/// own: biases added after the products, RoPE on each head's halves) on a tiny random model.
@Suite("Qwen2 training and adapters on a tiny model", .serialized)
struct Qwen2TinyTests {
    init() { Parallel.configure(threads: 2) }

    static let shape = TinyModel.qwen2Shape
    static let tokens: [Int32] = [1, 17, 33, 5, 60, 2, 9, 41, 8, 12, 3, 30, 44, 7, 63, 21]

    /// The trainer's loss (float32) against the engine's cross-entropy from its logits on `shape`'s
    /// tiny model (the engine keeps keys and values as half floats: the two differ by that rounding).
    static func trainerAgainstEngine(_ shape: ModelShape, seed: UInt64, trained: [Bool]) throws -> (trainer: Double, engine: Double) {
        let tiny = try TinyModel(seed: seed, shape: shape)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        var batch = PackedBatch()
        batch.append(tokens: tokens, trained: trained)
        let (sum, n) = try TrainableModel(shape: shape, weights: Floats(tiny.weights), mode: .full).run(batch, backward: false)
        let engine = crossEntropy(logits: try TinyModel.engineLogits(path: tiny.path, tokens: tokens), vocabulary: shape.vocabulary,
                                  tokens: tokens, trained: trained)
        return (sum / Double(n), engine)
    }

    /// The trainer's step-0 loss equals the engine's cross-entropy from its logits (which get Q, K and
    /// V through their biases and NeoX RoPE on their own), plain and with an adapter.
    @Test func trainerLossEqualsEngineCrossEntropy() throws {
        let tiny = try TinyModel(seed: 60, shape: Self.shape)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let trained = Self.tokens.indices.map { $0 >= 3 }
        var batch = PackedBatch()
        batch.append(tokens: Self.tokens, trained: trained)
        let model = try TrainableModel(shape: Self.shape, weights: Floats(tiny.weights), mode: .full)
        let (sum, n) = try model.run(batch, backward: false)
        let ours = sum / Double(n)
        let theirs = crossEntropy(logits: try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens), vocabulary: Self.shape.vocabulary,
                                  tokens: Self.tokens, trained: trained)
        // The same model read as llama (adjacent-pair RoPE, no biases) is a different model: the check tells them apart.
        var asLlama = Self.shape
        asLlama.architecture = .llama
        let llamaWeights = WeightLayout(asLlama).ggufTensors.flatMap { t in
            let name = t.name
            let src = WeightLayout(Self.shape).ggufTensors.first { $0.name == name }!
            return tiny.weights[src.offset..<(src.offset + src.rows * src.cols)]
        }
        let wrong = try TrainableModel(shape: asLlama, weights: Floats(Array(llamaWeights)), mode: .full).run(batch, backward: false).loss / Double(n)

        // With an adapter on every module: the trainer's LoRA terms against the engine's.
        let adapter = TinyModel.randomAdapter(Self.shape, rank: 4, seed: 61, scale: 0.3)
        let lora = try TrainableModel(shape: Self.shape, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        try lora.lora!.load(adapter, into: lora.parameters.pointer)
        let (lsum, ln) = try lora.run(batch, backward: false)
        let oursAdapted = lsum / Double(ln)
        let theirsAdapted = crossEntropy(logits: try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens, adapters: [(adapter, 1)]),
                                         vocabulary: Self.shape.vocabulary, tokens: Self.tokens, trained: trained)
        // The same comparison on llama twins of the same size, for the scale of the half-float rounding.
        var llamaDiffs: [Double] = []
        for seed in [60, 70, 71] as [UInt64] {
            let (a, b) = try Self.trainerAgainstEngine(TinyModel.shape, seed: seed, trained: trained)
            llamaDiffs.append(abs(a - b))
        }
        print("tiny qwen2, step-0 loss: trainer \(ours), engine \(theirs) (difference \(abs(ours - theirs))); with an adapter: trainer \(oursAdapted), engine \(theirsAdapted) (difference \(abs(oursAdapted - theirsAdapted))); the weights read as llama give \(wrong); tiny llama models, trainer against engine: differences \(llamaDiffs)")
        #expect(abs(ours - theirs) < 1e-3)
        #expect(abs(oursAdapted - theirsAdapted) < 1e-3)
        #expect(abs(oursAdapted - ours) > 2e-2)
        #expect(abs(wrong - theirs) > 2e-2)
    }

    @Test func zeroBLeavesLogitsUnchanged() throws {
        try LoRATests.checkZeroBLeavesLogitsUnchanged(shape: Self.shape, seed: 62, tokens: Self.tokens)
    }

    /// The engine with an adapter equals the engine on the weights with the adapter merged in (an
    /// F32 GGUF written by `ModelExport`, biases and untied head carried over).
    @Test func adapterEqualsMergedWeights() throws {
        let r = try LoRATests.checkAdapterEqualsMerged(shape: Self.shape, seed: 64, tokens: Self.tokens, label: "tiny qwen2") { merged in
            #expect(merged.tensor(named: "blk.1.attn_k.bias")?.type == .f32)
            #expect(merged.tensor(named: "output.weight") != nil)
        }
        // The half-float KV cache rounds the two paths' keys and values apart (as for SmolLM2).
        #expect(r.relative < 1e-3)
        #expect(r.moved > 0.1)
    }

    /// qwen2 files keep Hugging Face's Q/K row order: a PEFT folder's B rows are the adapter's own,
    /// unpermuted (a llama model's are permuted), and they read back unchanged.
    @Test func peftFolderKeepsQKRowOrder() throws {
        let s = Self.shape
        let adapter = TinyModel.randomAdapter(s, rank: 3, seed: 66)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-peft-qwen2-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(s.modelConfig.architecture == "qwen2")
        try adapter.writePEFT(folder: dir, model: s.modelConfig)
        let file = try SafetensorsFile(path: dir + "/adapter_model.safetensors")
        for m in [LoRAModule.q, .k] {
            let name = "base_model.model.\(m.hfModule(layer: 1)).lora_B.weight"
            let stored = try file.floats(name)
            let original = adapter.tensors.first { $0.module == m && $0.layer == 1 }!
            #expect(stored == original.b, "\(name) was reordered")
            var llama = s
            llama.architecture = .llama
            #expect(LoRAAdapter.bRows(original, model: llama.modelConfig, toGGUF: false) != original.b)
        }
        let back = try LoRAAdapter.load(path: dir, model: s.modelConfig)
        for t in adapter.tensors {
            let u = try #require(back.tensors.first { $0.module == t.module && $0.layer == t.layer })
            #expect(u.a == t.a && u.b == t.b)
        }
    }

    /// A few full-finetuning steps move the biases (their AdamW state included), the checkpoint holds
    /// them, and the exported model carries them.
    @Test func fullFinetuningTrainsAndExportsBiases() throws {
        let s = Self.shape, bias = WeightLayout(s).layers[0].qkvBias!
        try LoRATests.checkFullFinetuning(shape: s, seed: 67) { initial, trained, exported in
            #expect(LoRATests.maxAbsDiff(Array(initial[bias..<(bias + s.qkvDim)]), Array(trained[bias..<(bias + s.qkvDim)])) > 1e-3,
                    "the biases did not move")
            let kBias = try exported.floats(for: try #require(exported.tensor(named: "blk.0.attn_k.bias")))
            #expect(kBias == Array(trained[(bias + s.qDim)..<(bias + s.qDim + s.kvDim)]))
        }
    }
}

/// Qwen2.5-Coder-0.5B-Instruct, the research model (skipped when it is not downloaded).
@Suite("Training Qwen2.5-Coder-0.5B", .serialized,
       .enabled(if: TestResources.qwen05 != nil,
                "Qwen2.5-Coder-0.5B is not downloaded (emlab models pull qwen2.5-coder-0.5b): Qwen2 training checks on the real model skipped"))
struct Qwen2TrainingTests {
    init() { Parallel.configure(threads: 2) }

    static func engine() throws -> Engine { try Engine(path: TestResources.qwen05!) }

    /// Step-0 loss of the trainer against the engine's cross-entropy, through Qwen's chat template.
    @Test func stepZeroLossEqualsEngineCrossEntropy() throws {
        let (shape, losses) = try TrainerAgainstEngine.stepZero(try Self.engine(), label: "Qwen2.5-Coder-0.5B")
        #expect(shape.architecture == .qwen2)
        #expect(!shape.tiedOutput)
        for (ours, theirs) in losses {
            #expect(abs(ours - theirs) < 2e-3)
        }
    }

    /// A random adapter on all 168 projections: the trainer's loss with it against the engine's, and
    /// how far it moves each from the base model's.
    @Test func adapterLossEqualsEngineCrossEntropy() throws {
        let r = try TrainerAgainstEngine.randomAdapter(try Self.engine(), open: Self.engine, label: "Qwen2.5-Coder-0.5B")
        // The engine's own rounding (half-float KV cache, 8-bit activations into the head) is about
        // 2e-3 on this example without the adapter; the adapter moves both losses alike, by about 0.03.
        let movedOurs = r.ours - r.oursBase, movedTheirs = r.theirs - r.base
        #expect(abs(r.ours - r.theirs) < 3e-3)
        #expect(abs(movedTheirs) > 1e-2)
        #expect(abs(movedOurs - movedTheirs) < 0.2 * abs(movedTheirs))
    }

    /// A fresh adapter (B = 0) on every module of every layer: the engine's logits are unchanged bit
    /// for bit, and so is the trainer's loss against full finetuning's (no adapter).
    @Test func freshAdapterLeavesLogitsUnchanged() throws {
        let engine = try Self.engine()
        let c = engine.model.config
        let shape = ModelShape(c, tiedOutput: false)
        let config = LoRAConfig(rank: 4, alpha: 8)
        let layout = try LoRALayout(config: config, shape: shape)
        let values = Floats(layout.count)
        layout.initialize(values.pointer, seed: 7)
        let adapter = layout.adapter(values.pointer, baseModel: "qwen")
        #expect(adapter.tensors.count == 7 * c.layerCount)
        let tokens = engine.tokenizer.encode("def add(a, b):\n    return a + b\n\nprint(add(2, 3))", addSpecial: true, parseSpecial: false)
        func logits(_ e: Engine) throws -> [Float] {
            let kv = e.model.newSequence(reserve: tokens.count)
            var b = Batch()
            b.append(tokens, to: kv, logitsForAll: true)
            return Array(try e.model.forward(b, hooks: nil))
        }
        let plain = try logits(engine)
        let withAdapter = try Self.engine()
        try withAdapter.applyLoRA([(adapter, 1)])
        let adapted = try logits(withAdapter)
        #expect(plain == adapted, "the engine's logits changed by \(LoRATests.maxAbsDiff(plain, adapted))")

        let weights = Floats(WeightLayout(shape).count, zeroed: false)
        try WeightLayout(shape).load(from: engine.file, into: weights.pointer)
        var batch = PackedBatch()
        batch.append(tokens: tokens, trained: tokens.map { _ in true })
        let lora = try TrainableModel(shape: shape, weights: weights, mode: .lora(config))
        lora.parameters.pointer.update(from: values.pointer, count: values.count)
        let full = try TrainableModel(shape: shape, weights: weights, mode: .full)
        let a = try full.run(batch, backward: false).loss, b = try lora.run(batch, backward: false).loss
        print("Qwen2.5-Coder-0.5B, fresh adapter on \(adapter.tensors.count) projections: engine logits unchanged (\(plain.count) values), trainer summed loss \(a) without, \(b) with")
        #expect(a == b, "loss \(a) without the adapter, \(b) with B = 0")
    }

    /// 16 short examples, each a made-up fact, are learnt: the loss falls by more than 80 % in 8
    /// full-batch LoRA steps (Qwen's untied head and biases frozen, the adapters on all seven projections).
    @Test func overfits16Examples() throws {
        let engine = try Self.engine()
        let run = try SmolLM2TrainingTests.overfitFacts(engine: engine, count: 16, learningRate: 1e-3)
        print("overfit 16 examples (Qwen2.5-Coder-0.5B, LoRA r16, 8 steps of 16, \(run.tokensPerStep) tokens a step): loss per step \(run.losses.map { String(format: "%.3f", $0) }), after \(String(format: "%.3f", run.final)), \(String(format: "%.0f", run.seconds)) s (\(String(format: "%.0f", Double(8 * run.tokensPerStep) / run.seconds)) tokens/s)")
        #expect(run.final < 0.2 * run.losses[0])
    }
}
