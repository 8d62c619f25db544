import Foundation
import GRDB

extension ResultsStore {
    /// Agentic runs: every tool call of an episode (a sample) with its result.
    static func registerToolCalls(_ m: inout DatabaseMigrator) {
        m.registerMigration("tool-calls") { db in
            try db.create(table: "toolCall") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("sample", onDelete: .cascade).notNull()
                t.column("turn", .integer).notNull()
                t.column("position", .integer).notNull()
                t.column("callId", .text).notNull()
                t.column("name", .text).notNull()
                t.column("arguments", .text).notNull()
                t.column("result", .text).notNull()
                t.column("status", .text).notNull()               // ok, error, parse_failure
                t.column("effect", .text)                         // JSON: what it changed (an e-mail sent)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["sampleId", "turn", "position"])
            }
        }
    }

    /// Stores an episode in one transaction: its sample (a failed slot is replaced, a completed one
    /// kept, as `saveSample`) and, when the sample is new or replaced, its tool calls. `calls`'
    /// `sampleId` is set here.
    @discardableResult
    public func saveEpisode(_ sample: SampleRecord, calls: [ToolCallRecord]) throws -> SampleRecord {
        try write { db in
            let stored: SampleRecord
            switch try Self.writeSlot(sample, db) {
            case .kept(let existing): return existing
            case .inserted(let s): stored = s
            case .replaced(let s):
                stored = s
                try db.execute(sql: "DELETE FROM toolCall WHERE sampleId = ?", arguments: [s.id])
            }
            for var call in calls {
                call.sampleId = stored.id!
                try call.insert(db)
            }
            return stored
        }
    }

    /// The tool calls of a run's samples, by sample, turn and position.
    public func toolCalls(runId: Int64) throws -> [ToolCallRecord] {
        try read { db in
            try ToolCallRecord.fetchAll(db, sql: """
                SELECT toolCall.* FROM toolCall JOIN sample ON sample.id = toolCall.sampleId
                WHERE sample.runId = ? ORDER BY toolCall.sampleId, toolCall.turn, toolCall.position
                """, arguments: [runId])
        }
    }

    /// Removes a run's judgments by one judge (to classify again with `--replace`).
    public func deleteJudgments(runId: Int64, judgeSpec: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM judgment WHERE judgeSpec = ? AND sampleId IN (SELECT id FROM sample WHERE runId = ?)",
                           arguments: [judgeSpec, runId])
        }
    }
}
