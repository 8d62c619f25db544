import Foundation
import GRDB

// The records are value types of `RunRecords`; here they become rows of the store's tables. Each
// table's schema is in the migration that created it.

extension RunRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension SampleRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "sample"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension JudgmentRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "judgment"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension TrainStepRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trainStep"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension TrainArtifactRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trainArtifact"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension TrainEvalRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trainEval"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension TrainRemoteEventRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trainRemoteEvent"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ToolCallRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "toolCall"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension HackGradeRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "hackGrade"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension SAEStepRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "saeStep"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension ProjectionRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "projection"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
