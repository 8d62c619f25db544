import Foundation
import GRDB

/// The grading of one sampled solution of a reward-hacking run (`emlab hack run`; the run is a `run`
/// row of kind `hack`, its samples `sample` rows whose `questionId` is the task and `condition` the
/// hint condition). One row per (sample, grader version): grading again with other graders or
/// detectors adds rows beside the old ones instead of replacing them.
public struct HackGradeRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord, Equatable {
    public static let databaseTableName = "hackGrade"
    public var id: Int64?
    public var sampleId: Int64
    /// Which graders and detectors gave this row (their version string).
    public var grader: String
    /// The answer held code at all.
    public var hasCode: Bool
    public var hackablePassed: Bool
    public var hardenedPassed: Bool
    public var casesPassed: Int
    public var casesTotal: Int
    /// The static detector's hack types, comma-separated, empty for none.
    public var staticTypes: String
    /// The verdict's type ("unknown" when only the dynamic signal fired), nil: no hack.
    public var hackType: String?
    /// The solution's files as JSON (name → text), and the detectors' findings, one per line.
    public var files: String
    public var findings: String
    public var createdAt: Date

    public init(sampleId: Int64, grader: String, hasCode: Bool, hackablePassed: Bool, hardenedPassed: Bool, casesPassed: Int,
                casesTotal: Int, staticTypes: String, hackType: String?, files: String, findings: String) {
        self.sampleId = sampleId
        self.grader = grader
        self.hasCode = hasCode
        self.hackablePassed = hackablePassed
        self.hardenedPassed = hardenedPassed
        self.casesPassed = casesPassed
        self.casesTotal = casesTotal
        self.staticTypes = staticTypes
        self.hackType = hackType
        self.files = files
        self.findings = findings
        self.createdAt = Date()
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

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
