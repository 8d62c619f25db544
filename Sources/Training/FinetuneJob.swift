import Core
import Datasets
import Foundation
import GGUF
import Tokenizer

/// What a finetuning job writes besides checkpoints, and how often it checks itself.
public struct FinetuneOutputs: Sendable, Equatable {
    /// Validation loss every N steps (and at the end) when part of the data is held out.
    public var validateEvery = 50
    public var checkpointEvery = 50
    public var keepCheckpoints = 2
    /// LoRA: also a llama.cpp GGUF adapter (`OUT/adapter.gguf`).
    public var ggufAdapter = false
    /// LoRA: also the merged model (`OUT/merged.gguf`) in this type (f16, q8_0, f32).
    public var merge: String?
    /// Full finetuning: the type of `OUT/model.gguf`.
    public var fullType = "f16"
    /// Hand the model to `Events.evaluate` before the first step, every N steps and at the end
    /// (nil: never). LoRA snapshots stay in `OUT/evals/step-NNNNNN`; a full model's snapshot
    /// (`OUT/evals/step-NNNNNN.gguf`, in `fullType`) is deleted once evaluated.
    public var evaluateEvery: Int?

    public init() {}
}

/// A finetuning run on the CPU, from data to exported adapter or model, with checkpoints in
/// `OUT/checkpoints` and resume: `prepare` tokenizes the data, loads the model and settles the
/// settings (digests included); `run` trains until done or `shouldStop`, checkpointing, and exports.
/// Nothing here writes a results database: each step and file goes to the caller's `events`.
public final class FinetuneJob: @unchecked Sendable {
    public let settings: FinetuneSettings
    public let prepared: PreparedData
    public let model: TrainableModel
    public let tuner: Finetuner
    public let out: String
    let file: GGUFFile
    let baseName: String
    let outputs: FinetuneOutputs
    public let loadSeconds: Double

    public var isFull: Bool { model.lora == nil }

    /// The model as it stands at a step, in a form any model spec can open.
    public enum Snapshot: Sendable, Equatable {
        /// Full finetuning before its first step: the base model itself.
        case base
        /// A PEFT adapter folder for the base model (`--model BASE,lora=FOLDER`).
        case adapter(String)
        /// A whole GGUF model (`--model PATH`).
        case model(String)
    }

    public struct Events {
        /// The job continued from a checkpoint (its step and path), or found none (nil).
        public var resumed: ((Int, String?) throws -> Void)?
        /// A step is done (with the validation loss when it was due).
        public var step: ((StepReport) throws -> Void)?
        /// A file was written at a step: kind `checkpoint`, `peft`, `gguf-adapter` or `gguf-model`.
        public var artifact: ((Int, String, String) throws -> Void)?
        /// The model at a step when `FinetuneOutputs.evaluateEvery` makes it due (before the first step,
        /// every N steps, at the end; after a resume, again at the restored step, so a measurement that
        /// a kill interrupted is finished — whoever measures keeps what was already done).
        public var evaluate: ((Int, Snapshot) async throws -> Void)?

        public init(resumed: ((Int, String?) throws -> Void)? = nil, step: ((StepReport) throws -> Void)? = nil,
                    artifact: ((Int, String, String) throws -> Void)? = nil, evaluate: ((Int, Snapshot) async throws -> Void)? = nil) {
            self.resumed = resumed
            self.step = step
            self.artifact = artifact
            self.evaluate = evaluate
        }
    }

    /// Tokenizes `data` with the model's template, loads the model file (`baseName` is what the
    /// adapter names as its base), initialises LoRA from the seed. `settings` carries everything but
    /// the digests, which are filled here.
    public init(modelFile file: GGUFFile, modelPath: String, baseName: String, template: ChatTemplate, mode: TrainingMode,
                settings base: FinetuneSettings, data: ChatDataset, validationFraction: Double, outputs: FinetuneOutputs, out: String) throws {
        let tokenizer = try loadTokenizer(gguf: file)
        prepared = try PreparedData.prepare(data, tokenizer: ChatTokenizer(tokenizer: tokenizer, template: template),
                                            trainOn: base.trainOn, maxSequence: base.maxSequence,
                                            validationFraction: validationFraction, seed: base.seed)
        var settings = base
        if case .lora(let c) = mode { settings.lora = c }
        settings.modelDigest = "\((modelPath as NSString).lastPathComponent):\(file.fileSize)"
        settings.dataDigest = prepared.digest
        self.settings = settings
        let start = Date()
        model = try TrainableModel.load(file: file, mode: mode)
        if let lora = model.lora { lora.initialize(model.parameters.pointer, seed: SplitMix64.mix(settings.seed, 0x10A)) }
        tuner = try Finetuner(model: model, settings: settings, sequences: prepared.train, validation: prepared.validation)
        loadSeconds = Date().timeIntervalSince(start)
        self.file = file
        self.baseName = baseName
        self.outputs = outputs
        self.out = out
    }

