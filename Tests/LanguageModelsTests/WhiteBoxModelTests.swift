import Core
import Foundation
import Inference
import LanguageModels
import Testing
import TestSupport

/// Interventions and captures through the model protocol: a request's steering reaches only its own
/// choices while other requests share the batch, and teacher-forced activations equal the engine's.
@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
struct WhiteBoxModelTests {
    var model: LocalModel { SharedLocalModel.model }
    let question = [ChatMessage.user("What would you do with a free afternoon?")]
    var direction: [Float] { (0..<model.width).map { Float(cos(Double($0) * 0.21)) } }

    func request(_ coefficient: Float?) -> CompletionRequest {
        CompletionRequest(messages: question, n: 2, temperature: 1, maxTokens: 12, seed: 3, topLogprobs: 2,
                          interventions: coefficient.map { [.add(direction, coefficient: $0, at: .residualOut(layer: 9))] })
    }

    @Test func describesTheModel() throws {
        #expect(model.layerCount == 30 && model.width == 576 && model.contextWindow == 8192 && model.hasChatTemplate)
        #expect(try model.promptTokenCount(question) == model.engine.chatPromptTokens(question).count)
        #expect(model.tokenCount("hello world") == 2)
        #expect(model.numerics.hasPrefix("OpenBLAS "))
    }

    /// Plain, +c·v and −c·v requests sent at once (one batch) answer as they do alone, bit for bit.
    @Test func concurrentSteeredRequestsEqualSoloOnes() async throws {
        let requests = [request(nil), request(5), request(-5)]
        let together = try await withThrowingTaskGroup(of: (Int, Completion).self) { group in
            for (i, r) in requests.enumerated() { group.addTask { (i, try await model.complete(r)) } }
            var out = [Int: Completion]()
            for try await (i, c) in group { out[i] = c }
            return (0..<3).map { out[$0]! }
        }
        var solo: [Completion] = []
        for r in requests { solo.append(try await model.complete(r)) }
        #expect(together == solo)
        #expect(Set(together.map { $0.choices.map(\.text) }).count == 3)
    }

    @Test func choicesCarryTheirCaptures() async throws {
        var r = request(nil)
        r.captures = [ActivationCapture(.residualOut(layer: 4), pooling: .answerMean),
                      ActivationCapture(.residualIn(layer: 0), pooling: .lastPromptToken)]
        let c = try await model.complete(r)
        for choice in c.choices {
            let a = try #require(choice.activations)
            #expect(a.map(\.capture) == r.captures!)
            #expect(a.allSatisfy { $0.vectors.count == 1 && $0.vectors[0].count == model.width })
        }
        #expect(c.choices[0].activations![1] == c.choices[1].activations![1], "the prompt is shared")
        #expect(try await model.complete(request(nil)).choices.allSatisfy { $0.activations == nil })
    }

    /// `activations` reads the given answer as the engine does for the same tokens.
    @Test func teacherForcedActivationsEqualTheEngines() async throws {
        let answer = "I would walk to the river and read."
        let capture = ActivationCapture(.residualOut(layer: 7), pooling: .everyPosition)
        let viaModel = try await model.activations(messages: question, answer: answer, captures: [capture],
                                                   interventions: [], maxAnswerTokens: nil)
        let engine = model.engine
        let tokens = try engine.chatPromptTokens(question) + engine.replyTokens(answer)
        let hooks = Hooks()
        hooks.capture(.residualOut(layer: 7))
        _ = try engine.prefill(tokens, into: engine.model.newSequence(), hooks: hooks)
        #expect(viaModel[0].vectors == hooks.captured[.residualOut(layer: 7)])
        // Cut to a few answer tokens.
        let cut = try await model.activations(messages: question, answer: answer, captures: [capture],
                                              interventions: [], maxAnswerTokens: 3)
        #expect(cut[0].vectors.count == tokens.count - (try engine.replyTokens(answer).count) + 3)
    }

    @Test func remoteModelsRefuseInterventions() throws {
        #expect(throws: LanguageModelError.self) { try request(2).validate(whiteBox: false) }
        try request(2).validate(whiteBox: true)
        try request(nil).validate(whiteBox: false)
    }

    /// Requests without interventions keep their response-cache keys (stored answers stay found).
    @Test func plainRequestsEncodeAsBefore() throws {
        let json = String(decoding: try JSONEncoder().encode(request(nil)), as: UTF8.self)
        #expect(!json.contains("interventions") && !json.contains("captures"))
    }
}
