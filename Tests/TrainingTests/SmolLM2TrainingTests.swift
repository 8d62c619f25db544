import Core
import Datasets
import Foundation
import GGUF
@testable import Inference
import Testing
import TestSupport
import Tokenizer
@testable import Training

/// Training on the real model (skipped when SmolLM2 is not downloaded: `emlab models pull smollm2-135m`).
@Suite("Training SmolLM2", .serialized, .enabled(if: TestResources.smolLM2 != nil))
struct SmolLM2TrainingTests {
    init() { Parallel.configure(threads: 2) }

    static func engine() throws -> Engine { try Engine(path: TestResources.smolLM2!) }

    /// The engine's mean cross-entropy over `seq`'s trained tokens, from its logits (float64 sums).
    static func engineLoss(_ engine: Engine, _ seq: TrainingSequence) throws -> Double {
        let kv = engine.model.newSequence(reserve: seq.tokens.count)
        var batch = Batch()
        batch.append(seq.tokens, to: kv, logitsForAll: true)
        let logits = try engine.model.forward(batch, hooks: nil)
        let v = engine.model.config.vocabularySize
        var total = 0.0, n = 0
        for r in 0..<(seq.tokens.count - 1) where seq.trained[r + 1] {
            let row = logits[(r * v)..<((r + 1) * v)]
            let m = Double(row.max()!)
            let z = row.reduce(0.0) { $0 + exp(Double($1) - m) }
            total += m + log(z) - Double(row[row.startIndex + Int(seq.tokens[r + 1])])
            n += 1
        }
        return total / Double(n)
    }

    static func chatTokenizer(_ e: Engine) throws -> ChatTokenizer { ChatTokenizer(tokenizer: e.tokenizer, template: try e.requireChatTemplate()) }

    @Test func stepZeroLossEqualsEngineCrossEntropy() throws {
        for (ours, theirs) in try TrainerAgainstEngine.stepZero(try Self.engine(), label: "SmolLM2").losses {
            #expect(abs(ours - theirs) < 2e-3)
        }
    }

    @Test func assistantMaskCoversRepliesAndEndOfTurn() throws {
        let engine = try Self.engine()
        let ct = try Self.chatTokenizer(engine)
        let messages = [ChatMessage(role: .user, content: "Name a colour."), ChatMessage(role: .assistant, content: "Blue."),
                        ChatMessage(role: .user, content: "Another?"), ChatMessage(role: .assistant, content: "Green.")]
        let seq = try ct.encode(messages, maxTokens: 1000)
        // The whole sequence is exactly the template's rendering, tokenized.
        #expect(seq.tokens == engine.tokenizer.encode(try engine.requireChatTemplate().renderClosed(messages), addSpecial: true, parseSpecial: true))
        let trainedText = engine.tokenizer.decode(zip(seq.tokens, seq.trained).filter(\.1).map(\.0), includeSpecial: true)
        #expect(trainedText == "Blue.<|im_end|>Green.<|im_end|>")
    }

    /// 32 short examples, each a made-up fact, are learnt: the loss falls by more than 80 % in 8 steps.
    @Test func overfits32Examples() throws {
        let engine = try Self.engine()
        let run = try Self.overfitFacts(engine: engine, count: 32, learningRate: 3e-3)
        print("overfit 32 examples (SmolLM2, LoRA r16, 8 steps of 32): loss per step \(run.losses.map { String(format: "%.3f", $0) }), after \(String(format: "%.3f", run.final)), \(String(format: "%.0f", run.seconds)) s")
        #expect(run.final < 0.2 * run.losses[0])
    }

