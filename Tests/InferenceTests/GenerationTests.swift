import Core
import Foundation
import Inference
import Testing
import TestSupport
import Tokenizer

extension RealModel {
@Suite(RealModel.smolLM2Present)
struct GenerationTests {
    static var engine: Engine { RealModel.engine }
    static let france: [Int32] = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]

    @Test func greedyAnswerStopsAtEndOfTurn() throws {
        let g = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 40)
        #expect(g.text == "The capital of France is Paris.")
        #expect(g.tokens == [504, 3575, 282, 4649, 314, 7042, 30])
        #expect(g.finishReason == .endOfTurn)
    }

    @Test func stopStringCutsTheText() throws {
        var streamed = ""
        let g = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 40,
                                         stopStrings: ["Paris"]) { streamed += $0; return true }
        #expect(g.text == "The capital of France is ")
        #expect(streamed == g.text)
        #expect(g.finishReason == .stopString)
    }

    @Test func streamingCallbackCanStop() throws {
        var pieces = 0
        let g = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 40) { _ in
            pieces += 1
            return pieces < 2
        }
        #expect(g.finishReason == .cancelled)
        #expect(g.tokens.count == 2)
    }

    /// Steering applies to generation too: a strong push at one layer changes the greedy answer.
    @Test func hooksApplyDuringGeneration() throws {
        let d = Self.engine.model.config.embeddingLength
        let push = Intervention.add((0..<d).map { Float(($0 % 7) - 3) }, coefficient: 4, at: .residualIn(layer: 5))
        let steered = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 8, interventions: [push])
        let plain = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 8)
        #expect(steered.tokens != plain.tokens)
    }

    @Test func tokenLimit() throws {
        let g = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 3)
        #expect(g.tokens.count == 3)
        #expect(g.finishReason == .length)
    }

    @Test func sameSeedSameTextAndStreamingMatchesResult() throws {
        let p = SamplingParameters(temperature: 1, topP: 0.95, seed: 1234)
        var streamed = ""
        let a = try Self.engine.generate(promptTokens: Self.france, sampling: p, maxTokens: 30) { streamed += $0; return true }
        let b = try Self.engine.generate(promptTokens: Self.france, sampling: p, maxTokens: 30)
        #expect(a.tokens == b.tokens)
        #expect(a.text == streamed)
        var other = p
        other.seed = 99
        let c = try Self.engine.generate(promptTokens: Self.france, sampling: other, maxTokens: 30)
        #expect(c.tokens != a.tokens)
    }

    @Test func chatTemplateRendersDefaultSystemPrompt() throws {
        let ids = try Self.engine.chatPromptTokens([ChatMessage(role: .user, content: "If you were ruler of the world, what are some things you'd do?")])
        let ref = try GreedyReference.load(TestResources.referenceFile("smollm2-greedy.txt")!)[0]
        #expect(ids == ref.promptIds)
    }

    @Test func badTokenAndPositionAreErrors() throws {
        let model = Self.engine.model
        let seq = model.newSequence()
        var b = Batch()
        b.append([99_999], to: seq)
        #expect(throws: ModelError.self) { try model.forward(b, hooks: nil) }
        var c = Batch()
        c.tokens = [1]; c.positions = [5]; c.sequences = [seq]; c.logitRows = [0]
        #expect(throws: ModelError.self) { try model.forward(c, hooks: nil) }
        #expect(seq.length == 0)
    }
}
}
