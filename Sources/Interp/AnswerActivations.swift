import Core
import LanguageModels

/// Activations of a white-box model for (question, answer) pairs: the answer's residual stream,
/// mean-pooled over its tokens, at chosen layers (concatenated). The features probes read.
public enum AnswerActivations {
    /// Most answer tokens read (longer answers are cut).
    public static let maxAnswerTokens = 384

    public static func features(model: any WhiteBoxModel, question: String, answer: String, layers: [Int]) async throws -> [Float] {
        let captures = layers.map { ActivationCapture(.residualOut(layer: $0), pooling: .answerMean) }
        var recorded = try await model.activations(messages: [.user(question)], answer: answer, captures: captures,
                                                   interventions: [], maxAnswerTokens: maxAnswerTokens)
        // An answer of no tokens has no mean: read a single space instead.
        if recorded.contains(where: { $0.vectors.isEmpty }) {
            recorded = try await model.activations(messages: [.user(question)], answer: answer + " ", captures: captures,
                                                   interventions: [], maxAnswerTokens: maxAnswerTokens)
        }
        return recorded.flatMap { $0.vectors.first ?? [] }
    }
}
