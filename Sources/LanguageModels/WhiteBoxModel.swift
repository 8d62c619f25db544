import Core

/// A model whose activations can be read and edited: the embedded engine. Everything above the model
/// layer (probes, persona vectors, steering sweeps, the server) reaches a model's insides through
/// this protocol, never through the engine.
///
/// `complete` takes a request's `interventions` and `captures`; `activations` reads a given answer
/// (teacher forcing) instead of sampling one.
public protocol WhiteBoxModel: LanguageModel {
    /// Transformer blocks; hook points name layers 0..<layerCount.
    var layerCount: Int { get }
    /// The residual stream's width: every activation vector has this many floats.
    var width: Int { get }
    /// Most positions a prompt and its answer may take together.
    var contextWindow: Int { get }
    /// Whether it has a chat format (a base model without `,chat=…` has none).
    var hasChatTemplate: Bool { get }
    /// What computed the numbers (recorded beside results that depend on the last bits).
    var numerics: String { get }

    /// Tokens of the chat prompt for `messages`, up to where the reply starts.
    func promptTokenCount(_ messages: [ChatMessage]) throws -> Int
    /// Tokens of a text on its own.
    func tokenCount(_ text: String) -> Int

    /// The activations of `answer` given as the reply to `messages`, computed as one sequence under
    /// `interventions` and pooled as `captures` say. Answers longer than `maxAnswerTokens` are cut.
    func activations(messages: [ChatMessage], answer: String, captures: [ActivationCapture],
                     interventions: [Intervention], maxAnswerTokens: Int?) async throws -> [CapturedActivations]

    /// The natural-log probability of each token of `answer` given as the reply to `messages` (teacher
    /// forcing under `interventions`), in order; empty for an answer of no tokens. Answers longer than
    /// `maxAnswerTokens` are cut.
    func answerTokenLogProbabilities(messages: [ChatMessage], answer: String, interventions: [Intervention],
                                     maxAnswerTokens: Int?) async throws -> [Float]

    /// `activations` and `answerTokenLogProbabilities` of the same transcript (no interventions), from
    /// one pass where the model can. The engine's pass computes the probabilities on its prompt path,
    /// so they can differ from `answerTokenLogProbabilities`'s (decode path) by its rounding.
    func answerReading(messages: [ChatMessage], answer: String, captures: [ActivationCapture],
                       maxAnswerTokens: Int?) async throws -> (activations: [CapturedActivations], logProbabilities: [Float])

    /// The text of each token of `answer` as a reply (the positions `activations` reads after the
    /// prompt), cut at `maxAnswerTokens`.
    func answerTokenTexts(_ answer: String, maxAnswerTokens: Int?) throws -> [String]

    /// The tokens a residual-stream direction promotes most: the final norm and output head applied
    /// to it (logit lens), the `count` largest logits with their values.
    func promotedTokens(direction: [Float], count: Int) async throws -> [(token: String, logit: Float)]
}

extension WhiteBoxModel {
    /// Two passes: `activations`, then `answerTokenLogProbabilities`.
    public func answerReading(messages: [ChatMessage], answer: String, captures: [ActivationCapture],
                              maxAnswerTokens: Int?) async throws -> (activations: [CapturedActivations], logProbabilities: [Float]) {
        (try await activations(messages: messages, answer: answer, captures: captures, interventions: [], maxAnswerTokens: maxAnswerTokens),
         try await answerTokenLogProbabilities(messages: messages, answer: answer, interventions: [], maxAnswerTokens: maxAnswerTokens))
    }

    /// The same without interventions.
    public func answerTokenLogProbabilities(messages: [ChatMessage], answer: String, maxAnswerTokens: Int?) async throws -> [Float] {
        try await answerTokenLogProbabilities(messages: messages, answer: answer, interventions: [], maxAnswerTokens: maxAnswerTokens)
    }
}
