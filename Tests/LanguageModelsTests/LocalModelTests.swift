import Core
import Foundation
import Inference
import LanguageModels
import Testing
import Tokenizer
import TestSupport

/// One local model shared by the suites that need the real weights.
enum SharedLocalModel {
    static let model: LocalModel = {
        Parallel.configure(threads: 2)
        let engine = try! Engine(path: TestResources.smolLM2!)
        return LocalModel(engine: engine, identity: ModelIdentity(spec: "local:smollm2-135m", resolved: "test"))
    }()
}

@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
struct LocalModelTests {
    var model: LocalModel { SharedLocalModel.model }
    let question = [ChatMessage.user("Name one thing you like about rain.")]

    /// Choice i of a request is the same text alone (n = 1 from stream i) or among others.
    @Test func choicesAreIndependentOfNAndConcurrency() async throws {
        let request = CompletionRequest(messages: question, n: 4, temperature: 1, maxTokens: 20, seed: 5)
        let together = try await model.complete(request)
        #expect(together.choices.map(\.index) == [0, 1, 2, 3])
        #expect(Set(together.choices.map(\.text)).count > 1)
        // The same choices asked for one at a time, concurrently, with other traffic in the batch.
        let single = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<4 {
                group.addTask {
                    var r = request
                    r.n = 1
                    r.firstChoiceStream = i
                    return (i, try await model.complete(r).choices[0].text)
                }
            }
            group.addTask {
                _ = try await model.complete(CompletionRequest(messages: [.user("hello")], n: 3, maxTokens: 15, seed: 1))
                return (-1, "")
            }
            var out = [Int: String]()
            for try await (i, t) in group where i >= 0 { out[i] = t }
            return out
        }
        #expect((0..<4).map { single[$0] } == together.choices.map(\.text))
        #expect(together.usage.completionTokens == together.choices.reduce(0) { $0 + $1.completionTokens })
        #expect(together.usage.promptTokens > 5)
    }

    @Test func onChoiceSeesEveryChoiceAndStreamingMatchesText() async throws {
        let seen = Locked<[Int: String]>([:])
        let streamed = Locked<[Int: String]>([:])
        let result = try await model.complete(
            CompletionRequest(messages: question, n: 3, maxTokens: 16, seed: 9),
            onChoice: { c in seen.withLock { $0[c.index] = c.text } },
            onText: { i, t in streamed.withLock { $0[i, default: ""] += t }; return true })
        for c in result.choices {
            #expect(seen.value[c.index] == c.text)
            #expect(streamed.value[c.index] == c.text)
        }
    }

    /// With temperature 0 the chosen token is the most likely one, and the reported numbers are a distribution.
    @Test func topLogprobsDescribeTheGreedyChoice() async throws {
        let r = try await model.complete(CompletionRequest(messages: question, temperature: 0, maxTokens: 6, seed: 0, topLogprobs: 5))
        let lp = try #require(r.choices[0].logprobs)
        #expect(lp.count >= r.choices[0].completionTokens)
        for t in lp {
            #expect(t.top.count == 5)
            #expect(t.top[0].token == t.token)
            #expect(abs(t.top[0].logprob - t.logprob) < 1e-6)
            #expect(zip(t.top, t.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
            #expect(t.top.reduce(0) { $0 + exp($1.logprob) } <= 1.0001)
        }
        #expect(lp.prefix(r.choices[0].completionTokens).map(\.token).joined().hasPrefix(r.choices[0].text.prefix(3)))
    }

    /// The trie computation equals the probability computed token by token. The two differ in how
    /// keys are split into segments (fork of a fork vs one run), which changes float rounding in
    /// attention; SmolLM2's large activations turn that into up to ~2 % of a probability.
    @Test func answerProbabilitiesMatchTokenByTokenScoring() async throws {
        let messages = [ChatMessage.user("Rate the weather today from 0 to 100. Reply with a number only.")]
        let answers = (0...100).map(String.init)
        let p = try #require(try await model.answerProbabilities(messages: messages, answers: answers))
        #expect(p.count == 101)
        let total = p.reduce(0, +)
        #expect(total > 0.05 && total <= 1.0001)
        // Recompute three answers directly.
        let engine = model.engine
        let prompt = try engine.chatPromptTokens(messages)
        for answer in ["7", "42", "100"] {
            let tokens = engine.tokenizer.encode(answer)
            let direct = try await model.perform { gen in
                try gen.continuationDistributions(prompt: prompt, continuations: [tokens])[0]
            }
            var continuing = 0.0
            for id in 0..<engine.tokenizer.vocabularySize {
                let text = engine.tokenizer.decode([Int32(id)])
                if !engine.tokenizer.isControl(Int32(id)), let c = text.unicodeScalars.first,
                   CharacterSet.alphanumerics.contains(c) { continuing += exp(Double(direct.next[id])) }
            }
            let expected = exp(direct.tokenLogProbabilities.reduce(0) { $0 + Double($1) }) * (1 - continuing)
            let got = p[Int(answer)!]
            #expect(abs(got - expected) <= 0.03 * expected + 1e-9, "answer \(answer): \(got) vs \(expected)")
        }
    }

    @Test func invalidRequestsAreRefused() async throws {
        await #expect(throws: LanguageModelError.self) {
            _ = try await model.complete(CompletionRequest(messages: question, n: 0))
        }
        await #expect(throws: (any Error).self) {
            _ = try await model.complete(CompletionRequest(messages: question, maxTokens: 100_000))
        }
    }
}

