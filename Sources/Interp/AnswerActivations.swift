import Core
import LanguageModels

/// Activations of a white-box model for (question, answer) pairs: the answer's residual stream,
/// mean-pooled over its tokens, at chosen layers (concatenated). The features probes read.
public enum AnswerActivations {
    /// Most answer tokens read (longer answers are cut).
    public static let maxAnswerTokens = 384

    public static func features(model: any WhiteBoxModel, question: String, answer: String, layers: [Int]) async throws -> [Float] {
        let recorded = try await model.activations(messages: [.user(question)], answer: answer, captures: captures(layers),
                                                   interventions: [], maxAnswerTokens: maxAnswerTokens)
        return try await pooled(recorded, model: model, question: question, answer: answer, layers: layers)
    }

    /// The features and the answer's token log-probabilities (natural log, empty for an answer of no
    /// tokens), read in one pass where the model can (`WhiteBoxModel.answerReading`).
    public static func reading(model: any WhiteBoxModel, question: String, answer: String, layers: [Int]) async throws
        -> (features: [Float], logProbabilities: [Float]) {
        let (recorded, logProbabilities) = try await model.answerReading(messages: [.user(question)], answer: answer,
                                                                         captures: captures(layers), maxAnswerTokens: maxAnswerTokens)
        return (try await pooled(recorded, model: model, question: question, answer: answer, layers: layers), logProbabilities)
    }

    static func captures(_ layers: [Int]) -> [ActivationCapture] {
        layers.map { ActivationCapture(.residualOut(layer: $0), pooling: .answerMean) }
    }

    /// The layers' answer means, concatenated. An answer of no tokens has no mean: a single space is read instead.
    static func pooled(_ recorded: [CapturedActivations], model: any WhiteBoxModel, question: String, answer: String,
                       layers: [Int]) async throws -> [Float] {
        var recorded = recorded
        if recorded.contains(where: { $0.vectors.isEmpty }) {
            recorded = try await model.activations(messages: [.user(question)], answer: answer + " ", captures: captures(layers),
                                                   interventions: [], maxAnswerTokens: maxAnswerTokens)
        }
        return recorded.flatMap { $0.vectors.first ?? [] }
    }
}
