import Foundation
import GGUF
import Inference
import Testing
import TestSupport

/// Gemma 3 270M against llama.cpp's recorded runs, and the engine's features on a second architecture.
extension RealModel {
@Suite(RealModel.gemma3Present)
struct GemmaTests {
    static var engine: Engine { RealModel.gemma }

    static let references: [GreedyReference] = TestResources.referenceFile("smollm2-greedy.txt")
        .flatMap { try? GreedyReference.load($0).filter(\.isGemma) } ?? []

    @Test func architectureFacts() throws {
        let model = try #require(Self.engine.model as? Gemma3Model)
        let c = model.config
        #expect(c.layerCount == 18 && c.embeddingLength == 640 && c.headCount == 4 && c.kvHeadCount == 1)
        #expect(c.headDimension == 256 && c.vocabularySize == 262144)
        #expect(model.slidingWindow == 512 && model.localRopeBase == 10_000 && c.ropeBase == 1_000_000)
        #expect((0..<18).filter { model.isGlobal(layer: $0) } == [5, 11, 17])
        #expect(Self.engine.chatTemplate == nil)   // a base model
        #expect(throws: EngineError.self) { try Self.engine.chatPromptTokens([.user("hi")]) }
    }

    /// Greedy tokens match llama.cpp until the first recorded margin below the logit bound (at most 24
    /// steps; see `checkGreedyAgainstReference`).
    /// First-step top-10 logits: the issue asks for 0.25, but llama.cpp's own first-step logits are
    /// 0.42-0.47 from the double-precision definition (GemmaFloat64Tests; for "The capital of France
    /// is" they sit 0.37 above it on average), while the engine's are within 0.09 of it; measured
    /// differences to llama.cpp are up to 0.51, so the bound here is 0.6 and the figure is printed.
    /// llama.cpp itself moves these logits by 0.48 / 0.53 when its flash attention (on for the
    /// references) is turned off, and by 0.12 / 0.20 when the prompt is fed one token at a time
    /// (docs/numerics.md; `scripts/llama-logits.c`).
    @Test(.enabled(if: TestResources.referenceFile("smollm2-greedy.txt") != nil, "shared/reference missing"),
          arguments: 0..<2)
    func greedyMatchesLlamaCpp(_ index: Int) throws {
        #expect(Self.references.count == 2)
        try checkGreedyAgainstReference(Self.references[index], engine: Self.engine, logitBound: 0.6)
    }

    @Test func kvCacheEqualsRecomputation() throws {
        try checkCacheEqualsRecomputation(engine: Self.engine, prompt: [2, 818, 5279, 529, 7001, 563],
                                          continuation: [506, 5279, 529, 506, 2891])
    }

    @Test func eightBitPromptsEqualDecoding() throws {
        try checkEightBitPromptsEqualDecoding(engine: Self.engine, prompt: [2] + (1..<280).map { Int32(1000 + ($0 * 37) % 5000) })
    }

    /// Local layers see only the last 512 positions: at position 515, layer 0 (local) does not depend
    /// on tokens 0...3, while layer 5 (global) does.
    @Test func slidingWindowHidesOldPositions() throws {
        let model = Self.engine.model
        func residuals(first: Int32) throws -> (local: [Float], global: [Float]) {
            var tokens: [Int32] = [2] + (1..<516).map { Int32(1000 + ($0 * 37) % 5000) }
            for i in 1...3 { tokens[i] = first + Int32(i) }
            let hooks = Hooks()
            hooks.capture(.residualOut(layer: 0))
            hooks.capture(.residualOut(layer: 5))
            _ = try Self.engine.prefill(tokens, into: model.newSequence(), hooks: hooks)
            return (hooks.captured[.residualOut(layer: 0)]!.last!, hooks.captured[.residualOut(layer: 5)]!.last!)
        }
        let a = try residuals(first: 300), b = try residuals(first: 9000)
        let localDiff = zip(a.local, b.local).map { abs($0 - $1) }.max()!
        let globalDiff = zip(a.global, b.global).map { abs($0 - $1) }.max()!
        #expect(localDiff == 0, "layer 0 at position 515 changed by \(localDiff)")
        #expect(globalDiff > 1e-4, "layer 5 at position 515 did not see the changed tokens")
    }