/// A value shared with @Sendable callbacks.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&stored) } }
}

/// A base model (Gemma 3 270M, no chat template) asked questions through the plain-text transcript.
@Suite(.serialized, .enabled(if: TestResources.gemma3 != nil, "Gemma 3 model not pulled (emlab models pull gemma3-270m)"))
struct BaseModelTranscriptTests {
    static let model: LocalModel = {
        Parallel.configure(threads: 2)
        let engine = try! Engine(path: TestResources.gemma3!, chatTemplate: .transcript)
        return LocalModel(engine: engine, identity: ModelIdentity(spec: "local:gemma3-270m,chat=transcript", resolved: "test"))
    }()

    /// The reply is the assistant's text only: no space in front, cut before the next `User:` line,
    /// the same streamed as returned.
    @Test func repliesEndAtTheNextUserLine() async throws {
        let streamed = Locked<[Int: String]>([:])
        let r = try await Self.model.complete(
            CompletionRequest(messages: [.user("What is the capital of France?")], n: 3, temperature: 0.7, maxTokens: 48, seed: 3),
            onChoice: nil, onText: { i, t in streamed.withLock { $0[i, default: ""] += t }; return true })
        for c in r.choices {
            #expect(!c.text.hasPrefix(" ") && !c.text.contains("User:"), "\(c.text)")
            #expect(streamed.value[c.index] == c.text)
        }
        let greedy = try await Self.model.complete(CompletionRequest(messages: [.user("What is the capital of France?")],
                                                                     temperature: 0, maxTokens: 48, seed: 0))
        #expect(greedy.choices[0].text.contains("Paris"), "\(greedy.choices[0].text)")
        #expect(greedy.choices[0].finishReason == "stop")
    }

    /// Replies are scored with the space that follows `Assistant:`: the right one-word answer is the
    /// likeliest, and the bare word (no space, as a reply never starts here) would be far less likely.
    @Test func answerProbabilitiesIncludeTheSeparator() async throws {
        let messages = [ChatMessage.user("What is the capital of France? Answer with one word.")]
        let answers = ["Paris", "London", "Berlin", "Rome", "Madrid"]
        let p = try #require(try await Self.model.answerProbabilities(messages: messages, answers: answers))
        #expect(p[0] > 5 * p.dropFirst().max()!, "\(p)")
        let engine = Self.model.engine
        #expect(try engine.replyTokens("Paris") == engine.tokenizer.encode(" Paris"))
        let prompt = try engine.chatPromptTokens(messages)
        let bare = try await Self.model.perform { gen in
            try gen.answerLogProbabilities(prompt: prompt, answers: [engine.tokenizer.encode("Paris")], continuing: [])[0]
        }
        #expect(exp(bare) < p[0] / 10, "bare \(exp(bare)) against \(p[0])")
    }
}
