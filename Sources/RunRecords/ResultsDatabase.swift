import Foundation

/// Where runs keep what they produce, as the experiments see it. The experiments (evaluation,
/// persona vectors, agents, reward hacking) write and read through this protocol and import this
/// module only; `ResultsStore` (SQLite, one file per results folder) implements it, and the CLI opens
/// one and hands it down.
///
/// The contract every implementation keeps, which resume depends on: each save is durable when it
/// returns; a run is never overwritten; a slot (a sample's key, a judgment's sample, judge and
/// metric) is stored once, and only a failed one is replaced by its retry.
public protocol ResultsDatabase: Sendable {
    // MARK: Runs

    /// Starts run `record.name`, or with `resume` continues it: `StoreError.runExists` when it exists
    /// and `resume` is false, `.runMismatch` when the stored model or kind differ, `.nothingToResume`
    /// when `resume` names no stored run.
    func beginRun(_ record: RunRecord, resume: Bool) throws -> RunRecord
    func finishRun(id: Int64) throws
    /// Every run, oldest first.
    func runs() throws -> [RunRecord]
    /// The run of that name, or `StoreError.noSuchRun` naming the runs there.
    func run(named name: String) throws -> RunRecord

    // MARK: Samples and judgments

    /// Stores a sample; a failed slot (error, no answer) is replaced by its retry, a completed one is
    /// kept and returned.
    @discardableResult func saveSample(_ sample: SampleRecord) throws -> SampleRecord
    /// A run's samples in the order they were stored.
    func samples(runId: Int64) throws -> [SampleRecord]
    /// Records the prompt length of a (condition, question, paraphrase) group once its request returns.
    func setPromptTokens(runId: Int64, condition: String, questionId: String, paraphraseIndex: Int, promptTokens: Int) throws
    /// Stores a judgment; one per (sample, judge, metric). A failed one is replaced by its retry.
    func saveJudgment(_ judgment: JudgmentRecord) throws
    /// A run's judgments in the order they were stored, by every judge or by one.
    func judgments(runId: Int64, judgeSpec: String?) throws -> [JudgmentRecord]
    /// Judges that have scored samples of a run, most used first.
    func judgeSpecs(runId: Int64) throws -> [String]
    /// Removes a run's judgments by one judge (to classify again with `--replace`).
    func deleteJudgments(runId: Int64, judgeSpec: String) throws
    /// Stores an agentic episode in one transaction: its sample (replaced or kept as `saveSample`)
    /// and, when the sample is new or replaced, its tool calls, whose `sampleId` is set here.
    @discardableResult func saveEpisode(_ sample: SampleRecord, calls: [ToolCallRecord]) throws -> SampleRecord
    /// The tool calls of a run's samples, by sample, turn and position.
    func toolCalls(runId: Int64) throws -> [ToolCallRecord]
    /// Stores a projection; one that exists for (sample, monitor, digest) is kept.
    func saveProjection(_ projection: ProjectionRecord) throws
    /// The projections of a run's samples, optionally of one monitor (and vector file) only.
    func projections(runId: Int64, monitor: String?, vectorDigest: String?) throws -> [ProjectionRecord]
    /// Stores a grading, replacing an earlier one of the same sample by the same grader version.
    func saveHackGrade(_ record: HackGradeRecord) throws
    /// The gradings of a run's samples by one grader version, by sample id.
    func hackGrades(runId: Int64, grader: String) throws -> [Int64: HackGradeRecord]

    // MARK: Cached responses and judge validation

    func cachedResponse(key: String) throws -> Data?
    func cacheResponse(key: String, value: Data) throws
    /// A judge's validation figures (JSON) for one version of the gold labels, if measured.
    func validation(judgeSpec: String, labelsDigest: String) throws -> String?
    func saveValidation(judgeSpec: String, labelsDigest: String, figures: String) throws

    // MARK: Training runs

    /// Stores a step, replacing the row of the same step (a step redone after a resume).
    func saveTrainStep(_ record: TrainStepRecord) throws
    /// Drops the steps and the measurements after `step` (a resume from an earlier checkpoint redoes them).
    func deleteTrainSteps(runId: Int64, after step: Int) throws
    func trainSteps(runId: Int64) throws -> [TrainStepRecord]
    func saveTrainArtifact(_ record: TrainArtifactRecord) throws
    func trainArtifacts(runId: Int64) throws -> [TrainArtifactRecord]
    /// Stores a step's measurement, replacing one of the same step.
    func saveTrainEval(_ record: TrainEvalRecord) throws
    func trainEvals(runId: Int64) throws -> [TrainEvalRecord]
    /// Stores a remote job's event unless it is stored already.
    func saveTrainRemoteEvent(_ record: TrainRemoteEventRecord) throws
    /// A remote job's events in the order they were stored (oldest first).
    func trainRemoteEvents(runId: Int64) throws -> [TrainRemoteEventRecord]

    // MARK: SAE training runs

    /// Stores a step, replacing the row of the same step.
    func saveSAEStep(_ record: SAEStepRecord) throws
    /// Drops the steps after `step`.
    func deleteSAESteps(runId: Int64, after step: Int) throws
    func saeSteps(runId: Int64) throws -> [SAEStepRecord]
}

extension ResultsDatabase {
    /// A run's judgments by every judge.
    public func judgments(runId: Int64) throws -> [JudgmentRecord] { try judgments(runId: runId, judgeSpec: nil) }

    /// The projections of a run's samples by every monitor, or by one of any vector file.
    public func projections(runId: Int64, monitor: String? = nil) throws -> [ProjectionRecord] {
        try projections(runId: runId, monitor: monitor, vectorDigest: nil)
    }
}
