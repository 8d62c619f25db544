import Core
import Foundation
import Inference

/// Every setting that decides a training run's numbers. A checkpoint stores them; `--resume`
/// refuses a run whose settings differ (naming the first that does).
public struct FinetuneSettings: Sendable, Equatable, Codable {
    public var lora: LoRAConfig?               // nil: full finetuning
    public var learningRate: Float = 1e-4
    public var warmupSteps: Int = 5
    public var decay: LearningRateSchedule.Decay = .linear
    public var weightDecay: Float = 0.01
    public var gradientClip: Float? = 1.0
    public var epochs: Int = 1
    public var batchSize: Int = 8
    public var gradAccum: Int = 1
    public var batchTokens: Int?
    public var passTokens: Int = 2048
    public var maxSequence: Int = 1024
    public var maxSteps: Int?
    public var seed: UInt64 = 0
    public var trainOn: TrainOn = .assistant
    /// Identifies the base model and the data (file digests), so a resume cannot mix them up.
    public var modelDigest: String = ""
    public var dataDigest: String = ""

    public init() {}

    /// The first setting whose value differs from `other`'s, as (name, ours, theirs).
    public func firstDifference(from other: FinetuneSettings) -> (String, String, String)? { firstSettingDifference(self, other) }
}

/// The first stored property whose value differs between two settings of one type, as (name, a's, b's).
public func firstSettingDifference<T>(_ a: T, _ b: T) -> (String, String, String)? {
    for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) where "\(x.value)" != "\(y.value)" {
        return (x.label ?? "?", "\(x.value)", "\(y.value)")
    }
    return nil
}

/// What one optimizer step did.
public struct StepReport: Sendable {
    public var step: Int               // 1-based: steps done after this one
    public var totalSteps: Int
    public var epoch: Int
    public var loss: Double            // mean over the step's trained tokens
    public var learningRate: Float
    public var gradientNorm: Double
    public var tokens: Int             // all tokens computed (prompt and trained)
    public var lossTokens: Int
    public var seconds: Double
    public var validationLoss: Double?
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// Runs the optimizer steps of a `TrainingPlan` on a `TrainableModel`, with checkpoints.
public final class Finetuner: @unchecked Sendable {
    public let model: TrainableModel
    public let settings: FinetuneSettings
    public let sequences: [TrainingSequence]
    public let validation: [TrainingSequence]
    public let plan: TrainingPlan
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    /// Optimizer steps done.
    public private(set) var step = 0

    public init(model: TrainableModel, settings: FinetuneSettings, sequences: [TrainingSequence],
                validation: [TrainingSequence] = []) throws {
        guard !sequences.isEmpty else { throw TrainingError.data("no training examples with a trained token (after the sequence cap)") }
        self.model = model
        self.settings = settings
        self.sequences = sequences
        self.validation = validation
        plan = TrainingPlan(sequenceLengths: sequences.map(\.tokens.count), epochs: settings.epochs, batchSize: settings.batchSize,
                            gradAccum: settings.gradAccum, batchTokens: settings.batchTokens, seed: settings.seed,
                            maxSteps: settings.maxSteps)
        optimizer = AdamW(count: model.parameters.count, weightDecay: settings.weightDecay,
                          noDecay: model.isFull ? model.layout.noDecayRanges : [])
        schedule = LearningRateSchedule(peak: settings.learningRate, warmup: settings.warmupSteps, decay: settings.decay,
                                        totalSteps: plan.steps.count)
    }

    public var totalSteps: Int { plan.steps.count }
    public var finished: Bool { step >= plan.steps.count }

    /// One optimizer step: gradients over the step's sequences (mean loss over their trained
    /// tokens), clipping, AdamW.
    public func runStep() throws -> StepReport {
        let started = Date()
        let planned = plan.steps[step]
        let seqs = planned.sequences.map { sequences[$0] }
        let passes = TrainingPlan.pack(seqs, passTokens: settings.passTokens)
        let lossTokens = passes.reduce(0) { $0 + $1.lossTokens }
        model.gradients.zero()
        model.dropoutSeed = SplitMix64.mix(settings.seed, UInt64(step) &+ 0xD20F)
        var loss = 0.0
        for p in passes {
            let (l, _) = try model.run(p, backward: true, lossScale: 1 / Float(max(1, lossTokens)))
            loss += l
        }
        let lr = schedule.rate(step: step)
        let norm = optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: lr, clip: settings.gradientClip)
        step += 1
        return StepReport(step: step, totalSteps: plan.steps.count, epoch: planned.epoch, loss: loss / Double(max(1, lossTokens)),
                          learningRate: lr, gradientNorm: norm, tokens: passes.reduce(0) { $0 + $1.count }, lossTokens: lossTokens,
                          seconds: Date().timeIntervalSince(started))
    }

    /// Mean loss over `validation` (forward only).
    public func validationLoss() throws -> Double? {
        guard !validation.isEmpty else { return nil }
        var total = 0.0, count = 0
        for p in TrainingPlan.pack(validation, passTokens: settings.passTokens) {
            let (l, n) = try model.run(p, backward: false)
            total += l
            count += n
        }
        return count > 0 ? total / Double(count) : nil
    }

    /// Mean loss over some sequences with the current weights (forward only).
    public func meanLoss(_ seqs: [TrainingSequence]) throws -> Double {
        var total = 0.0, count = 0
        for p in TrainingPlan.pack(seqs, passTokens: settings.passTokens) {
            let (l, n) = try model.run(p, backward: false)
            total += l
            count += n
        }
        return total / Double(max(1, count))
    }

    // MARK: Checkpoints

