import Foundation
import GRDB

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
