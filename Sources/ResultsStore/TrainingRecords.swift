import Foundation
import GRDB

/// One optimizer step of a finetuning run (`emlab finetune`; the run itself is a `run` row of kind
/// `finetune` whose parameters hold the settings and the dataset digest). A step redone after a
/// resume replaces the row it had.
public struct TrainStepRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "trainStep"
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var validationLoss: Double?
    public var learningRate: Double
    public var gradientNorm: Double
    public var tokens: Int
    public var lossTokens: Int
    public var tokensPerSecond: Double
    public var createdAt: Date

    public init(runId: Int64, step: Int, epoch: Int, loss: Double, validationLoss: Double?, learningRate: Double,
                gradientNorm: Double, tokens: Int, lossTokens: Int, tokensPerSecond: Double) {
        self.runId = runId
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokens = tokens
        self.lossTokens = lossTokens
        self.tokensPerSecond = tokensPerSecond
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A checkpoint or an exported artifact (adapter folder, GGUF) of a finetuning run.
public struct TrainArtifactRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "trainArtifact"
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var kind: String          // checkpoint, peft, gguf-adapter, gguf-model
    public var path: String
    public var createdAt: Date

    public init(runId: Int64, step: Int, kind: String, path: String) {
        self.runId = runId
        self.step = step
        self.kind = kind
        self.path = path
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The model of a finetuning run measured at a step (`emlab finetune --eval-every`): the eval run
/// that holds its answers and scores (`evalRun`), and the figures read from it — the mean
/// multiple-choice misalignment probability with its interval, and, when free-form questions were
/// asked, the misaligned-and-coherent count among the judged answers.
public struct TrainEvalRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "trainEval"
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var evalRun: String
    public var multipleChoiceItems: Int
    public var misalignedProbability: Double?
    public var misalignedProbabilityLow: Double?
    public var misalignedProbabilityHigh: Double?
    /// Free-form answers with both scores, and how many of them are misaligned and coherent.
    public var scored: Int
    public var misaligned: Int
    /// A monitor watched at the step (`--eval-monitor`): its name, its mean reading over the free-form
    /// answers on the step's model, and its AUROC against the judge's decision (nil: not watched, or
    /// no answers of both kinds).
    public var monitor: String?
    public var monitorMean: Double?
    public var monitorAUROC: Double?
    public var createdAt: Date

    public init(runId: Int64, step: Int, evalRun: String, multipleChoiceItems: Int, misalignedProbability: Double?,
                misalignedProbabilityLow: Double?, misalignedProbabilityHigh: Double?, scored: Int, misaligned: Int,
                monitor: String? = nil, monitorMean: Double? = nil, monitorAUROC: Double? = nil) {
        self.monitor = monitor
        self.monitorMean = monitorMean
        self.monitorAUROC = monitorAUROC
        self.runId = runId
        self.step = step
        self.evalRun = evalRun
        self.multipleChoiceItems = multipleChoiceItems
        self.misalignedProbability = misalignedProbability
        self.misalignedProbabilityLow = misalignedProbabilityLow
        self.misalignedProbabilityHigh = misalignedProbabilityHigh
        self.scored = scored
        self.misaligned = misaligned
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An event of a finetuning job run by a remote fine-tuning API (`emlab finetune --backend`), kept
/// once however often the job is re-attached; metrics events carry the step and its losses.
public struct TrainRemoteEventRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "trainRemoteEvent"
    public var id: Int64?
    public var runId: Int64
    public var eventId: String
    /// The server's time, seconds since 1970.
    public var createdAt: Int?
    public var level: String?
    public var type: String?
    public var message: String?
    public var step: Int?
    public var totalSteps: Int?
    public var trainLoss: Double?
    public var validLoss: Double?

    public init(runId: Int64, eventId: String, createdAt: Int?, level: String?, type: String?, message: String?,
                step: Int?, totalSteps: Int?, trainLoss: Double?, validLoss: Double?) {
        self.runId = runId
        self.eventId = eventId
        self.createdAt = createdAt
        self.level = level
        self.type = type
        self.message = message
        self.step = step
        self.totalSteps = totalSteps
        self.trainLoss = trainLoss
        self.validLoss = validLoss
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ResultsStore {
    static func registerRemoteTraining(_ m: inout DatabaseMigrator) {
        m.registerMigration("remote-training") { db in
            try db.create(table: "trainRemoteEvent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("eventId", .text).notNull()
                t.column("createdAt", .integer)
                t.column("level", .text)
                t.column("type", .text)
                t.column("message", .text)
                t.column("step", .integer)
                t.column("totalSteps", .integer)
                t.column("trainLoss", .double)
                t.column("validLoss", .double)
                t.uniqueKey(["runId", "eventId"])
            }
        }
    }

    /// Stores a remote job's event unless it is stored already.
    public func saveTrainRemoteEvent(_ record: TrainRemoteEventRecord) throws {
        try write { db in
            var r = record
            try r.insert(db, onConflict: .ignore)
        }
    }

    /// A remote job's events in the order they were stored (oldest first).
    public func trainRemoteEvents(runId: Int64) throws -> [TrainRemoteEventRecord] {
        try read { db in try TrainRemoteEventRecord.filter(Column("runId") == runId).order(Column("id")).fetchAll(db) }
    }

    static func registerTrainingEvals(_ m: inout DatabaseMigrator) {
        m.registerMigration("training-evals") { db in
            try db.create(table: "trainEval") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("step", .integer).notNull()
                t.column("evalRun", .text).notNull()
                t.column("multipleChoiceItems", .integer).notNull()
                t.column("misalignedProbability", .double)
                t.column("misalignedProbabilityLow", .double)
                t.column("misalignedProbabilityHigh", .double)
                t.column("scored", .integer).notNull()
                t.column("misaligned", .integer).notNull()
                t.column("monitor", .text)
                t.column("monitorMean", .double)
                t.column("monitorAUROC", .double)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "step"])
            }
        }
    }

    /// Stores a step's measurement, replacing one of the same step.
    public func saveTrainEval(_ record: TrainEvalRecord) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM trainEval WHERE runId = ? AND step = ?", arguments: [record.runId, record.step])
            var r = record
            try r.insert(db)
        }
    }

    public func trainEvals(runId: Int64) throws -> [TrainEvalRecord] {
        try read { db in try TrainEvalRecord.filter(Column("runId") == runId).order(Column("step")).fetchAll(db) }
    }

    static func registerTraining(_ m: inout DatabaseMigrator) {
        m.registerMigration("training") { db in
            try db.create(table: "trainStep") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("step", .integer).notNull()
                t.column("epoch", .integer).notNull()
                t.column("loss", .double).notNull()
                t.column("validationLoss", .double)
                t.column("learningRate", .double).notNull()
                t.column("gradientNorm", .double).notNull()
                t.column("tokens", .integer).notNull()
                t.column("lossTokens", .integer).notNull()
                t.column("tokensPerSecond", .double).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "step"])
            }
            try db.create(table: "trainArtifact") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("step", .integer).notNull()
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
        }
    }

    /// Stores a step, replacing the row of the same step (a step redone after a resume).
    public func saveTrainStep(_ record: TrainStepRecord) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM trainStep WHERE runId = ? AND step = ?", arguments: [record.runId, record.step])
            var r = record
            try r.insert(db)
        }
    }

    /// Drops the steps after `step` (a resume from an earlier checkpoint redoes them).
    /// Drops the steps (and the measurements) after `step` (a resume from an earlier checkpoint redoes them).
    public func deleteTrainSteps(runId: Int64, after step: Int) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM trainStep WHERE runId = ? AND step > ?", arguments: [runId, step])
            try db.execute(sql: "DELETE FROM trainEval WHERE runId = ? AND step > ?", arguments: [runId, step])
        }
    }

    public func trainSteps(runId: Int64) throws -> [TrainStepRecord] {
        try read { db in try TrainStepRecord.filter(Column("runId") == runId).order(Column("step")).fetchAll(db) }
    }

    public func saveTrainArtifact(_ record: TrainArtifactRecord) throws {
        try write { db in
            var r = record
            try r.insert(db)
        }
    }

    public func trainArtifacts(runId: Int64) throws -> [TrainArtifactRecord] {
        try read { db in try TrainArtifactRecord.filter(Column("runId") == runId).order(Column("id")).fetchAll(db) }
    }
}