    /// Writes the trainable values, the optimizer's moments and the step counter atomically.
    public func saveCheckpoint(to path: String) throws {
        try Checkpoint(step: step, optimizerSteps: optimizer.steps, settings: settings,
                       blobs: [model.parameters, optimizer.m, optimizer.v]).write(to: path)
    }

    /// Restores a checkpoint written by `saveCheckpoint` with the same settings.
    public func restore(from path: String) throws {
        let stored = try Checkpoint.read(path: path, into: [model.parameters, optimizer.m, optimizer.v])
        if let (name, mine, theirs) = settings.firstDifference(from: stored.settings) {
            throw TrainingError.checkpoint(path: path, "it was written with \(name) = \(theirs); this run has \(mine)")
        }
        guard stored.step <= plan.steps.count else {
            throw TrainingError.checkpoint(path: path, "it is at step \(stored.step), beyond this run's \(plan.steps.count) steps")
        }
        step = stored.step
        optimizer.steps = stored.optimizerSteps
    }
}

/// A checkpoint file: `EMLABCKPT1\n`, an 8-byte little-endian length, a JSON header (step, settings,
/// blob sizes, a checksum of the data), then the float blobs, little-endian. Written to a temporary
/// file, flushed to disk and renamed, so a kill never leaves a partial checkpoint under its name.
struct Checkpoint {
    var step: Int
    var optimizerSteps: Int
    var settings: FinetuneSettings
    var blobs: [Floats]

    struct Header: Codable {
        var step: Int
        var optimizerSteps: Int
        var settings: FinetuneSettings
        var counts: [Int]
        var checksum: UInt64
    }

    static let magic = Array("EMLABCKPT1\n".utf8)

    static func checksum(_ blobs: [Floats]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in blobs {
            let words = UnsafeRawPointer(b.pointer).assumingMemoryBound(to: UInt32.self)
            var acc: UInt64 = 0
            for i in 0..<b.count { acc = (acc &+ UInt64(words[i])) &* 0x100_0000_01B3 }
            h = (h ^ acc) &* 0x100_0000_01B3
        }
        return h
    }

    func write(to path: String) throws {
        let header = Header(step: step, optimizerSteps: optimizerSteps, settings: settings, counts: blobs.map(\.count),
                            checksum: Self.checksum(blobs))
        let json = try JSONEncoder().encode(header)
        let tmp = path + ".tmp-\(getpid())"
        guard let fp = fopen(tmp, "wb") else { throw TrainingError.checkpoint(path: path, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = fwrite(Self.magic, 1, Self.magic.count, fp) == Self.magic.count
        var length = UInt64(json.count).littleEndian
        ok = ok && fwrite(&length, 8, 1, fp) == 1
        ok = ok && json.withUnsafeBytes { fwrite($0.baseAddress!, 1, json.count, fp) } == json.count
        for b in blobs where ok { ok = fwrite(b.pointer, 4, b.count, fp) == b.count }
        ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0
        fclose(fp)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw TrainingError.checkpoint(path: path, "write failed: \(String(cString: strerror(errno)))")
        }
        // The rename itself is made durable by syncing the folder.
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// Reads the header and fills `blobs` (whose sizes must match).
    static func read(path: String, into blobs: [Floats]) throws -> Header {
        func fail(_ why: String) -> TrainingError { .checkpoint(path: path, why) }
        guard let fp = fopen(path, "rb") else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { fclose(fp) }
        var magic = [UInt8](repeating: 0, count: Self.magic.count)
        guard fread(&magic, 1, magic.count, fp) == magic.count, magic == Self.magic else { throw fail("not an emlab checkpoint") }
        var length: UInt64 = 0
        guard fread(&length, 8, 1, fp) == 1, length < 1 << 24 else { throw fail("bad header length") }
        var json = [UInt8](repeating: 0, count: Int(UInt64(littleEndian: length)))
        guard fread(&json, 1, json.count, fp) == json.count else { throw fail("truncated header") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(json)) } catch { throw fail("unreadable header: \(error)") }
        guard header.counts == blobs.map(\.count) else {
            throw fail("holds tensors of \(header.counts) values; this model needs \(blobs.map(\.count))")
        }
        for b in blobs { guard fread(b.pointer, 4, b.count, fp) == b.count else { throw fail("truncated data") } }
        guard checksum(blobs) == header.checksum else { throw fail("checksum mismatch (the file is damaged)") }
        return header
    }
}

/// The checkpoints of a run in `folder`: `step-000120.ckpt`, newest last.
public struct CheckpointFolder: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    public func path(step: Int) -> String { (folder as NSString).appendingPathComponent(String(format: "step-%06d.ckpt", step)) }

    /// (step, path) of each checkpoint, oldest first.
    public func list() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".ckpt"), let s = Int(name.dropFirst(5).dropLast(5)) else { return nil }
            return (s, (folder as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Saves the finetuner's state as the checkpoint of its current step and deletes all but the
    /// newest `keep`.
    public func save(_ f: Finetuner, keep: Int) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let p = path(step: f.step)
        try f.saveCheckpoint(to: p)
        for old in list().dropLast(max(1, keep)) { try? FileManager.default.removeItem(atPath: old.path) }
        return p
    }

    /// Restores the newest checkpoint that reads back whole (an older one when the newest is
    /// damaged); nil when there is none. A checkpoint with other settings is an error.
    public func restoreLatest(_ f: Finetuner) throws -> (step: Int, path: String)? {
        var lastError: Error?
        for c in list().reversed() {
            do {
                try f.restore(from: c.path)
                return c
            } catch let e as TrainingError {
                if case .checkpoint(_, let why) = e, why.hasPrefix("it was written with") { throw e }
                lastError = e
            }
        }
        if let lastError { throw lastError }
        return nil
    }
}