    public var checkpoints: CheckpointFolder { CheckpointFolder(folder: (out as NSString).appendingPathComponent("checkpoints")) }

    /// Trains from step 0, or with `resume` from the newest checkpoint; a fresh start refuses an
    /// output folder that already holds checkpoints. Returns whether it finished (false: stopped,
    /// after saving a checkpoint and exporting what it had).
    @discardableResult
    public func run(resume: Bool, note: String = "", shouldStop: () -> Bool = { false }, events: Events = Events()) async throws -> Bool {
        let checkpoints = self.checkpoints
        if resume {
            let restored = try checkpoints.restoreLatest(tuner)
            try events.resumed?(restored?.step ?? 0, restored?.path)
        } else if !checkpoints.list().isEmpty {
            throw FinetuneJobError.checkpointsExist(checkpoints.folder)
        }
        try await evaluateIfDue(events)
        var lastSaved = tuner.step
        while !tuner.finished && !shouldStop() {
            var report = try tuner.runStep()
            if !prepared.validation.isEmpty, report.step % outputs.validateEvery == 0 || tuner.finished {
                report.validationLoss = try tuner.validationLoss()
            }
            try events.step?(report)
            if report.step % outputs.checkpointEvery == 0 {
                try events.artifact?(report.step, "checkpoint", try checkpoints.save(tuner, keep: outputs.keepCheckpoints))
                lastSaved = tuner.step
            }
            // After the step's checkpoint (if due): a kill while measuring resumes from the last checkpoint,
            // and the step is measured again when it is reached (the same weights, bit for bit).
            try await evaluateIfDue(events)
        }
        let finished = tuner.finished
        if tuner.step != lastSaved || !finished {
            try events.artifact?(tuner.step, "checkpoint", try checkpoints.save(tuner, keep: outputs.keepCheckpoints))
        }
        try export(note: (note.isEmpty ? "" : note + ", ") + "step \(tuner.step)", events: events)
        return finished
    }

    /// Whether the model at the current step is measured: at step 0, every `evaluateEvery` steps, at the end.
    public func evaluationDue(step: Int) -> Bool {
        guard let every = outputs.evaluateEvery else { return false }
        return step % every == 0 || step >= tuner.totalSteps
    }

    /// Writes the current model where `Events.evaluate` can open it and hands it over.
    private func evaluateIfDue(_ events: Events) async throws {
        let step = tuner.step
        guard let evaluate = events.evaluate, evaluationDue(step: step) else { return }
        let folder = ((out as NSString).appendingPathComponent("evals") as NSString).appendingPathComponent(String(format: "step-%06d", step))
        guard let lora = model.lora else {
            if step == 0 { return try await evaluate(step, .base) }
            let path = folder + ".gguf"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try ModelExport.write(base: file, layout: model.layout, weights: model.weights.pointer, type: ModelExport.types[outputs.fullType]!,
                                  note: "step \(step) snapshot", to: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try await evaluate(step, .model(path))
        }
        try lora.adapter(model.parameters.pointer, baseModel: baseName).writePEFT(folder: folder, model: model.shape.modelConfig)
        try await evaluate(step, .adapter(folder))
    }

    /// The adapter folder (and GGUF adapter, merged model) or, for full finetuning, the model.
    func export(note: String, events: Events) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let step = tuner.step
        guard let lora = model.lora else {
            let path = (out as NSString).appendingPathComponent("model.gguf")
            try ModelExport.write(base: file, layout: model.layout, weights: model.weights.pointer, type: ModelExport.types[outputs.fullType]!,
                                  note: note, to: path)
            try events.artifact?(step, "gguf-model", path)
            return
        }
        let config = model.shape.modelConfig
        let adapter = lora.adapter(model.parameters.pointer, baseModel: baseName)
        try adapter.writePEFT(folder: out, model: config)
        try events.artifact?(step, "peft", out)
        if outputs.ggufAdapter {
            let path = (out as NSString).appendingPathComponent("adapter.gguf")
            try adapter.writeGGUF(path: path, model: config)
            try events.artifact?(step, "gguf-adapter", path)
        }
        if let merge = outputs.merge {
            let path = (out as NSString).appendingPathComponent("merged.gguf")
            let merged = ModelExport.merged(layout: model.layout, weights: model.weights.pointer, adapters: [(adapter, 1)])
            try ModelExport.write(base: file, layout: model.layout, weights: merged.pointer, type: ModelExport.types[merge]!,
                                  note: note + ", LoRA merged", to: path)
            try events.artifact?(step, "gguf-model", path)
        }
    }
}

public enum FinetuneJobError: Error, CustomStringConvertible {
    case checkpointsExist(String)

    public var description: String {
        switch self {
        case .checkpointsExist(let folder):
            "\(folder) already holds checkpoints: resume that run (--resume), or choose another output folder"
        }
    }
}
