import Foundation

/// One optimizer step of a finetuning run (`emlab finetune`; the run itself is a `run` row of kind
/// `finetune` whose parameters hold the settings and the dataset digest). A step redone after a
/// resume replaces the row it had.
public struct TrainStepRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var validationLoss: Double?
    public var learningRate: Double
    public var gradientNorm: Double
    public var tokens: Int
    public var lossTokens: Int
    public var tokensPerSecond: Double
    public var createdAt: Date

    public init(runId: Int64, step: Int, epoch: Int, loss: Double, validationLoss: Double?, learningRate: Double,
                gradientNorm: Double, tokens: Int, lossTokens: Int, tokensPerSecond: Double) {
        self.runId = runId
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokens = tokens
        self.lossTokens = lossTokens
        self.tokensPerSecond = tokensPerSecond
        self.createdAt = Date()
    }
}

/// A checkpoint or an exported artifact (adapter folder, GGUF) of a finetuning run.
public struct TrainArtifactRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var kind: String          // checkpoint, peft, gguf-adapter, gguf-model
    public var path: String
    public var createdAt: Date

    public init(runId: Int64, step: Int, kind: String, path: String) {
        self.runId = runId
        self.step = step
        self.kind = kind
        self.path = path
        self.createdAt = Date()
    }
}

/// The model of a finetuning run measured at a step (`emlab finetune --eval-every`): the eval run
/// that holds its answers and scores (`evalRun`), and the figures read from it — the mean
/// multiple-choice misalignment probability with its interval, and, when free-form questions were
/// asked, the misaligned-and-coherent count among the judged answers.
public struct TrainEvalRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var evalRun: String
    public var multipleChoiceItems: Int
    public var misalignedProbability: Double?
    public var misalignedProbabilityLow: Double?
    public var misalignedProbabilityHigh: Double?
    /// Free-form answers with both scores, and how many of them are misaligned and coherent.
    public var scored: Int
    public var misaligned: Int
    /// A monitor watched at the step (`--eval-monitor`): its name, its mean reading over the free-form
    /// answers on the step's model, and its AUROC against the judge's decision (nil: not watched, or
    /// no answers of both kinds).
    public var monitor: String?
    public var monitorMean: Double?
    public var monitorAUROC: Double?
    public var createdAt: Date

    public init(runId: Int64, step: Int, evalRun: String, multipleChoiceItems: Int, misalignedProbability: Double?,
                misalignedProbabilityLow: Double?, misalignedProbabilityHigh: Double?, scored: Int, misaligned: Int,
                monitor: String? = nil, monitorMean: Double? = nil, monitorAUROC: Double? = nil) {
        self.monitor = monitor
        self.monitorMean = monitorMean
        self.monitorAUROC = monitorAUROC
        self.runId = runId
        self.step = step
        self.evalRun = evalRun
        self.multipleChoiceItems = multipleChoiceItems
        self.misalignedProbability = misalignedProbability
        self.misalignedProbabilityLow = misalignedProbabilityLow
        self.misalignedProbabilityHigh = misalignedProbabilityHigh
        self.scored = scored
        self.misaligned = misaligned
        self.createdAt = Date()
    }
}

/// An event of a finetuning job run by a remote fine-tuning API (`emlab finetune --backend`), kept
/// once however often the job is re-attached; metrics events carry the step and its losses.
public struct TrainRemoteEventRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var eventId: String
    /// The server's time, seconds since 1970.
    public var createdAt: Int?
    public var level: String?
    public var type: String?
    public var message: String?
    public var step: Int?
    public var totalSteps: Int?
    public var trainLoss: Double?
    public var validLoss: Double?

    public init(runId: Int64, eventId: String, createdAt: Int?, level: String?, type: String?, message: String?,
                step: Int?, totalSteps: Int?, trainLoss: Double?, validLoss: Double?) {
        self.runId = runId
        self.eventId = eventId
        self.createdAt = createdAt
        self.level = level
        self.type = type
        self.message = message
        self.step = step
        self.totalSteps = totalSteps
        self.trainLoss = trainLoss
        self.validLoss = validLoss
    }
}
