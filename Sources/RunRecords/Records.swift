import Foundation

public struct RunRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var name: String
    public var kind: String
    public var status: String
    public var createdAt: Date
    public var finishedAt: Date?
    public var modelSpec: String
    public var modelResolved: String
    public var judgeSpec: String
    public var judgeResolved: String
    public var toolVersion: String
    public var parameters: String
    public var questions: String

    public init(name: String, kind: String, modelSpec: String, modelResolved: String, judgeSpec: String,
                judgeResolved: String, toolVersion: String, parameters: String, questions: String) {
        self.name = name
        self.kind = kind
        self.status = "running"
        self.createdAt = Date()
        self.modelSpec = modelSpec
        self.modelResolved = modelResolved
        self.judgeSpec = judgeSpec
        self.judgeResolved = judgeResolved
        self.toolVersion = toolVersion
        self.parameters = parameters
        self.questions = questions
    }
}

public struct SampleRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var condition: String
    public var questionId: String
    public var paraphraseIndex: Int
    public var sampleIndex: Int
    public var system: String?
    public var prompt: String
    public var messages: String
    public var answer: String?
    public var reasoning: String?
    public var finishReason: String?
    public var promptTokens: Int
    public var completionTokens: Int
    public var seed: Int64
    public var stream: Int
    public var error: String?
    public var createdAt: Date

    public init(runId: Int64, condition: String = "", questionId: String, paraphraseIndex: Int, sampleIndex: Int,
                system: String?, prompt: String, messages: String, answer: String?, reasoning: String? = nil,
                finishReason: String?, promptTokens: Int, completionTokens: Int, seed: UInt64, stream: Int,
                error: String?) {
        self.runId = runId
        self.condition = condition
        self.questionId = questionId
        self.paraphraseIndex = paraphraseIndex
        self.sampleIndex = sampleIndex
        self.system = system
        self.prompt = prompt
        self.messages = messages
        self.answer = answer
        self.reasoning = reasoning
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.seed = Int64(bitPattern: seed)
        self.stream = stream
        self.error = error
        self.createdAt = Date()
    }

    /// The slot a sample fills in its run; unique.
    public struct Key: Hashable, Sendable {
        public var condition: String
        public var questionId: String
        public var paraphraseIndex: Int
        public var sampleIndex: Int
        public init(condition: String = "", questionId: String, paraphraseIndex: Int, sampleIndex: Int) {
            self.condition = condition
            self.questionId = questionId
            self.paraphraseIndex = paraphraseIndex
            self.sampleIndex = sampleIndex
        }
    }
    public var key: Key { Key(condition: condition, questionId: questionId, paraphraseIndex: paraphraseIndex, sampleIndex: sampleIndex) }
}

public struct JudgmentRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var sampleId: Int64
    public var judgeSpec: String
    public var metric: String
    public var score: Double?
    public var label: String?
    public var method: String
    public var raw: String
    public var error: String?
    public var createdAt: Date

    public init(sampleId: Int64, judgeSpec: String, metric: String, score: Double?, label: String?, method: String,
                raw: String, error: String?) {
        self.sampleId = sampleId
        self.judgeSpec = judgeSpec
        self.metric = metric
        self.score = score
        self.label = label
        self.method = method
        self.raw = raw
        self.error = error
        self.createdAt = Date()
    }
}
