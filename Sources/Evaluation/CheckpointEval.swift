import Core
import Foundation
import LanguageModels
import ResultsStore

/// Measures a finetuning run's model as it trains (`emlab finetune --eval-every N`): at each due step
/// the built-in multiple-choice items (the probability the model puts on the misaligned options), and
/// optionally free-form questions sampled and judged, as an eval run of its own named
/// `TRAINRUN@step-N` (kind `checkpoint-eval`), with the figures read from it kept beside the training
/// steps (`TrainEvalRecord`). A step measured already is not measured again, and a measurement a kill
/// interrupted resumes where it stopped.
public final class CheckpointEvaluator: Sendable {
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

    public let store: ResultsStore
    public let opener: ModelOpener
    public let trainRunId: Int64
    public let trainRun: String
    /// Judges the free-form answers; the same judge at every step (nil without free-form questions).
    public let judge: (any Judge)?
    public let questions: QuestionSet
    public let parameters: EvalParameters
    public let progress: (any ProgressReporter)?

    /// `judge` is required when `settings.freeForm` is set: the finetuned model does not judge itself.
    public init(store: ResultsStore, opener: ModelOpener, trainRunId: Int64, trainRun: String, judge: (any Judge)?,
                settings: Settings, progress: (any ProgressReporter)? = nil) throws {
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
        self.store = store
        self.opener = opener
        self.trainRunId = trainRunId
        self.trainRun = trainRun
        self.judge = judge
        self.progress = progress
    }

    public static func evalRunName(trainRun: String, step: Int) -> String { "\(trainRun)@step-\(step)" }

    /// The figures of `model` (the training run's model at `step`), measured unless stored already.
    @discardableResult
    public func measure(step: Int, model spec: ModelSpec) async throws -> TrainEvalRecord {
        if let done = try store.trainEvals(runId: trainRunId).first(where: { $0.step == step }) { return done }
        let model = try opener.open(spec)
        let name = Self.evalRunName(trainRun: trainRun, step: step)
        let runner = EvalRunner(store: store, model: model, judge: judge ?? ModelJudge(model: model), questions: questions,
                                parameters: parameters, progress: progress)
        let started = try store.runs().contains { $0.name == name }
        try await runner.run(name: name, kind: "checkpoint-eval", resume: started)
        let summary = try RunResults(store: store, name: name).summary()
        let record = TrainEvalRecord(runId: trainRunId, step: step, evalRun: name, multipleChoiceItems: summary.multipleChoiceItems,
                                     misalignedProbability: summary.meanMisalignedProbability,
                                     misalignedProbabilityLow: summary.misalignedProbabilityInterval?[0],
                                     misalignedProbabilityHigh: summary.misalignedProbabilityInterval?[1],
                                     scored: summary.scored, misaligned: summary.misaligned)
        try store.saveTrainEval(record)
        return record
    }
}
