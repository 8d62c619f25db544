import Foundation
import GRDB

/// One step of an SAE training run (`emlab sae train`; the run is a `run` row of kind `sae` whose
/// parameters hold the settings). Held-out figures are filled at evaluation steps. A step redone
/// after a resume replaces the row it had.
public struct SAEStepRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "saeStep"
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var fvu: Double
    public var l0: Double
    public var deadFraction: Double
    public var auxiliaryLoss: Double
    public var heldOutFVU: Double?
    public var heldOutL0: Double?
    public var vectorsPerSecond: Double
    public var createdAt: Date

    public init(runId: Int64, step: Int, fvu: Double, l0: Double, deadFraction: Double, auxiliaryLoss: Double,
                heldOutFVU: Double?, heldOutL0: Double?, vectorsPerSecond: Double) {
        self.runId = runId
        self.step = step
        self.fvu = fvu
        self.l0 = l0
        self.deadFraction = deadFraction
        self.auxiliaryLoss = auxiliaryLoss
        self.heldOutFVU = heldOutFVU
        self.heldOutL0 = heldOutL0
        self.vectorsPerSecond = vectorsPerSecond
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ResultsStore {
    static func registerSAE(_ m: inout DatabaseMigrator) {
        m.registerMigration("sae") { db in
            try db.create(table: "saeStep") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("step", .integer).notNull()
                t.column("fvu", .double).notNull()
                t.column("l0", .double).notNull()
                t.column("deadFraction", .double).notNull()
                t.column("auxiliaryLoss", .double).notNull()
                t.column("heldOutFVU", .double)
                t.column("heldOutL0", .double)
                t.column("vectorsPerSecond", .double).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "step"])
            }
        }
    }

    /// Stores a step, replacing the row of the same step (a step redone after a resume).
    public func saveSAEStep(_ record: SAEStepRecord) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM saeStep WHERE runId = ? AND step = ?", arguments: [record.runId, record.step])
            var r = record
            try r.insert(db)
        }
    }

    /// Drops the steps after `step` (a resume from an earlier checkpoint redoes them).
    public func deleteSAESteps(runId: Int64, after step: Int) throws {
        try write { db in try db.execute(sql: "DELETE FROM saeStep WHERE runId = ? AND step > ?", arguments: [runId, step]) }
    }

    public func saeSteps(runId: Int64) throws -> [SAEStepRecord] {
        try read { db in try SAEStepRecord.filter(Column("runId") == runId).order(Column("step")).fetchAll(db) }
    }
}
