import Foundation
import GRDB

extension ResultsStore {
    static func registerHack(_ m: inout DatabaseMigrator) {
        m.registerMigration("hack") { db in
            try db.create(table: "hackGrade") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("sample", onDelete: .cascade).notNull()
                t.column("grader", .text).notNull()
                t.column("hasCode", .boolean).notNull()
                t.column("hackablePassed", .boolean).notNull()
                t.column("hardenedPassed", .boolean).notNull()
                t.column("casesPassed", .integer).notNull()
                t.column("casesTotal", .integer).notNull()
                t.column("staticTypes", .text).notNull()
                t.column("hackType", .text)
                t.column("files", .text).notNull()
                t.column("findings", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["sampleId", "grader"])
            }
        }
    }

    /// Stores a grading, replacing an earlier one of the same sample by the same grader version.
    public func saveHackGrade(_ record: HackGradeRecord) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM hackGrade WHERE sampleId = ? AND grader = ?", arguments: [record.sampleId, record.grader])
            var r = record
            try r.insert(db)
        }
    }

    /// The gradings of a run's samples by one grader version, by sample id.
    public func hackGrades(runId: Int64, grader: String) throws -> [Int64: HackGradeRecord] {
        let rows = try read { db in
            try HackGradeRecord.fetchAll(db, sql: """
                SELECT hackGrade.* FROM hackGrade JOIN sample ON sample.id = hackGrade.sampleId
                WHERE sample.runId = ? AND hackGrade.grader = ?
                """, arguments: [runId, grader])
        }
        return Dictionary(rows.map { ($0.sampleId, $0) }, uniquingKeysWith: { _, b in b })
    }
}
