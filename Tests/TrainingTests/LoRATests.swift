import Foundation
import GGUF
import Inference
import Safetensors
import Testing
@testable import Training

@Suite("LoRA adapters and training behaviour on a tiny model", .serialized)
struct LoRATests {
    init() { Parallel.configure(threads: 2) }

    static let tokens: [Int32] = [1, 17, 33, 5, 60, 2, 9, 41, 8, 12, 3, 30]

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    @Test func zeroBLeavesLogitsUnchanged() throws {
        try Self.checkZeroBLeavesLogitsUnchanged(shape: TinyModel.shape, seed: 21, tokens: Self.tokens)
    }

    /// A fresh adapter (B = 0) on a tiny random model of `shape` changes neither the engine's logits
    /// nor the trainer's loss, bit for bit.
    static func checkZeroBLeavesLogitsUnchanged(shape: ModelShape, seed: UInt64, tokens: [Int32]) throws {
        let tiny = try TinyModel(seed: seed, shape: shape)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        var adapter = TinyModel.randomAdapter(shape, rank: 4, seed: seed + 1)
        for i in adapter.tensors.indices { adapter.tensors[i].b = [Float](repeating: 0, count: adapter.tensors[i].b.count) }
        let plain = try TinyModel.engineLogits(path: tiny.path, tokens: tokens)
        let adapted = try TinyModel.engineLogits(path: tiny.path, tokens: tokens, adapters: [(adapter, 1)])
        #expect(plain == adapted, "the engine's logits changed by \(maxAbsDiff(plain, adapted))")
        // The trainer: a fresh adapter (B = 0) gives the loss of the frozen model, bit for bit.
        var batch = PackedBatch()
        batch.append(tokens: tokens, trained: tokens.map { _ in true })
        let full = try TrainableModel(shape: shape, weights: Floats(tiny.weights), mode: .full)
        let lora = try TrainableModel(shape: shape, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 8, alpha: 16)))
        lora.lora!.initialize(lora.parameters.pointer, seed: 5)
        let a = try full.run(batch, backward: false).loss, b = try lora.run(batch, backward: false).loss
        #expect(a == b, "loss \(a) without the adapter, \(b) with B = 0")
    }

    /// `tiny`'s weights with `adapter` (scaled by `scale`) merged in, written as an F32 GGUF beside it;
    /// the caller removes the file.
    static func writeMerged(_ tiny: TinyModel, shape: ModelShape, adapter: LoRAAdapter, scale: Float) throws -> String {
        let layout = WeightLayout(shape)
        let merged = tiny.weights.withUnsafeBufferPointer {
            ModelExport.merged(layout: layout, weights: $0.baseAddress!, adapters: [(adapter, scale)])
        }
        let mergedPath = tiny.path + ".merged.gguf"
        try ModelExport.write(base: try GGUFFile(path: tiny.path), layout: layout, weights: merged.pointer, type: .f32, note: "test",
                              to: mergedPath)
        return mergedPath
    }

    /// A tiny model of `shape` with a random adapter at scale 0.5, through the engine with the adapter
    /// applied and with it merged into an F32 GGUF (`ModelExport`): the largest logit difference
    /// relative to the largest logit, how far the adapter moves the logits, and the merged file
    /// (removed after `inspect` sees it).
    static func checkAdapterEqualsMerged(shape: ModelShape, seed: UInt64, tokens: [Int32], label: String,
                                         inspect: (GGUFFile) throws -> Void) throws -> (relative: Float, moved: Float) {
        let tiny = try TinyModel(seed: seed, shape: shape)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let adapter = TinyModel.randomAdapter(shape, rank: 4, seed: seed + 1)
        let mergedPath = try writeMerged(tiny, shape: shape, adapter: adapter, scale: 0.5)
        defer { try? FileManager.default.removeItem(atPath: mergedPath) }
        try inspect(try GGUFFile(path: mergedPath))
        let viaAdapter = try TinyModel.engineLogits(path: tiny.path, tokens: tokens, adapters: [(adapter, 0.5)])
        let viaMerge = try TinyModel.engineLogits(path: mergedPath, tokens: tokens)
        let plain = try TinyModel.engineLogits(path: tiny.path, tokens: tokens)
        let diff = maxAbsDiff(viaAdapter, viaMerge), moved = maxAbsDiff(plain, viaAdapter)
        let scale = viaMerge.map(abs).max()!
        print("\(label), adapter at inference vs merged weights: max |Δlogit| \(diff) (\(diff / scale) of the largest logit); the adapter moves logits by \(moved)")
        return (diff / scale, moved)
    }

    /// Full finetuning of a tiny model of `shape` (12 sequences, batch 4, lr 1e-2): a checkpoint after
    /// step 1, restored, reaches the straight run's weights bit for bit, and the F32 GGUF the straight
    /// run exports reads back as the same shape and weights. `inspect` gets the initial and trained
    /// weights (`WeightLayout` order) and the exported file.
    static func checkFullFinetuning(shape: ModelShape, seed: UInt64,
                                    inspect: (_ initial: [Float], _ trained: [Float], _ exported: GGUFFile) throws -> Void) throws {
        let tiny = try TinyModel(seed: seed, shape: shape)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-\(shape.architecture.rawValue)-full-\(getpid())").path
        defer {
            try? FileManager.default.removeItem(atPath: tiny.path)
            try? FileManager.default.removeItem(atPath: dir)
        }
        func tuner() throws -> Finetuner {
            let model = try TrainableModel(shape: shape, weights: Floats(tiny.weights), mode: .full)
            var settings = FinetuneSettings()
            settings.batchSize = 4
            settings.learningRate = 1e-2
            return try Finetuner(model: model, settings: settings, sequences: sequences(12, seed: seed + 1))
        }
        let straight = try tuner()
        while !straight.finished { _ = try straight.runStep() }
        let trained = straight.model.parameters.array
        let folder = CheckpointFolder(folder: dir)
        let first = try tuner()
        _ = try first.runStep()
        _ = try folder.save(first, keep: 2)
        let second = try tuner()
        #expect(try folder.restoreLatest(second)?.step == 1)
        while !second.finished { _ = try second.runStep() }
        #expect(second.model.parameters.array == trained)
        let path = dir + "/model.gguf"
        try ModelExport.write(base: try GGUFFile(path: tiny.path), layout: straight.model.layout, weights: straight.model.weights.pointer,
                              type: .f32, note: "test", to: path)
        let out = try GGUFFile(path: path)
        let reread = try TrainableModel.load(file: out, mode: .full)
        #expect(reread.shape == shape)
        #expect(reread.weights.array == trained)
        try inspect(tiny.weights, trained, out)
    }

    @Test func adapterEqualsMergedWeights() throws {
        let tiny = try TinyModel(seed: 23)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let adapter = TinyModel.randomAdapter(TinyModel.shape, rank: 4, seed: 24)
        let mergedPath = try Self.writeMerged(tiny, shape: TinyModel.shape, adapter: adapter, scale: 0.5)
        defer { try? FileManager.default.removeItem(atPath: mergedPath) }
        let viaAdapter = try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens, adapters: [(adapter, 0.5)])
        let viaMerge = try TinyModel.engineLogits(path: mergedPath, tokens: Self.tokens)
        let plain = try TinyModel.engineLogits(path: tiny.path, tokens: Self.tokens)
        let diff = Self.maxAbsDiff(viaAdapter, viaMerge)
        print("adapter at inference vs merged weights (tiny model): max |Δlogit| \(diff); the adapter moves logits by \(Self.maxAbsDiff(plain, viaAdapter))")
        #expect(diff < 1e-4)
        #expect(Self.maxAbsDiff(plain, viaAdapter) > 1e-2)
        // Decoding one token at a time (the per-row path) gives the same numbers.
        let model = try loadModel(try GGUFFile(path: tiny.path))
        try applyLoRA([(adapter, 0.5)], to: model)
        let seq = model.newSequence(reserve: Self.tokens.count)
        var last: [Float] = []
        for t in Self.tokens {
            var b = Batch()
            b.independentRows = true
            b.append([t], to: seq)
            last = Array(try model.forward(b, hooks: nil))
        }
        let lastMerged = Array(viaMerge.suffix(TinyModel.shape.vocabulary))
        #expect(Self.maxAbsDiff(last, lastMerged) < 1e-3)
    }

    @Test func peftFolderRoundTrip() throws {
        let s = TinyModel.shape
        let adapter = TinyModel.randomAdapter(s, rank: 3, seed: 25)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-peft-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try adapter.writePEFT(folder: dir, model: s.modelConfig)
        let file = try SafetensorsFile(path: dir + "/adapter_model.safetensors")
        let qB = try #require(file.tensor(named: "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"))
        #expect(qB.shape == [s.qDim, 3])
        #expect(file.tensor(named: "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight")?.shape == [3, s.feedForward])
        #expect(file.tensor(named: "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight")?.shape == [s.kvDim, 3])
        // B of q is stored in Hugging Face's row order: row 1 of head 0 (HF) is GGUF row 2.
        let original = adapter.tensors.first { $0.module == .q && $0.layer == 1 }!
        let hf = try file.floats(qB.name)
        #expect(Array(hf[3..<6]) == Array(original.b[6..<9]))
        let back = try LoRAAdapter.load(path: dir, model: s.modelConfig)
        #expect(back.tensors.count == adapter.tensors.count)
        for t in adapter.tensors {
            let u = try #require(back.tensors.first { $0.module == t.module && $0.layer == t.layer })
            #expect(u.a == t.a && u.b == t.b && u.rank == t.rank)
            #expect(abs(u.scale - LoRAConfig.scale(alpha: Float(2 * 3), rank: 3, rsLoRA: false)) < 1e-6)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        #expect(config["peft_type"] as? String == "LORA")
        #expect(config["r"] as? Int == 3)
        #expect((config["target_modules"] as? [String])?.count == 7)
    }

    @Test func ggufAdapterRoundTrip() throws {
        let s = TinyModel.shape
        var adapter = TinyModel.randomAdapter(s, rank: 4, seed: 26)
        adapter.config.rsLoRA = true
        for i in adapter.tensors.indices { adapter.tensors[i].scale = adapter.config.scale }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-lora-\(getpid()).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try adapter.writeGGUF(path: path, model: s.modelConfig)
        let file = try GGUFFile(path: path)
        #expect(file["general.type"]?.stringValue == "adapter")
        #expect(file.tensor(named: "blk.1.attn_q.weight.lora_a")?.dimensions == [s.width, 4])
        #expect(file.tensor(named: "blk.1.attn_q.weight.lora_b")?.dimensions == [4, s.qDim])
        // llama.cpp scales by alpha/r: the file's alpha is alpha·√r for an rsLoRA adapter.
        #expect(abs(Float(file["adapter.lora.alpha"]!.floatValue!) - 8 * 2) < 1e-5)
        let back = try LoRAAdapter.load(path: path, model: s.modelConfig)
        for t in adapter.tensors {
            let u = try #require(back.tensors.first { $0.module == t.module && $0.layer == t.layer })
            #expect(u.a == t.a && u.b == t.b)
            #expect(abs(u.scale - t.scale) < 1e-5)
        }
    }

    @Test func badAdapterFilesNameTheField() throws {
        let s = TinyModel.shape
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-badpeft-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.randomAdapter(s, rank: 2, seed: 27).writePEFT(folder: dir, model: s.modelConfig)
        try Data(#"{"peft_type": "PREFIX_TUNING", "r": 2, "lora_alpha": 4}"#.utf8).write(to: URL(fileURLWithPath: dir + "/adapter_config.json"))
        #expect { try LoRAAdapter.load(path: dir, model: s.modelConfig) } throws: { "\($0)".contains("peft_type") && "\($0)".contains("adapter_config.json") }
        try Data(#"{"peft_type": "LORA", "r": 2, "lora_alpha": 4}"#.utf8).write(to: URL(fileURLWithPath: dir + "/adapter_config.json"))
        var other = s
        other.feedForward = 40
        #expect { try LoRAAdapter.load(path: dir, model: other.modelConfig) } throws: { "\($0)".contains("shape") && "\($0)".contains("lora_") }
    }

    /// Same seed and thread count: the same loss curve, bit for bit (and, by construction, the same
    /// with another thread count).
    @Test func deterministicLossCurve() throws {
        let tiny = try TinyModel(seed: 28)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        func curve(threads: Int, mode: TrainingMode) throws -> [Double] {
            Parallel.configure(threads: threads)
            defer { Parallel.configure(threads: 2) }
            let model = try TrainableModel(shape: TinyModel.shape, weights: Floats(tiny.weights), mode: mode)
            if let l = model.lora { l.initialize(model.parameters.pointer, seed: 3) }
            var settings = FinetuneSettings()
            settings.lora = model.lora?.config
            settings.batchSize = 3
            settings.learningRate = 1e-2
            settings.passTokens = 20
            let tuner = try Finetuner(model: model, settings: settings, sequences: Self.sequences(12, seed: 29))
            return try (0..<tuner.totalSteps).map { _ in try tuner.runStep().loss }
        }
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1)
        let a = try curve(threads: 2, mode: .lora(lora)), b = try curve(threads: 2, mode: .lora(lora))
        #expect(a == b)
        #expect(try curve(threads: 1, mode: .lora(lora)) == a)
        let f1 = try curve(threads: 2, mode: .full), f2 = try curve(threads: 2, mode: .full)
        #expect(f1 == f2)
        print("deterministic loss curves: LoRA \(a), full \(f1)")
    }

    static func sequences(_ n: Int, seed: UInt64) -> [TrainingSequence] {
        var rng = TestRandom(seed)
        return (0..<n).map { _ in
            let len = 5 + rng.below(8)
            let tokens = (0..<len).map { _ in Int32(rng.below(TinyModel.shape.vocabulary)) }
            return TrainingSequence(tokens: tokens, trained: (0..<len).map { $0 >= 2 })
        }
    }

    @Test func tinyModelOverfits() throws {
        let tiny = try TinyModel(seed: 30)
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        for mode in [TrainingMode.full, .lora(LoRAConfig(rank: 8, alpha: 16))] {
            let model = try TrainableModel(shape: TinyModel.shape, weights: Floats(tiny.weights), mode: mode)
            if let l = model.lora { l.initialize(model.parameters.pointer, seed: 1) }
            var settings = FinetuneSettings()
            settings.lora = model.lora?.config
            settings.batchSize = 32
            settings.epochs = 60
            settings.learningRate = 1e-2
            settings.warmupSteps = 0
            settings.decay = .constant
            settings.weightDecay = 0
            let data = Self.sequences(32, seed: 31)
            let tuner = try Finetuner(model: model, settings: settings, sequences: data)
            let first = try tuner.meanLoss(data)
            while !tuner.finished { _ = try tuner.runStep() }
            let last = try tuner.meanLoss(data)
            print("tiny model, \(mode == .full ? "full" : "LoRA r8"), 32 random sequences, 60 steps: loss \(first) → \(last)")
            #expect(last < 0.25 * first)
        }
    }

    @Test func checkpointRestoreContinuesExactly() throws {
        let tiny = try TinyModel(seed: 32)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-ckpt-\(getpid())").path
        defer {
            try? FileManager.default.removeItem(atPath: tiny.path)
            try? FileManager.default.removeItem(atPath: dir)
        }
        func tuner() throws -> Finetuner {
            let model = try TrainableModel(shape: TinyModel.shape, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
            model.lora!.initialize(model.parameters.pointer, seed: 9)
            var settings = FinetuneSettings()
            settings.lora = model.lora!.config
            settings.batchSize = 2
            return try Finetuner(model: model, settings: settings, sequences: Self.sequences(12, seed: 33))
        }
        let straight = try tuner()
        while !straight.finished { _ = try straight.runStep() }
        let folder = CheckpointFolder(folder: dir)
        let first = try tuner()
        for _ in 0..<3 { _ = try first.runStep() }
        _ = try folder.save(first, keep: 2)
        _ = try first.runStep()
        _ = try folder.save(first, keep: 2)
        _ = try first.runStep()
        _ = try folder.save(first, keep: 2)
        #expect(folder.list().map(\.step) == [4, 5])
        // A damaged newest checkpoint is skipped for the one before it.
        let newest = folder.list().last!.path
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: newest))
        try handle.seekToEnd()
        try handle.seek(toOffset: handle.offsetInFile - 8)
        handle.write(Data([1, 2, 3, 4, 5, 6, 7, 8]))
        try handle.close()
        let second = try tuner()
        let restored = try folder.restoreLatest(second)
        #expect(restored?.step == 4)
        while !second.finished { _ = try second.runStep() }
        #expect(second.model.parameters.array == straight.model.parameters.array)
        // Other settings are refused, naming the setting.
        let model = try TrainableModel(shape: TinyModel.shape, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        var settings = FinetuneSettings()
        settings.lora = model.lora!.config
        settings.batchSize = 2
        settings.learningRate = 3e-4
        let other = try Finetuner(model: model, settings: settings, sequences: Self.sequences(12, seed: 33))
        #expect { try folder.restoreLatest(other) } throws: { "\($0)".contains("learningRate") }
    }
}

/// `TrainableModel.recompute`: each layer's activations computed again before its backward pass.
@Suite("Recomputed activations", .serialized)
struct RecomputeTests {
    init() { Parallel.configure(threads: 2) }

    /// The loss and every gradient equal the kept-activation pass's bit for bit (LoRA with dropout on
    /// all modules, LoRA on one middle layer, full finetuning), on llama, qwen2 and gemma3, and the
    /// kept activations shrink to one layer's.
    @Test(arguments: ["llama", "qwen2", "gemma3"]) func sameGradientsBitForBit(architecture: String) throws {
        let shape = switch architecture {
        case "qwen2": TinyModel.qwen2Shape
        case "gemma3": TinyModel.gemma3Shape
        default: TinyModel.shape
        }
        var deep = shape
        deep.layers = 4
        if deep.architecture == .gemma3 { deep.globalEvery = 3 }
        let weights = GradientCheckTests.randomWeights(deep, seed: 90)
        var batch = PackedBatch()
        batch.append(tokens: [1, 17, 33, 5, 60, 2, 9, 41, 8, 12], trained: [false, false, true, true, true, true, true, true, true, true])
        batch.append(tokens: [4, 22, 7, 50, 3, 11], trained: [false, true, true, true, true, true])
        let modes: [TrainingMode] = [.lora(LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, targets: LoRAModule.allCases)),
                                     .lora(LoRAConfig(rank: 2, alpha: 4, targets: [.v, .up], layers: [1])), .full]
        for mode in modes {
            func pass(_ recompute: Bool) throws -> (loss: Double, gradients: [Float], bytes: Int) {
                let model = try TrainableModel(shape: deep, weights: Floats(weights), mode: mode)
                model.recompute = recompute
                if let lora = model.lora {
                    lora.initialize(model.parameters.pointer, seed: 91)
                    var rng = TestRandom(92)
                    for i in 0..<model.parameters.count { model.parameters[i] += rng.float(0.05) }
                }
                model.dropoutSeed = 93
                let loss = try model.run(batch, backward: true).loss
                return (loss, model.gradients.array, model.activationBytes)
            }
            let kept = try pass(false), again = try pass(true)
            let label = if case .lora(let c) = mode { "LoRA r\(c.rank) on \(c.layers.map { "layers \($0)" } ?? "every layer")" } else { "full" }
            print("recompute (\(architecture), \(label)): loss \(kept.loss) and \(again.loss); activations \(kept.bytes) bytes kept, \(again.bytes) recomputing")
            #expect(kept.loss == again.loss)
            #expect(kept.gradients == again.gradients)
            #expect(kept.gradients.contains { $0 != 0 })
            // Four layers kept against one (the layer inputs and the scratch are kept either way).
            #expect(again.bytes < kept.bytes * 6 / 10)
        }
    }
}
