import Foundation
import GRDB

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
