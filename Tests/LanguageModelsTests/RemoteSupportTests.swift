import Foundation
import Inference
import LanguageModels
import ModelStore
import Testing
import TestSupport
import Tokenizer

struct ServerSentEventTests {
    @Test func eventsSplitAcrossArbitraryPieces() {
        let stream = "data: {\"a\":1}\n\n: a comment\nevent: x\ndata: first\r\ndata: second\r\n\r\ndata:[DONE]\n\n"
        let bytes = Array(stream.utf8)
        for pieceSize in [1, 2, 3, 7, bytes.count] {
            var parser = ServerSentEventParser()
            var events: [String] = []
            var i = 0
            while i < bytes.count {
                events += parser.feed(bytes[i..<min(bytes.count, i + pieceSize)])
                i += pieceSize
            }
            #expect(parser.finish() == nil)
            #expect(events == ["{\"a\":1}", "first\nsecond", "[DONE]"], "pieces of \(pieceSize)")
        }
    }

    @Test func anUnterminatedLastEventIsKept() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: one\n\ndata: two".utf8)) == ["one"])
        #expect(parser.finish() == "two")
    }
}

struct RetryPolicyTests {
    @Test func backOffDoublesWithJitterInTheUpperHalf() {
        let p = RetryPolicy(maxRetries: 8, initialBackoff: 1, maxBackoff: 10)
        for _ in 0..<200 {
            #expect((0.5...1).contains(p.delay(retry: 1, retryAfter: nil)))
            #expect((1...2).contains(p.delay(retry: 2, retryAfter: nil)))
            #expect((4...8).contains(p.delay(retry: 4, retryAfter: nil)))
            #expect((5...10).contains(p.delay(retry: 7, retryAfter: nil)))   // capped at maxBackoff
        }
    }

    @Test func retryAfterIsALowerBoundUpToItsCap() {
        let p = RetryPolicy(initialBackoff: 0.1, maxBackoff: 1, maxRetryAfter: 30)
        #expect(p.delay(retry: 1, retryAfter: 7) == 7)
        #expect(p.delay(retry: 1, retryAfter: 500) == 30)
        #expect(p.delay(retry: 1, retryAfter: 0) <= 0.1)
    }

    @Test func retryAfterParsesSecondsAndDates() {
        #expect(RetryPolicy.parseRetryAfter("120") == 120)
        #expect(RetryPolicy.parseRetryAfter(" 1.5 ") == 1.5)
        #expect(RetryPolicy.parseRetryAfter("-3") == nil)
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_480)   // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == 30)
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == 0)
    }

    @Test func semaphoreBoundsConcurrentHolders() async throws {
        let semaphore = AsyncSemaphore(limit: 3)
        let state = Counters()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await semaphore.withPermit {
                        state.enter()
                        try await Task.sleep(nanoseconds: 2_000_000)
                        state.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(state.maximum == 3)
        #expect(state.current == 0)
    }
}

/// Tracks how many holders are inside at once.
final class Counters: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var current = 0
    private(set) var maximum = 0
    func enter() { lock.withLock { current += 1; maximum = max(maximum, current) } }
    func leave() { lock.withLock { current -= 1 } }
}

/// A small deterministic model that counts its calls: the base under the cache wrapper.
final class CountingModel: LanguageModel, @unchecked Sendable {
    let identity = ModelIdentity(spec: "test:counting", resolved: "in-process")
    var supportsLogprobs: Bool { false }
    private let lock = NSLock()
    private var _calls = 0
    var calls: Int { lock.withLock { _calls } }

    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        let call = lock.withLock { _calls += 1; return _calls }
        var choices: [CompletionChoice] = []
        for i in 0..<request.n {
            let text = "answer \(i) to \(request.messages.last?.content ?? "") (call \(call))"
            for word in text.split(separator: " ", omittingEmptySubsequences: false).map({ String($0) + " " }) {
                if let onText, !onText(i, word) { break }
            }
            let c = CompletionChoice(index: i, text: text, finishReason: "stop", completionTokens: 5)
            onChoice?(c)
            choices.append(c)
        }
        return Completion(choices: choices, usage: TokenUsage(promptTokens: 3, completionTokens: 5 * request.n))
    }
}

struct ResponseCacheTests {
    let request = CompletionRequest(messages: [.user("why?")], n: 2, temperature: 0.7, maxTokens: 20, seed: 4)

