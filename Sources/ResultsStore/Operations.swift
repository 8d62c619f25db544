import Foundation
import GRDB

extension ResultsStore {
    // MARK: Runs

    /// Starts run `record.name`, or with `resume` continues it. A run that exists is never overwritten;
    /// one that does not exist cannot be resumed (`StoreError.nothingToResume`, naming the runs there).
    public func beginRun(_ record: RunRecord, resume: Bool) throws -> RunRecord {
        try write { db in
            if var existing = try RunRecord.filter(Column("name") == record.name).fetchOne(db) {
                guard resume else { throw StoreError.runExists(name: record.name, status: existing.status) }
                for (field, stored, requested) in [("the model", existing.modelSpec, record.modelSpec),
                                                   ("the kind", existing.kind, record.kind)] where stored != requested {
                    throw StoreError.runMismatch(name: record.name, field: field, stored: stored, requested: requested)
                }
                existing.status = "running"
                existing.finishedAt = nil
                try existing.update(db)
                return existing
            }
            if resume {
                let names = try RunRecord.order(Column("id")).fetchAll(db).map(\.name)
                throw StoreError.nothingToResume(name: record.name, folder: folder.path, available: names)
            }
            var r = record
            try r.insert(db)
            return r
        }
    }

    public func finishRun(id: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET status = 'finished', finishedAt = ? WHERE id = ?", arguments: [Date(), id])
        }
    }

    public func runs() throws -> [RunRecord] {
        try read { db in try RunRecord.order(Column("id")).fetchAll(db) }
    }

    public func run(named name: String) throws -> RunRecord {
        if let r = try read({ db in try RunRecord.filter(Column("name") == name).fetchOne(db) }) { return r }
        throw StoreError.noSuchRun(name: name, available: try runs().map(\.name))
    }

    // MARK: Samples

    /// Stores a sample; a failed slot (error, no answer) is replaced by its retry, a completed one is kept.
    @discardableResult
    public func saveSample(_ sample: SampleRecord) throws -> SampleRecord {
        try write { db in try Self.writeSlot(sample, db).record }
    }

    /// What `writeSlot` did with a sample's slot.
    enum SlotWrite {
        /// The slot held an answer: the stored sample, unchanged.
        case kept(SampleRecord)
        /// The sample, inserted into an empty slot.
        case inserted(SampleRecord)
        /// The sample, written over the slot's failed one (no answer) under its id.
        case replaced(SampleRecord)

        var record: SampleRecord {
            switch self { case .kept(let r), .inserted(let r), .replaced(let r): r }
        }
    }

    /// Writes `sample` into its slot (run, condition, question, paraphrase, sample index) in `db`,
    /// unless the slot already holds an answer: a completed sample is never overwritten.
    static func writeSlot(_ sample: SampleRecord, _ db: Database) throws -> SlotWrite {
        var stored = sample
        if let existing = try SampleRecord
            .filter(Column("runId") == sample.runId && Column("condition") == sample.condition
                    && Column("questionId") == sample.questionId && Column("paraphraseIndex") == sample.paraphraseIndex
                    && Column("sampleIndex") == sample.sampleIndex).fetchOne(db) {
            guard existing.answer == nil else { return .kept(existing) }
            stored.id = existing.id
            try stored.update(db)
            return .replaced(stored)
        }
        try stored.insert(db)
        return .inserted(stored)
    }

    public func samples(runId: Int64) throws -> [SampleRecord] {
        try read { db in try SampleRecord.filter(Column("runId") == runId).order(Column("id")).fetchAll(db) }
    }

    // MARK: Judgments

    /// Stores a judgment; one per (sample, judge, metric). A failed one is replaced by its retry.
    public func saveJudgment(_ judgment: JudgmentRecord) throws {
        try write { db in
            if var existing = try JudgmentRecord
                .filter(Column("sampleId") == judgment.sampleId && Column("judgeSpec") == judgment.judgeSpec
                        && Column("metric") == judgment.metric).fetchOne(db) {
                guard existing.error != nil else { return }
                let id = existing.id
                existing = judgment
                existing.id = id
                try existing.update(db)
                return
            }
            var j = judgment
            try j.insert(db)
        }
    }

    public func judgments(runId: Int64, judgeSpec: String?) throws -> [JudgmentRecord] {
        try read { db in
            var sql = "SELECT judgment.* FROM judgment JOIN sample ON sample.id = judgment.sampleId WHERE sample.runId = ?"
            var args: [any DatabaseValueConvertible] = [runId]
            if let judgeSpec {
                sql += " AND judgment.judgeSpec = ?"
                args.append(judgeSpec)
            }
            return try JudgmentRecord.fetchAll(db, sql: sql + " ORDER BY judgment.id", arguments: StatementArguments(args))
        }
    }

    /// Judges that have scored samples of a run, most used first.
    public func judgeSpecs(runId: Int64) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT judgment.judgeSpec FROM judgment JOIN sample ON sample.id = judgment.sampleId
                WHERE sample.runId = ? GROUP BY judgment.judgeSpec ORDER BY COUNT(*) DESC
                """, arguments: [runId])
        }
    }

    // MARK: Response cache

    public func cachedResponse(key: String) throws -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT value FROM responseCache WHERE key = ?", arguments: [key]) }
    }

    public func cacheResponse(key: String, value: Data) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO responseCache (key, value, createdAt) VALUES (?, ?, ?)",
                           arguments: [key, value, Date()])
        }
    }

    // MARK: Judge validation

    public func validation(judgeSpec: String, labelsDigest: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT figures FROM judgeValidation WHERE judgeSpec = ? AND labelsDigest = ?",
                                arguments: [judgeSpec, labelsDigest])
        }
    }

    public func saveValidation(judgeSpec: String, labelsDigest: String, figures: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO judgeValidation (judgeSpec, labelsDigest, figures, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [judgeSpec, labelsDigest, figures, Date()])
        }
    }

    // MARK: Access

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as StoreError { throw e } catch {
            throw StoreError.database(path: databaseURL.path, error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as StoreError { throw e } catch {
            throw StoreError.database(path: databaseURL.path, error)
        }
    }
}

extension ResultsStore {
    /// Records the prompt length of a (condition, question, paraphrase) group once its request returns.
    public func setPromptTokens(runId: Int64, condition: String, questionId: String, paraphraseIndex: Int, promptTokens: Int) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE sample SET promptTokens = ? WHERE runId = ? AND condition = ? AND questionId = ? AND paraphraseIndex = ?
                AND answer IS NOT NULL AND promptTokens = 0
                """, arguments: [promptTokens, runId, condition, questionId, paraphraseIndex])
        }
    }
}
