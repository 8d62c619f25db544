import Foundation
import GGUF
import Inference
import Testing
import TestSupport

extension RealModel {
    static let qwen2Present = ConditionTrait.enabled(if: TestResources.qwen05 != nil,
                                                     "Qwen2.5-Coder 0.5B not pulled (emlab models pull qwen2.5-coder-0.5b)")

    static let qwen: Engine = {
        Parallel.configure(threads: 2)
        return try! Engine(path: TestResources.qwen05!)
    }()
}

/// Qwen2.5-Coder-0.5B-Instruct (architecture `qwen2`) against llama.cpp's recorded runs on our prompts
/// (`Tests/References/qwen2.5-coder-0.5b-greedy.txt`, made by `scripts/llama-reference.py`), and the
/// engine's features on a third architecture.
extension RealModel {
@Suite(RealModel.qwen2Present)
struct Qwen2Tests {
    static var engine: Engine { RealModel.qwen }

    static let references: [GreedyReference] = TestResources.repositoryReference("qwen2.5-coder-0.5b-greedy.txt")
        .flatMap { try? GreedyReference.load($0) } ?? []

    static let ruler: [Int32] = references.first?.promptIds ?? []

    @Test func architectureFacts() throws {
        let model = try #require(Self.engine.model as? Qwen2Model)
        let c = model.config
        #expect(c.architecture == "qwen2" && c.layerCount == 24 && c.embeddingLength == 896)
        #expect(c.headCount == 14 && c.kvHeadCount == 2 && c.headDimension == 64 && c.feedForwardLength == 4864)
        #expect(c.vocabularySize == 151_936 && c.ropeBase == 1_000_000 && c.contextLength == 32_768)
        #expect(abs(c.rmsEpsilon - 1e-6) < 1e-12)
        #expect(Self.engine.chatTemplate == .chatML(defaultSystemPrompt: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."))
        #expect(try Self.engine.chatPromptTokens([.user("If you were ruler of the world, what are some things you'd do?")]) == Self.ruler)
    }

    @Test func referencesParsed() {
        #expect(Self.references.count == 5)
        for r in Self.references {
            #expect(!r.promptIds.isEmpty && r.top10.count == 10 && r.steps.count >= 10, "\(r.title)")
        }
    }

    /// First-step top-10 logits within `logitBound` of llama.cpp's and the same top-1; then greedy
    /// tokens equal llama.cpp's step by step (up to 64) until they first differ, which may only
    /// happen where llama.cpp's recorded margin is within both engines' error (`marginFloor`), so
    /// every step before the first such near tie must match.
    @Test(arguments: 0..<5)
    func greedyMatchesLlamaCpp(_ index: Int) throws {
        let ref = Self.references[index]
        let model = Self.engine.model
        let seq = model.newSequence()
        var logits = try Self.engine.prefill(ref.promptIds, into: seq)
        var firstStep: Float = 0
        for (id, expected) in ref.top10 {
            let diff = abs(logits[Int(id)] - expected)
            firstStep = max(firstStep, diff)
            #expect(diff <= Self.logitBound, "\(ref.title): logit of \(id) is \(logits[Int(id)]), llama.cpp \(expected)")
        }
        var matched = 0, largest = firstStep
        for step in ref.steps.prefix(64) {
            let ours = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
            if ours != step.id {
                #expect(step.margin < Self.marginFloor,
                        "\(ref.title) step \(matched): got \(ours), llama.cpp \(step.id) with margin \(step.margin)")
                break
            }
            largest = max(largest, abs(logits[Int(step.id)] - step.logit))
            matched += 1
            var batch = Batch()
            batch.append([step.id], to: seq)
            logits = Array(try model.forward(batch, hooks: nil))
        }
        let nearTie = ref.steps.firstIndex { $0.margin < Self.marginFloor } ?? ref.steps.count
        print("[reference] qwen2 \(ref.title.prefix(24)): \(matched) of \(ref.steps.count) greedy steps match (first near tie at step \(nearTie)), largest first-step top-10 difference \(firstStep), over the matched steps \(largest)")
        #expect(matched >= min(nearTie, 64))
    }

    /// Against the double-precision definition (Qwen2Float64Tests) the engine's first-step top-10
    /// logits are within 0.07, llama.cpp's (8-bit activations) within 0.28: the two can be 0.35 apart
    /// by arithmetic alone, so that bounds the logits, and a recorded margin below it does not
    /// decide the greedy token.
    static let logitBound: Float = 0.35
    static let marginFloor: Float = 0.35

    @Test func kvCacheEqualsRecomputation() throws {
        try checkCacheEqualsRecomputation(engine: Self.engine, prompt: Self.ruler,
                                          continuation: Array(Self.references[0].genIds.prefix(5)))
    }

    @Test func eightBitPromptsEqualDecoding() throws {
        try checkEightBitPromptsEqualDecoding(engine: Self.engine, prompt: (0..<280).map { Int32(200 + ($0 * 37) % 5000) })
    }