    @Test func keysDependOnEveryPartOfTheRequestAndTheModel() {
        let id = ModelIdentity(spec: "openai-compatible:http://h/v1#m", resolved: "http://h/v1#m")
        let k = CachedModel.key(identity: id, request: request)
        #expect(k.count == 64 && k.allSatisfy(\.isHexDigit))
        #expect(k == CachedModel.key(identity: id, request: request))
        var variants: [CompletionRequest] = []
        for change in 0..<8 {
            var r = request
            switch change {
            case 0: r.seed = 5
            case 1: r.temperature = 0.8
            case 2: r.n = 3
            case 3: r.maxTokens = 21
            case 4: r.messages = [.user("why not?")]
            case 5: r.stop = ["\n"]
            case 6: r.topLogprobs = 2
            default: r.topP = 0.9
            }
            variants.append(r)
        }
        let keys = Set(variants.map { CachedModel.key(identity: id, request: $0) } + [k])
        #expect(keys.count == 9)
        #expect(CachedModel.key(identity: ModelIdentity(spec: id.spec, resolved: "http://other/v1#m"), request: request) != k)
    }

    @Test func seededRequestsAreAnsweredOnceUnseededEveryTime() async throws {
        let base = CountingModel()
        let cache = InMemoryResponseCache()
        let model = CachedModel(base, cache: cache)
        let first = try await model.complete(request)
        let choicesSeen = Locked<[Int]>([])
        let textSeen = Locked<[Int: String]>([:])
        let second = try await model.complete(request, onChoice: { c in choicesSeen.withLock { $0.append(c.index) } },
                                               onText: { i, t in textSeen.withLock { $0[i, default: ""] += t }; return true })
        #expect(base.calls == 1)
        #expect(first == second)
        #expect(choicesSeen.value == [0, 1])
        #expect(textSeen.value == [0: first.choices[0].text, 1: first.choices[1].text])
        var other = request
        other.seed = 99
        _ = try await model.complete(other)
        #expect(base.calls == 2 && cache.count == 2)
        var unseeded = request
        unseeded.seed = nil
        _ = try await model.complete(unseeded)
        _ = try await model.complete(unseeded)
        #expect(base.calls == 4 && cache.count == 2)
    }

    @Test func aStreamTheCallerStoppedIsNotStored() async throws {
        let base = CountingModel()
        let cache = InMemoryResponseCache()
        let model = CachedModel(base, cache: cache)
        _ = try await model.complete(request, onChoice: nil, onText: { _, _ in false })
        #expect(cache.count == 0)
        _ = try await model.complete(request)
        _ = try await model.complete(request)
        #expect(base.calls == 2 && cache.count == 1)
    }
}

struct ModelFactoryTests {
    let store = ModelStore(directory: URL(fileURLWithPath: "/nonexistent-emlab-store"))

    @Test func openAINeedsItsKeyAndNeverShowsIt() throws {
        #expect(throws: LanguageModelError.self) {
            _ = try makeLanguageModel(.openAI(model: "gpt-4o"), store: store, options: LanguageModelOptions(environment: [:]))
        }
        let env = ["OPENAI_API_KEY": "sk-secret-value-123", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"]
        let m = try makeLanguageModel(.openAI(model: "gpt-4o"), store: store, options: LanguageModelOptions(environment: env))
        #expect(m.identity.spec == "openai:gpt-4o")
        #expect(m.identity.resolved == "http://127.0.0.1:9/v1#gpt-4o")
        #expect(m.supportsLogprobs)
        #expect(!"\(m.identity) \(m.identity.resolved)".contains("secret"))
        let plain = try makeLanguageModel(.openAI(model: "gpt-4o"), store: store,
                                          options: LanguageModelOptions(environment: ["OPENAI_API_KEY": "k"]))
        #expect(plain.identity.resolved == "https://api.openai.com/v1#gpt-4o")
    }

    @Test func compatibleServersDropCredentialsFromTheIdentity() throws {
        let spec = try ModelSpec(parsing: "openai-compatible:http://user:pw@127.0.0.1:8000/v1#qwen")
        let m = try makeLanguageModel(spec, store: store, options: LanguageModelOptions(environment: ["EMLAB_API_KEY": "x"]))
        #expect(m.identity.resolved == "http://127.0.0.1:8000/v1#qwen")
        #expect(!m.identity.spec.contains("pw"))
    }

    @Test func localModelsAreMissingWithAClearError() {
        #expect(throws: (any Error).self) {
            _ = try makeLanguageModel(.local("smollm2-135m"), store: store)
        }
    }

    @Test(.enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
    func localModelsNameTheirFile() throws {
        let path = TestResources.smolLM2!
        let m = try makeLanguageModel(.local(path), store: store)
        let local = try #require(m as? LocalModel)
        defer { local.shutdown() }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(m.identity.resolved == "\(path) (\(size) bytes)")
        #expect(m.identity.spec == "local:\(path)")
    }
}