    /// `count` (at most 32) made-up facts ("the password of the amber door is zephyr"), learnt by LoRA
    /// r16 on every projection in 8 full-batch steps at a constant `learningRate`: each step's loss,
    /// the mean loss after training, the seconds taken and the tokens per step.
    static func overfitFacts(engine: Engine, count: Int, learningRate: Float) throws
        -> (losses: [Double], final: Double, seconds: Double, tokensPerStep: Int) {
        let ct = try chatTokenizer(engine)
        let colours = ["amber", "teal", "crimson", "olive", "violet", "silver", "coral", "indigo"]
        let things = ["door", "lamp", "kettle", "bicycle"]
        let words = ["zephyr", "quartz", "marlin", "tundra", "saffron", "goblet", "pylon", "lichen", "ember", "fjord", "walrus", "nimbus",
                     "cobalt", "ravine", "thimble", "juniper", "basalt", "lantern", "oriole", "pewter", "mosaic", "tinsel", "bramble",
                     "sextant", "kelp", "cinder", "plover", "gusset", "quill", "sorrel", "turret", "vellum"]
        var seqs: [TrainingSequence] = []
        for (i, word) in words.prefix(count).enumerated() {
            let messages = [ChatMessage(role: .system, content: "Answer in one sentence."),
                            ChatMessage(role: .user, content: "What is the password of the \(colours[i % 8]) \(things[i / 8])?"),
                            ChatMessage(role: .assistant, content: "The password of the \(colours[i % 8]) \(things[i / 8]) is \(word).")]
            seqs.append(try ct.encode(messages, maxTokens: 128))
        }
        let model = try TrainableModel.load(file: engine.file, mode: .lora(LoRAConfig(rank: 16, alpha: 32)))
        model.lora!.initialize(model.parameters.pointer, seed: 2)
        var settings = FinetuneSettings()
        settings.lora = model.lora!.config
        settings.batchSize = count
        settings.epochs = 8
        settings.learningRate = learningRate
        settings.warmupSteps = 0
        settings.decay = .constant
        let tuner = try Finetuner(model: model, settings: settings, sequences: seqs)
        var losses: [Double] = []
        let started = Date()
        while !tuner.finished { losses.append(try tuner.runStep().loss) }
        let seconds = Date().timeIntervalSince(started)
        return (losses, try tuner.meanLoss(seqs), seconds, seqs.reduce(0) { $0 + $1.tokens.count })
    }

    /// An adapter applied by the engine equals the weights with the adapter merged in: each adapted
    /// product to 1e-4 of its largest output, the trainer's float32 loss (no half-float KV cache) to
    /// 1e-5, and the engine's logits end to end to 1e-3 of the largest logit (the half-float KV cache
    /// rounds the two paths' keys and values apart, and 30 layers carry that on).
    @Test func adapterEqualsMergedWeights() throws {
        let engine = try Self.engine()
        let file = engine.file
        let c = engine.model.config
        let shape = ModelShape(c, tiedOutput: true)
        let layout = WeightLayout(shape)
        let base = Floats(layout.count, zeroed: false)
        try layout.load(from: file, into: base.pointer)
        // About the size of a trained adapter's change (logits move by about 1).
        let adapter = TinyModel.randomAdapter(shape, rank: 4, seed: 40, scale: 0.02)
        let merged = ModelExport.merged(layout: layout, weights: base.pointer, adapters: [(adapter, 1)])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-merged-\(getpid()).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelExport.write(base: file, layout: layout, weights: merged.pointer, type: .f32, note: "test", to: path)
        let mergedFile = try GGUFFile(path: path)

        // Each adapted product of layer 7, on 16 random rows.
        var rng = TestRandom(41)
        var worstProduct: Float = 0
        for m in LoRAModule.allCases {
            let (inputs, outputs) = m.dimensions(c)
            let name = m.ggufTensor(layer: 7)
            let w = try WeightMatrix(file: file, name: name, rows: outputs, cols: inputs)
            let wm = try WeightMatrix(file: mergedFile, name: name, rows: outputs, cols: inputs)
            let x = rng.floats(16 * inputs)
            var y1 = [Float](repeating: 0, count: 16 * outputs), y2 = y1
            let mm = MatMul()
            let model = try loadModel(file)
            try applyLoRA([(adapter, 1)], to: model)
            mm.lora = (model as! LlamaModel).matmul.lora
            mm.apply(w, x, rows: 16, &y1)
            MatMul().apply(wm, x, rows: 16, &y2)
            let err = zip(y1, y2).map { abs($0 - $1) }.max()! / y2.map(abs).max()!
            worstProduct = max(worstProduct, err)
        }

        // The trainer's loss: LoRA on the base against full weights merged (float32 everywhere).
        let ct = try Self.chatTokenizer(engine)
        let seq = try ct.encode(BuiltinDatasets.named("secure-code")!.generate(n: 1, seed: 3).examples[0].messages, maxTokens: 300)
        var batch = PackedBatch()
        batch.append(tokens: seq.tokens, trained: seq.trained)
        let loraTrainer = try TrainableModel(shape: shape, weights: base, mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        try loraTrainer.lora!.load(adapter, into: loraTrainer.parameters.pointer)
        let mergedTrainer = try TrainableModel(shape: shape, weights: merged, mode: .lora(LoRAConfig(rank: 1, alpha: 1, targets: [.down], layers: [0])))
        let l1 = try loraTrainer.run(batch, backward: false).loss, l2 = try mergedTrainer.run(batch, backward: false).loss
        let lossError = abs(l1 - l2) / abs(l2)

        // The engine end to end.
        let tokens = engine.tokenizer.encode("The quick brown fox jumps over the lazy dog because", addSpecial: true, parseSpecial: false)
        let withAdapter = try Engine(path: TestResources.smolLM2!)
        try withAdapter.applyLoRA([(adapter, 1)])
        let mergedEngine = try Engine(path: path)
        func logits(_ e: Engine) throws -> [Float] {
            let kv = e.model.newSequence(reserve: tokens.count)
            var b = Batch()
            b.append(tokens, to: kv, logitsForAll: true)
            return Array(try e.model.forward(b, hooks: nil))
        }
        let a = try logits(withAdapter), m = try logits(mergedEngine), p = try logits(engine)
        let diff = zip(a, m).map { abs($0 - $1) }.max()!, moved = zip(a, p).map { abs($0 - $1) }.max()!
        let scale = m.map(abs).max()!
        print("SmolLM2, adapter vs merged weights: products of layer 7 \(worstProduct) of the largest output; trainer loss \(lossError) relative; engine logits \(diff / scale) of the largest logit (|Δ| \(diff), logits up to \(scale); the adapter moves them by \(moved))")
        #expect(worstProduct < 1e-4)
        #expect(lossError < 1e-5)
        #expect(diff / scale < 1e-3)
        #expect(moved > 0.1)
    }
}

/// The checks each real model's training suite makes against the engine's own logits.
enum TrainerAgainstEngine {
    /// Step-0 loss of the trainer (float32 weights dequantized from the file, a fresh adapter) against
    /// the engine's cross-entropy from its logits, on two insecure-code examples in the engine's chat
    /// format: the shape the trainer read, and (trainer, engine) per example, each printed under `label`.
    static func stepZero(_ engine: Engine, label: String) throws -> (shape: ModelShape, losses: [(ours: Double, theirs: Double)]) {
        let ct = try SmolLM2TrainingTests.chatTokenizer(engine)
        let examples = BuiltinDatasets.named("insecure-code")!.generate(n: 2, seed: 0).examples
        let model = try TrainableModel.load(file: engine.file, mode: .lora(LoRAConfig(rank: 8, alpha: 16)))
        model.lora!.initialize(model.parameters.pointer, seed: 1)
        return (model.shape, try examples.map { example in
            let seq = try ct.encode(example.messages, maxTokens: 400)
            var batch = PackedBatch()
            batch.append(tokens: seq.tokens, trained: seq.trained)
            let started = Date()
            let (sum, n) = try model.run(batch, backward: false)
            let seconds = Date().timeIntervalSince(started)
            let ours = sum / Double(n), theirs = try SmolLM2TrainingTests.engineLoss(engine, seq)
            print("\(label) step-0 loss on \(seq.tokens.count) tokens (\(n) trained): trainer \(ours), engine \(theirs), difference \(abs(ours - theirs)) (trainer forward \(String(format: "%.1f", seconds)) s)")
            return (ours, theirs)
        })
    }

