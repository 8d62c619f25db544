import Foundation
import Safetensors
import Training

/// A training run that cannot go on as asked (a usage mistake: the message says what to change).
public struct SAETrainingError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One step as the run reports it.
public struct SAEStepReport: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var metrics: SAEStepMetrics
    public var vectorsPerSecond: Double
    /// Figures on held-out vectors, at evaluation steps (and the last).
    public var heldOut: SAEStepMetrics?
    /// Where a checkpoint was written at this step.
    public var checkpoint: String?
}

/// `emlab sae train`'s loop: batches from `ActivationData`, an `SAETrainer`, a checkpoint every
/// `checkpointEvery` steps (parameters, Adam moments, dead counters and the step, written
/// atomically to `OUT/checkpoint.safetensors`), the SAE saved in SAELens' format at the end.
/// A killed run resumes from its checkpoint and reads the same batches it would have (the order
/// is a function of the seed and the step), so it ends where an uninterrupted run ends.
public struct SAETrainingRun: Sendable {
    public var options: SAETrainingOptions
    public var steps: Int
    public var checkpointEvery: Int = 100
    public var evaluateEvery: Int = 100
    /// Held-out vectors measured at each evaluation (at most).
    public var heldOutVectors: Int = 16_384
    public var out: String

    public static let checkpointFile = "checkpoint.safetensors"

    public init(options: SAETrainingOptions, steps: Int, out: String) {
        self.options = options
        self.steps = steps
        self.out = out
    }

    public var checkpointPath: String { (out as NSString).appendingPathComponent(Self.checkpointFile) }

    /// A new trainer (b_dec and σ² from up to 16,384 training vectors) or, with `resume`, the one in
    /// the checkpoint. Without `resume`, an existing checkpoint is an error.
    public func trainer(data: ActivationData, site: SAESite, resume: Bool) throws -> SAETrainer {
        let exists = FileManager.default.fileExists(atPath: checkpointPath)
        if resume && exists { return try restore(data: data, site: site) }
        if exists { throw SAETrainingError("\(checkpointPath) exists: pass --resume to continue that run, or choose another --out") }
        let n = min(16_384, data.training.count)
        var sample = [Float](repeating: 0, count: n * data.width)
        let ids = data.batch(step: 0, size: n)
        sample.withUnsafeMutableBufferPointer { data.fill(ids, into: $0.baseAddress!) }
        return SAETrainer(options: options, width: data.width, site: site, sample: sample, sampleRows: n)
    }

    /// Runs until `steps` (or `shouldStop` says so after a step); returns whether it finished.
    public func run(_ trainer: SAETrainer, data: ActivationData, shouldStop: () -> Bool = { false },
                    onStep: (SAEStepReport) throws -> Void) throws -> Bool {
        let b = options.batchSize
        let batch = Floats(b * data.width, zeroed: false)
        let held = heldOutBatch(data)
        while trainer.step < steps {
            let started = Date()
            data.fill(data.batch(step: trainer.step, size: b), into: batch.pointer)
            let metrics = trainer.train(batch.pointer, rows: b)
            let seconds = Date().timeIntervalSince(started)
            var report = SAEStepReport(step: trainer.step, totalSteps: steps, metrics: metrics, vectorsPerSecond: Double(b) / seconds)
            let last = trainer.step == steps
            if let held, trainer.step % evaluateEvery == 0 || last {
                report.heldOut = trainer.measure(held.vectors.pointer, rows: held.rows)
            }
            let stopping = shouldStop()
            if trainer.step % checkpointEvery == 0 || last || stopping {
                try saveCheckpoint(trainer)
                report.checkpoint = checkpointPath
            }
            try onStep(report)
            if stopping && !last { return false }
        }
        return true
    }

    /// The held-out figures of a trained SAE (the first `heldOutVectors` held-out vectors, as at the
    /// run's evaluation steps); nil without held-out vectors.
    public func heldOutMetrics(_ trainer: SAETrainer, data: ActivationData) -> SAEStepMetrics? {
        heldOutBatch(data).map { trainer.measure($0.vectors.pointer, rows: $0.rows) }
    }

    /// The held-out vectors measured at evaluation steps.
    func heldOutBatch(_ data: ActivationData) -> (vectors: Floats, rows: Int)? {
        guard !data.heldOut.isEmpty else { return nil }
        let ids = data.heldOut.prefix(heldOutVectors)
        let held = Floats(ids.count * data.width, zeroed: false)
        data.fill(ids, into: held.pointer)
        return (held, ids.count)
    }

    // MARK: Checkpoints

    func saveCheckpoint(_ trainer: SAETrainer) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var w = SafetensorsWriter()
        for (name, value) in trainer.stateTensors { try w.add(name, shape: [value.count], values: value.array) }
        w.metadata["emlab.format"] = "emlab-sae-checkpoint/1"
        w.metadata["emlab.step"] = "\(trainer.step)"
        w.metadata["emlab.variance"] = "\(trainer.variance)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        w.metadata["emlab.options"] = String(decoding: try encoder.encode(trainer.options), as: UTF8.self)
        w.metadata["emlab.site"] = String(decoding: try encoder.encode(trainer.sae.site), as: UTF8.self)
        w.metadata["emlab.width"] = "\(trainer.sae.width)"
        try w.write(to: checkpointPath)
    }

    func restore(data: ActivationData, site: SAESite) throws -> SAETrainer {
        let path = checkpointPath
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch let e as SafetensorsError { throw SAEFormatError(file: path, e.message) }
        func fail(_ why: String) -> SAEFormatError { SAEFormatError(file: path, why) }
        guard file.metadata["emlab.format"] == "emlab-sae-checkpoint/1" else { throw fail("not an emlab SAE checkpoint") }
        guard let step = file.metadata["emlab.step"].flatMap(Int.init), let variance = file.metadata["emlab.variance"].flatMap(Double.init),
              let optionsText = file.metadata["emlab.options"],
              let stored = try? JSONDecoder().decode(SAETrainingOptions.self, from: Data(optionsText.utf8)),
              let width = file.metadata["emlab.width"].flatMap(Int.init) else {
            throw fail("__metadata__ lacks emlab.step, emlab.variance, emlab.options or emlab.width")
        }
        guard stored == options else {
            throw SAETrainingError("\(path) was trained with other settings (\(optionsText)); --resume needs the same ones")
        }
        guard width == data.width else { throw fail("width \(width) differs from the activations' \(data.width)") }
        let sae = SparseAutoencoder(width: width, latents: options.latents, architecture: options.architecture, site: site)
        let trainer = SAETrainer(options: options, sae: sae, variance: variance)
        for (name, value) in trainer.stateTensors {
            guard let t = file.tensor(named: name), t.elementCount == value.count else { throw fail("tensor '\(name)' is missing or has the wrong size") }
            file.floats(t, elements: 0..<value.count, into: value.pointer)
        }
        trainer.restore(step: step)
        return trainer
    }
}
