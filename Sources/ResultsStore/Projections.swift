import Foundation
import GRDB

extension ResultsStore {
    static func registerProjections(_ m: inout DatabaseMigrator) {
        m.registerMigration("projection") { db in
            try db.create(table: "projection") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("sample", onDelete: .cascade).notNull()
                t.column("monitor", .text).notNull()
                t.column("vectorDigest", .text).notNull()
                t.column("value", .double).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["sampleId", "monitor", "vectorDigest"])
            }
        }
    }

    /// Stores a projection; one that exists for (sample, monitor, digest) is kept.
    public func saveProjection(_ projection: ProjectionRecord) throws {
        try write { db in
            let exists = try ProjectionRecord.filter(Column("sampleId") == projection.sampleId && Column("monitor") == projection.monitor
                                                     && Column("vectorDigest") == projection.vectorDigest).fetchCount(db) > 0
            guard !exists else { return }
            var r = projection
            try r.insert(db)
        }
    }

    /// The projections of a run's samples, optionally of one monitor only.
    public func projections(runId: Int64, monitor: String?, vectorDigest: String?) throws -> [ProjectionRecord] {
        try read { db in
            var sql = "SELECT projection.* FROM projection JOIN sample ON sample.id = projection.sampleId WHERE sample.runId = ?"
            var args: [any DatabaseValueConvertible] = [runId]
            if let monitor { sql += " AND projection.monitor = ?"; args.append(monitor) }
            if let vectorDigest { sql += " AND projection.vectorDigest = ?"; args.append(vectorDigest) }
            return try ProjectionRecord.fetchAll(db, sql: sql + " ORDER BY projection.id", arguments: StatementArguments(args))
        }
    }
}