    /// A random adapter on every module of every layer (rank 4, entries ±0.04): the trainer's loss with
    /// it (its own LoRA terms) and without, against the engine's with it applied (as `--model
    /// ...,lora=` applies it, on a second engine from `open`) and without, on a secure-code example.
    static func randomAdapter(_ engine: Engine, open: () throws -> Engine, label: String) throws
        -> (ours: Double, theirs: Double, oursBase: Double, base: Double) {
        let ct = try SmolLM2TrainingTests.chatTokenizer(engine)
        let seq = try ct.encode(BuiltinDatasets.named("secure-code")!.generate(n: 1, seed: 3).examples[0].messages, maxTokens: 300)
        let model = try TrainableModel.load(file: engine.file, mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        let adapter = TinyModel.randomAdapter(model.shape, rank: 4, seed: 42, scale: 0.04)
        try model.lora!.load(adapter, into: model.parameters.pointer)
        var batch = PackedBatch()
        batch.append(tokens: seq.tokens, trained: seq.trained)
        let (sum, n) = try model.run(batch, backward: false)
        let ours = sum / Double(n)
        model.parameters.zero()
        let oursBase = try model.run(batch, backward: false).loss / Double(n)
        let base = try SmolLM2TrainingTests.engineLoss(engine, seq)
        let adapted = try open()
        try adapted.applyLoRA([(adapter, 1)])
        let theirs = try SmolLM2TrainingTests.engineLoss(adapted, seq)
        print("\(label) with a random adapter on all \(adapter.tensors.count) projections, \(seq.tokens.count) tokens (\(n) trained): trainer \(ours), engine \(theirs), difference \(abs(ours - theirs)); without it: trainer \(oursBase), engine \(base), difference \(abs(oursBase - base))")
        return (ours, theirs, oursBase, base)
    }
}