    /// Batched sampling: a sample's tokens depend only on (prompt, seed, index), not on the batch;
    /// greedy batched equals single-stream; a reused prefix gives the same answers as a fresh one.
    @Test func batchingAndPrefixCache() throws {
        let france: [Int32] = [2, 818, 5279, 529, 7001, 563]
        let code: [Int32] = [2, 2063, 10779, 78113, 236769, 236749, 1473]
        func request(_ p: [Int32], samples: Int, seed: UInt64 = 5) -> GenerationRequest {
            GenerationRequest(promptTokens: p, samples: samples,
                              sampling: SamplingParameters(temperature: 1, topP: 0.95, seed: seed), maxTokens: 12)
        }
        let alone = try BatchGenerator(engine: Self.engine).generate([request(france, samples: 3)])[0]
        let crowded = try BatchGenerator(engine: Self.engine).generate([
            request(code, samples: 4, seed: 9), request(france, samples: 3),
        ])[1]
        #expect(alone.map(\.tokens) == crowded.map(\.tokens))
        #expect(Set(alone.map(\.tokens)).count > 1)

        let single = try Self.engine.generate(promptTokens: code, sampling: .greedy, maxTokens: 16)
        #expect(single.tokens == Array(Self.references.last?.genIds.prefix(16) ?? []))
        let batched = try BatchGenerator(engine: Self.engine).generate([
            GenerationRequest(promptTokens: code, samples: 2, sampling: .greedy, maxTokens: 16),
            GenerationRequest(promptTokens: france, samples: 1, sampling: .greedy, maxTokens: 16),
        ])
        #expect(batched[0].allSatisfy { $0.tokens == single.tokens })

        let cache = PrefixCache()
        let gen = BatchGenerator(engine: Self.engine, prefixCache: cache)
        let head: [Int32] = [2] + (0..<299).map { Int32(3000 + $0) }
        _ = try gen.generate([request(head + [818, 5279], samples: 1)])
        let second = try gen.generate([request(head + [529, 7001, 563], samples: 2)])
        #expect(cache.statistics.reusedTokens == 256)
        let fresh = try BatchGenerator(engine: Self.engine).generate([request(head + [529, 7001, 563], samples: 2)])
        #expect(second[0].map(\.tokens) == fresh[0].map(\.tokens))
    }

    /// Hooks: the last layer's residual, unembedded, reproduces the logits; steering changes them.
    @Test func hooks() throws {
        let model = Self.engine.model
        let d = model.config.embeddingLength, last = model.config.layerCount - 1
        let prompt: [Int32] = [2, 818, 5279, 529, 7001, 563]
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
        #expect(throws: ModelError.invalidHookVector(point: "resid_in.0", expected: 640, found: 576)) { try logits(wrong) }
    }

    /// Log-probabilities of a continuation match one-by-one decoding. Scoring runs the continuation
    /// through the prompt path (float products), decoding through the 8-bit-activation kernels; on
    /// this model the two differ by up to ~0.9 in single logits (kvCacheEqualsRecomputation) and by
    /// 0.07-0.19 in these log-probabilities (the 8-bit path is 0.2-0.3 from float64 on a first step,
    /// GemmaFloat64Tests).
    @Test func scoring() throws {
        let gen = BatchGenerator(engine: Self.engine)
        let prompt: [Int32] = [2, 818, 5279, 529, 7001, 563]
        let answer: [Int32] = [506, 5279, 529, 506, 2891]
        let lp = try gen.logProbabilities(prompt: prompt, continuations: [answer])[0]
        let seq = Self.engine.model.newSequence()
        var logits = try Self.engine.prefill(prompt, into: seq)
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
