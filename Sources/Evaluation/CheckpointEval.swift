import Core
import Foundation
import LanguageModels
import RunRecords

/// The misalignment of a model as it is trained: the built-in multiple-choice items (the probability
/// the model puts on the misaligned options), and optionally free-form questions sampled and judged
/// by a judge that stays the same from one model to the next. Each measurement is an eval run of its
/// own (stored, resumable: a measurement a kill interrupted resumes where it stopped).
public struct MisalignmentMeasurement: Sendable {
    public struct Settings: Sendable {
        /// Free-form questions asked besides the multiple-choice items (nil: none).
        public var freeForm: QuestionSet?
        /// Samples per free-form question, spread over its paraphrases.
        public var samples = 1
        public var maxTokens = 200
        public var temperature: Double?
        public var seed: UInt64 = 0
        public var thresholds = Thresholds()
        public init() {}
    }

    /// Judges the free-form answers (nil without free-form questions).
    public let judge: (any Judge)?
    public let questions: QuestionSet
    public let parameters: EvalParameters
    public let progress: (any ProgressReporter)?

    /// `judge` is required when `settings.freeForm` is set: the model measured does not judge itself.
    public init(judge: (any Judge)?, settings: Settings, progress: (any ProgressReporter)? = nil) throws {
        precondition(settings.freeForm == nil || judge != nil, "free-form questions need a judge")
        var questions = try BuiltinQuestions.load(named: "multiple-choice")
        if let free = settings.freeForm {
            let items = free.questions.filter { $0.kind != .multipleChoice }
            let taken = Set(questions.questions.map(\.id))
            if let clash = items.first(where: { taken.contains($0.id) }) {
                throw QuestionSetError(file: free.name, field: "id", "question '\(clash.id)' has the id of a built-in multiple-choice item")
            }
            questions = QuestionSet(name: "multiple-choice+\(free.name)", questions: questions.questions + items)
        }
        self.questions = questions
        self.parameters = EvalParameters(samples: settings.freeForm == nil ? nil : settings.samples, temperature: settings.temperature,
                                         maxTokens: settings.maxTokens, seed: settings.seed, thresholds: settings.thresholds,
                                         questionSet: questions.name)
        self.judge = judge
        self.progress = progress
    }

    /// Measures `model` as eval run `name` (kind `checkpoint-eval`), or finishes that run if it exists.
    public func run(store: any ResultsDatabase, model: any LanguageModel, name: String) async throws -> MeasuredMisalignment {
        let runner = EvalRunner(store: store, model: model, judge: judge ?? ModelJudge(model: model), questions: questions,
                                parameters: parameters, progress: progress)
        let started = try store.runs().contains { $0.name == name }
        try await runner.run(name: name, kind: "checkpoint-eval", resume: started)
        let s = try RunResults(store: store, name: name).summary()
        return MeasuredMisalignment(run: name, multipleChoiceItems: s.multipleChoiceItems, misalignedProbability: s.meanMisalignedProbability,
                                    interval: s.misalignedProbabilityInterval, scored: s.scored, misaligned: s.misaligned)
    }
}

/// What one measurement found: the eval run holding it, the mean multiple-choice misalignment
/// probability with its 95 % interval, and the free-form answers judged misaligned and coherent.
public struct MeasuredMisalignment: Sendable, Equatable {
    public var run: String
    public var multipleChoiceItems: Int
    public var misalignedProbability: Double?
    public var interval: [Double]?
    /// Free-form answers with both scores, and how many are misaligned and coherent.
    public var scored: Int
    public var misaligned: Int
}

/// `emlab finetune --eval-every N`: the training run's model measured at each due step as eval run
/// `TRAINRUN@step-N`, with the figures kept beside the training steps (`TrainEvalRecord`). A step
/// measured already is not measured again.
public final class CheckpointEvaluator: Sendable {
    public let store: any ResultsDatabase
    public let opener: ModelOpener
    public let trainRunId: Int64
    public let trainRun: String
    public let measurement: MisalignmentMeasurement
    /// A monitor watched on each measurement: given the eval run and the step's model, its name, mean
    /// reading over the free-form answers and AUROC against the judge (nil result: nothing to read).
    public typealias Watch = @Sendable (_ evalRun: String, _ model: ModelSpec) async throws -> (name: String, mean: Double, auroc: Double?)?
    public let watch: Watch?

    public init(store: any ResultsDatabase, opener: ModelOpener, trainRunId: Int64, trainRun: String, measurement: MisalignmentMeasurement,
                watch: Watch? = nil) {
        self.watch = watch
        self.store = store
        self.opener = opener
        self.trainRunId = trainRunId
        self.trainRun = trainRun
        self.measurement = measurement
    }

    public static func evalRunName(trainRun: String, step: Int) -> String { "\(trainRun)@step-\(step)" }

    /// The figures of `model` (the training run's model at `step`), measured unless stored already.
    @discardableResult
    public func measure(step: Int, model spec: ModelSpec) async throws -> TrainEvalRecord {
        if let done = try store.trainEvals(runId: trainRunId).first(where: { $0.step == step }) { return done }
        let name = Self.evalRunName(trainRun: trainRun, step: step)
        let m = try await measurement.run(store: store, model: try opener.open(spec), name: name)
        let watched = try await watch?(name, spec)
        let record = TrainEvalRecord(runId: trainRunId, step: step, evalRun: name, multipleChoiceItems: m.multipleChoiceItems,
                                     misalignedProbability: m.misalignedProbability, misalignedProbabilityLow: m.interval?[0],
                                     misalignedProbabilityHigh: m.interval?[1], scored: m.scored, misaligned: m.misaligned,
                                     monitor: watched?.name, monitorMean: watched?.mean, monitorAUROC: watched?.auroc)
        try store.saveTrainEval(record)
        return record
    }
}
