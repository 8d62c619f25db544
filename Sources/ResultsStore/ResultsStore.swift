import Foundation
import GRDB
@_exported import RunRecords

/// The results of every run in one folder: `DIR/emlab.sqlite` (SQLite in WAL mode).
///
/// Each sample and each judgment is committed the moment it exists, so a killed run loses at most
/// the answers that were still being generated. Rows are keyed so that a resumed run can never
/// store a sample or a judgment twice. The experiments see it as a `ResultsDatabase`; it re-exports
/// `RunRecords`, the records and that protocol.
public final class ResultsStore: ResultsDatabase {
    public let folder: URL
    public let databaseURL: URL
    let pool: DatabasePool

    public static let fileName = "emlab.sqlite"

    public init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        databaseURL = folder.appendingPathComponent(Self.fileName)
        var config = Configuration()
        config.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: databaseURL.path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.database(path: databaseURL.path, error)
        }
    }

    /// Opens an existing results folder (for export, report, judge): an error if there is none.
    public static func existing(folder: URL) throws -> ResultsStore {
        let db = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: db.path) else { throw StoreError.noDatabase(path: db.path) }
        return try ResultsStore(folder: folder)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .text).notNull()                 // eval, icl
                t.column("status", .text).notNull()               // running, finished
                t.column("createdAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.column("modelSpec", .text).notNull()
                t.column("modelResolved", .text).notNull()
                t.column("judgeSpec", .text).notNull()
                t.column("judgeResolved", .text).notNull()
                t.column("toolVersion", .text).notNull()
                t.column("parameters", .text).notNull()           // JSON: every parameter of the run
                t.column("questions", .text).notNull()            // JSON: the question set as loaded
            }
            try db.create(table: "sample") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("condition", .text).notNull().defaults(to: "")   // e.g. an ICL k and draw
                t.column("questionId", .text).notNull()
                t.column("paraphraseIndex", .integer).notNull()
                t.column("sampleIndex", .integer).notNull()
                t.column("system", .text)
                t.column("prompt", .text).notNull()
                t.column("messages", .text).notNull()             // JSON: the full conversation sent
                t.column("answer", .text)                         // nil while failed
                t.column("reasoning", .text)
                t.column("finishReason", .text)
                t.column("promptTokens", .integer).notNull().defaults(to: 0)
                t.column("completionTokens", .integer).notNull().defaults(to: 0)
                t.column("seed", .integer).notNull()
                t.column("stream", .integer).notNull()
                t.column("error", .text)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "condition", "questionId", "paraphraseIndex", "sampleIndex"])
            }
            try db.create(table: "judgment") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("sample", onDelete: .cascade).notNull()
                t.column("judgeSpec", .text).notNull()
                t.column("metric", .text).notNull()
                t.column("score", .double)
                t.column("label", .text)
                t.column("method", .text).notNull()
                t.column("raw", .text).notNull()
                t.column("error", .text)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["sampleId", "judgeSpec", "metric"])
            }
            try db.create(table: "responseCache") { t in
                t.primaryKey("key", .text)
                t.column("value", .blob).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "judgeValidation") { t in
                t.primaryKey("judgeSpec", .text)
                t.column("labelsDigest", .text).notNull()
                t.column("figures", .text).notNull()              // JSON
                t.column("createdAt", .datetime).notNull()
            }
        }
        registerTraining(&m)
        registerToolCalls(&m)
        registerProjections(&m)
        registerSAE(&m)
        registerHack(&m)
        registerTrainingEvals(&m)
        registerRemoteTraining(&m)
        return m
    }
}
