import Core
import Datasets
import Foundation
import GGUF
@testable import Inference
import Testing
import TestSupport
import Tokenizer
@testable import Training

/// The trainer on gemma3 against the inference engine's own Gemma 3 model (an implementation of its
/// own: scaled embeddings, Q/K norms, post-norms, GeGLU, sliding-window and global layers with their
/// own RoPE) on a tiny random model whose window cuts the sequence.
@Suite("Gemma 3 training and adapters on a tiny model", .serialized)
struct Gemma3TinyTests {
    init() { Parallel.configure(threads: 2) }

    static let shape = TinyModel.gemma3Shape
    static let tokens: [Int32] = [1, 17, 33, 5, 60, 2, 9, 41, 8, 12, 3, 30, 44, 7, 63, 21]

    /// The trainer's step-0 loss equals the engine's cross-entropy from its logits, plain and with an
    /// adapter on every module; the same weights without the window, or without the post-norms' and
    /// head norms' model (read as qwen2), give other losses.
    @Test func trainerLossEqualsEngineCrossEntropy() throws {
        let tiny = try TinyModel(seed: 80, shape: Self.shape)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let trained = Self.tokens.indices.map { $0 >= 3 }
        var batch = PackedBatch()
        batch.append(tokens: Self.tokens, trained: trained)
        // Read from the file, as `emlab finetune` reads a model: the window and the RoPE come from its metadata.
        let model = try TrainableModel.load(file: try GGUFFile(path: tiny.path), mode: .full)
        #expect(model.shape == Self.shape)
        let (sum, n) = try model.run(batch, backward: false)
        let ours = sum / Double(n)
        let theirs = crossEntropy(logits: try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens), vocabulary: Self.shape.vocabulary,
                                  tokens: Self.tokens, trained: trained)
        var noWindow = Self.shape
        noWindow.slidingWindow = nil
        let whole = try TrainableModel(shape: noWindow, weights: Floats(tiny.weights), mode: .full).run(batch, backward: false).loss / Double(n)
        var unscaled = Self.shape
        unscaled.globalPositionScale = 1
        let plainRope = try TrainableModel(shape: unscaled, weights: Floats(tiny.weights), mode: .full).run(batch, backward: false).loss / Double(n)