    /// Batched sampling: a sample's tokens depend only on (prompt, seed, index), not on the batch;
    /// greedy batched equals single-stream; a reused prefix gives the same answers as a fresh one.
    @Test func batchingAndPrefixCache() throws {
        let code = Self.references[4].promptIds
        func request(_ p: [Int32], samples: Int, seed: UInt64 = 5) -> GenerationRequest {
            GenerationRequest(promptTokens: p, samples: samples,
                              sampling: SamplingParameters(temperature: 1, topP: 0.95, seed: seed), maxTokens: 10)
        }
        let alone = try BatchGenerator(engine: Self.engine).generate([request(Self.ruler, samples: 3)])[0]
        let crowded = try BatchGenerator(engine: Self.engine).generate([
            request(code, samples: 2, seed: 9), request(Self.ruler, samples: 3),
        ])[1]
        #expect(alone.map(\.tokens) == crowded.map(\.tokens))
        #expect(Set(alone.map(\.tokens)).count > 1)

        let single = try Self.engine.generate(promptTokens: code, sampling: .greedy, maxTokens: 12)
        #expect(single.tokens == Array(Self.references[4].genIds.prefix(12)))
        let batched = try BatchGenerator(engine: Self.engine).generate([
            GenerationRequest(promptTokens: code, samples: 2, sampling: .greedy, maxTokens: 12),
            GenerationRequest(promptTokens: Self.ruler, samples: 1, sampling: .greedy, maxTokens: 12),
        ])
        #expect(batched[0].allSatisfy { $0.tokens == single.tokens })

        let cache = PrefixCache()
        let gen = BatchGenerator(engine: Self.engine, prefixCache: cache)
        let head: [Int32] = (0..<300).map { Int32(3000 + $0) }
        _ = try gen.generate([request(head + [785, 6722], samples: 1)])
        let second = try gen.generate([request(head + [315, 9625, 374], samples: 2)])
        #expect(cache.statistics.reusedTokens == 256)
        let fresh = try BatchGenerator(engine: Self.engine).generate([request(head + [315, 9625, 374], samples: 2)])
        #expect(second[0].map(\.tokens) == fresh[0].map(\.tokens))
    }

    /// Hooks: the last layer's residual, unembedded, reproduces the logits; a zero vector changes
    /// nothing; steering changes the logits; a vector of the wrong width is refused.
    @Test func hooks() throws {
        let model = Self.engine.model
        let d = model.config.embeddingLength, last = model.config.layerCount - 1
        let prompt = Array(Self.ruler.suffix(12))
        func logits(_ hooks: Hooks?) throws -> [Float] {
            var b = Batch()
            b.append(prompt, to: model.newSequence())
            return Array(try model.forward(b, hooks: hooks))
        }
        let hooks = Hooks()
        hooks.capture(.residualOut(layer: last))
        hooks.capture(.attentionOutput(layer: 3))
        hooks.capture(.mlpOutput(layer: 3))
        let out = try logits(hooks)
        let vectors = try #require(hooks.captured[.residualOut(layer: last)])
        #expect(vectors.count == prompt.count && vectors.allSatisfy { $0.count == d })
        #expect(hooks.captured[.attentionOutput(layer: 3)]?.count == prompt.count)
        #expect(hooks.captured[.mlpOutput(layer: 3)]?.count == prompt.count)
        let diff = zip(out, model.unembed(vectors.last!)).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-3, "largest difference \(diff)")

        let base = try logits(nil)
        let zero = Hooks()
        zero.add([Float](repeating: 0, count: d), at: .mlpOutput(layer: 7))
        #expect(try logits(zero) == base)
        let steer = Hooks()
        steer.add((0..<d).map { Float(($0 * 7919) % 13) - 6 }, scale: 4, at: .residualIn(layer: 9))
        #expect(try logits(steer) != base)
        let wrong = Hooks()
        wrong.add([Float](repeating: 1, count: 576), at: .residualIn(layer: 0))
        #expect(throws: ModelError.invalidHookVector(point: "resid_in.0", expected: 896, found: 576)) { try logits(wrong) }
    }

    /// Log-probabilities of a continuation (prompt path, float products) match one-by-one decoding
    /// (8-bit-activation kernels) within the two paths' difference.
    @Test func scoring() throws {
        let gen = BatchGenerator(engine: Self.engine)
        let answer = Array(Self.references[0].genIds.prefix(6))
        let lp = try gen.logProbabilities(prompt: Self.ruler, continuations: [answer])[0]
        let seq = Self.engine.model.newSequence()
        var logits = try Self.engine.prefill(Self.ruler, into: seq)
        for (k, t) in answer.enumerated() {
            let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
            let expected = Float(Double(logits[Int(t)]) - z)
            #expect(abs(lp[k] - expected) < 0.25, "token \(k): \(lp[k]) vs \(expected)")
            var b = Batch()
            b.append([t], to: seq)
            logits = Array(try Self.engine.model.forward(b, hooks: nil))
        }
    }
}
}
