import Foundation
import GRDB

/// A sample's activation projected on a direction (`emlab monitor`), stored beside its judgments:
/// one per (sample, monitor), where `monitor` names the vector file, layer and position read.
public struct ProjectionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "projection"
    public var id: Int64?
    public var sampleId: Int64
    /// e.g. `misaligned.safetensors@15/answer-mean`; the same name always means the same reading.
    public var monitor: String
    /// The vector file's sha256 (a file rewritten under the same name is another monitor).
    public var vectorDigest: String
    public var value: Double
    public var createdAt: Date

    public init(sampleId: Int64, monitor: String, vectorDigest: String, value: Double) {
        self.sampleId = sampleId
        self.monitor = monitor
        self.vectorDigest = vectorDigest
        self.value = value
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

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
    public func saveProjection(_ p: ProjectionRecord) throws {
        try write { db in
            let exists = try ProjectionRecord.filter(Column("sampleId") == p.sampleId && Column("monitor") == p.monitor
                                                     && Column("vectorDigest") == p.vectorDigest).fetchCount(db) > 0
            guard !exists else { return }
            var r = p
            try r.insert(db)
        }
    }

    /// The projections of a run's samples, optionally of one monitor only.
    public func projections(runId: Int64, monitor: String? = nil, vectorDigest: String? = nil) throws -> [ProjectionRecord] {
        try read { db in
            var sql = "SELECT projection.* FROM projection JOIN sample ON sample.id = projection.sampleId WHERE sample.runId = ?"
            var args: [any DatabaseValueConvertible] = [runId]
            if let monitor { sql += " AND projection.monitor = ?"; args.append(monitor) }
            if let vectorDigest { sql += " AND projection.vectorDigest = ?"; args.append(vectorDigest) }
            return try ProjectionRecord.fetchAll(db, sql: sql + " ORDER BY projection.id", arguments: StatementArguments(args))
        }
    }
}