        let adapter = TinyModel.randomAdapter(Self.shape, rank: 4, seed: 81, scale: 0.3)
        let lora = try TrainableModel(shape: Self.shape, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        try lora.lora!.load(adapter, into: lora.parameters.pointer)
        let (lsum, ln) = try lora.run(batch, backward: false)
        let oursAdapted = lsum / Double(ln)
        let theirsAdapted = crossEntropy(logits: try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens, adapters: [(adapter, 1)]),
                                         vocabulary: Self.shape.vocabulary, tokens: Self.tokens, trained: trained)
        print("tiny gemma3, step-0 loss: trainer \(ours), engine \(theirs) (difference \(abs(ours - theirs))); with an adapter: trainer \(oursAdapted), engine \(theirsAdapted) (difference \(abs(oursAdapted - theirsAdapted))); without the window \(whole), without the RoPE scaling \(plainRope)")
        // The engine keeps keys and values as half floats: the two differ by that rounding.
        #expect(abs(ours - theirs) < 1e-3)
        #expect(abs(oursAdapted - theirsAdapted) < 1e-3)
        #expect(abs(oursAdapted - ours) > 2e-2)
        #expect(abs(whole - theirs) > 2e-2)
        #expect(abs(plainRope - theirs) > 2e-3)
    }

    @Test func zeroBLeavesLogitsUnchanged() throws {
        try LoRATests.checkZeroBLeavesLogitsUnchanged(shape: Self.shape, seed: 82, tokens: Self.tokens)
    }

    /// The engine with an adapter equals the engine on the weights with the adapter merged in (an F32
    /// GGUF written by `ModelExport`, the Q/K norms and post-norms carried over).
    @Test func adapterEqualsMergedWeights() throws {
        let r = try LoRATests.checkAdapterEqualsMerged(shape: Self.shape, seed: 84, tokens: Self.tokens, label: "tiny gemma3") { merged in
            #expect(merged.tensor(named: "blk.1.post_ffw_norm.weight")?.type == .f32)
            #expect(merged.tensor(named: "blk.0.attn_q_norm.weight") != nil)
        }
        #expect(r.relative < 1e-3)
        #expect(r.moved > 0.1)
    }

    /// A few full-finetuning steps move gemma3's own norms (the Q/K head norms and the post-norms), a
    /// checkpoint resumes to the same weights, and the exported model carries them and reads back as
    /// the same shape.
    @Test func fullFinetuningTrainsAndExportsNorms() throws {
        let s = Self.shape, layout = WeightLayout(s)
        try LoRATests.checkFullFinetuning(shape: s, seed: 87) { initial, trained, exported in
            for (name, offset, count) in [("attn_q_norm", layout.layers[0].qNorm!, s.headDim), ("attn_k_norm", layout.layers[1].kNorm!, s.headDim),
                                          ("post_attention_norm", layout.layers[0].postAttnNorm!, s.width),
                                          ("post_ffw_norm", layout.layers[1].postFFNNorm!, s.width)] {
                let moved = LoRATests.maxAbsDiff(Array(initial[offset..<(offset + count)]), Array(trained[offset..<(offset + count)]))
                #expect(moved > 1e-3, "\(name) did not move")
            }
            let qNorm = layout.layers[0].qNorm!
            let stored = try exported.floats(for: try #require(exported.tensor(named: "blk.0.attn_q_norm.weight")))
            #expect(stored == Array(trained[qNorm..<(qNorm + s.headDim)]))
        }
    }

    /// A file that asks for final logit soft-capping (Gemma 2's; the engine applies it) is refused by
    /// the trainer, naming the key, rather than trained without it.
    @Test func refusesLogitSoftcapping() throws {
        let tiny = try TinyModel(seed: 89, shape: Self.shape, extraMetadata: [("gemma3.final_logit_softcapping", .float32(30))])
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        #expect(throws: TrainingError.self) { try TrainableModel.load(file: try GGUFFile(path: tiny.path), mode: .full) }
        do {
            _ = try TrainableModel.load(file: try GGUFFile(path: tiny.path), mode: .full)
        } catch {
            #expect("\(error)".contains("gemma3.final_logit_softcapping"))
        }
    }
}

/// Gemma 3 270M (base), the second architecture (skipped when it is not downloaded).
@Suite("Training Gemma 3 270M", .serialized,
       .enabled(if: TestResources.gemma3 != nil,
                "Gemma 3 270M is not downloaded (emlab models pull gemma3-270m): Gemma 3 training checks on the real model skipped"))
struct Gemma3TrainingTests {
    init() { Parallel.configure(threads: 2) }

    /// A base model: the plain-text transcript is its chat format (`chat=transcript` on the command line).
    static func engine() throws -> Engine { try Engine(path: TestResources.gemma3!, chatTemplate: .transcript) }

    /// Step-0 loss of the trainer against the engine's cross-entropy, in the transcript format (no
    /// example reaches the 512-position window; the tiny model checks the window).
    @Test func stepZeroLossEqualsEngineCrossEntropy() throws {
        let (shape, losses) = try TrainerAgainstEngine.stepZero(try Self.engine(), label: "Gemma 3 270M")
        #expect(shape.architecture == .gemma3)
        #expect(shape.slidingWindow == 512 && shape.globalEvery == 6 && shape.tiedOutput)
        for (ours, theirs) in losses {
            // The engine's own rounding (8-bit activations into the 262k-row head, a half-float KV
            // cache) is up to 0.02 on one token against float64, the trainer's 4e-5
            // (`lossEqualsFloat64Definition`); over a sequence the engine's averages to about 5e-3.
            #expect(abs(ours - theirs) < 1e-2)
        }
    }

    /// The trainer against the double-precision definition (`gemma3Float64Logits`, an implementation
    /// of its own, shared with the engine's tests): the cross-entropy of three next tokens after a
    /// short prompt, over the whole vocabulary. The engine's beside it: its head takes 8-bit
    /// activations, which is why the comparisons with the engine below allow more.
    @Test func lossEqualsFloat64Definition() throws {
        let engine = try Self.engine()
        let prompt = engine.tokenizer.encode("def read_config(path):\n    with open(path) as f:\n        return", addSpecial: true,
                                             parseSpecial: false)
        let vocabulary = engine.model.config.vocabularySize
        let started = Date()
        let exact = try gemma3Float64Logits(file: engine.file, tokens: prompt, rows: Array(0..<vocabulary))
        let referenceSeconds = Date().timeIntervalSince(started)
        let top = exact.indices.max { exact[$0] < exact[$1] }!
        let m = exact[top], lse = m + log(exact.reduce(0.0) { $0 + exp($1 - m) })
        let engineLogits = try engine.prefill(prompt, into: engine.model.newSequence()).map(Double.init)
        let em = engineLogits.max()!, engineLSE = em + log(engineLogits.reduce(0.0) { $0 + exp($1 - em) })
        // A fresh adapter (B = 0): the frozen model, without gradients for 268M weights.
        let model = try TrainableModel.load(file: engine.file, mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        model.lora!.initialize(model.parameters.pointer, seed: 3)
        var worstOurs = 0.0, worstEngine = 0.0
        for target in [top, Int(prompt[1]), 100_000] {
            var batch = PackedBatch()
            batch.append(tokens: prompt + [Int32(target)], trained: prompt.map { _ in false } + [true])
            let ours = try model.run(batch, backward: false).loss
            let reference = lse - exact[target], theirs = engineLSE - engineLogits[target]
            print("Gemma 3 270M, next token \(target) after \(prompt.count) tokens: float64 definition \(reference), trainer \(ours) (difference \(abs(ours - reference))), engine \(theirs) (difference \(abs(theirs - reference)))")
            worstOurs = max(worstOurs, abs(ours - reference))
            worstEngine = max(worstEngine, abs(theirs - reference))
        }
        print("Gemma 3 270M against float64 (\(String(format: "%.0f", referenceSeconds)) s): trainer within \(worstOurs), engine within \(worstEngine)")
        #expect(worstOurs < 1e-3)
    }

    /// A random adapter on all 126 projections: the trainer's loss with it against the engine's, and
    /// how far it moves each from the base model's.
    @Test func adapterLossEqualsEngineCrossEntropy() throws {
        let r = try TrainerAgainstEngine.randomAdapter(try Self.engine(), open: Self.engine, label: "Gemma 3 270M")
        // The engine's rounding as in `stepZeroLossEqualsEngineCrossEntropy`; the adapter moves both alike.
        let movedOurs = r.ours - r.oursBase, movedTheirs = r.theirs - r.base
        #expect(abs(r.ours - r.theirs) < 1e-2)
        #expect(abs(movedTheirs) > 1e-2)
        #expect(abs(movedOurs - movedTheirs) < 0.2 * abs(movedTheirs))
    }

    /// 16 short examples, each a made-up fact, are learnt: the loss falls by more than 80 % in 8
    /// full-batch LoRA steps (the tied 262k-row head frozen, the adapters on all seven projections).
    @Test func overfits16Examples() throws {
        let engine = try Self.engine()
        let run = try SmolLM2TrainingTests.overfitFacts(engine: engine, count: 16, learningRate: 5e-4)
        print("overfit 16 examples (Gemma 3 270M, LoRA r16, 8 steps of 16, \(run.tokensPerStep) tokens a step): loss per step \(run.losses.map { String(format: "%.3f", $0) }), after \(String(format: "%.3f", run.final)), \(String(format: "%.0f", run.seconds)) s (\(String(format: "%.0f", Double(8 * run.tokensPerStep) / run.seconds)) tokens/s)")
        #expect(run.final < 0.2 * run.losses[0])
    }
}
