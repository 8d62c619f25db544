import Foundation
import Inference
import Testing
import TestSupport

extension RealModel {
@Suite(RealModel.smolLM2Present)
struct BatchGeneratorTests {
    static var engine: Engine { RealModel.engine }
    static let france: [Int32] = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
    static let bored: [Int32] = [1, 4093, 198, 31334, 339, 1407, 20063, 2, 198, 1, 520, 9531, 198]

    func request(_ p: [Int32], samples: Int, seed: UInt64 = 11) -> GenerationRequest {
        GenerationRequest(promptTokens: p, samples: samples,
                          sampling: SamplingParameters(temperature: 1, topP: 0.95, seed: seed), maxTokens: 24)
    }

    /// Sample i's text depends only on (prompt, seed, i): not on batch size, other prompts or threads.
    @Test func samplesDoNotDependOnBatchCompositionOrThreads() throws {
        let alone = try BatchGenerator(engine: Self.engine).generate([request(Self.france, samples: 3)])[0]
        let crowded = try BatchGenerator(engine: Self.engine).generate([
            request(Self.bored, samples: 5, seed: 99), request(Self.france, samples: 3), request(Self.bored, samples: 2),
        ])[1]
        #expect(alone.map(\.tokens) == crowded.map(\.tokens))
        Parallel.configure(threads: 1)
        defer { Parallel.configure(threads: 2) }
        let oneThread = try BatchGenerator(engine: Self.engine, maxBatch: 2).generate([request(Self.france, samples: 3)])[0]
        #expect(alone.map(\.tokens) == oneThread.map(\.tokens))
        // Distinct samples really are distinct draws.
        #expect(Set(alone.map(\.tokens)).count > 1)
    }

    /// A batched greedy sample equals single-stream greedy generation.
    @Test func batchedGreedyEqualsSingleStream() throws {
        let single = try Self.engine.generate(promptTokens: Self.france, sampling: .greedy, maxTokens: 24)
        let batched = try BatchGenerator(engine: Self.engine).generate([
            GenerationRequest(promptTokens: Self.france, samples: 2, sampling: .greedy, maxTokens: 24),
            GenerationRequest(promptTokens: Self.bored, samples: 1, sampling: .greedy, maxTokens: 24),
        ])
        #expect(batched[0].allSatisfy { $0.tokens == single.tokens && $0.text == single.text })
        #expect(batched[0][0].finishReason == .endOfTurn)
    }

    @Test func prefixCacheReusesSharedPrompts() throws {
        let cache = PrefixCache()
        let gen = BatchGenerator(engine: Self.engine, prefixCache: cache)
        let head: [Int32] = (0..<300).map { Int32(1000 + $0) }
        _ = try gen.generate([request(head + [2, 198, 1, 520], samples: 1)])
        #expect(cache.statistics.misses == 1)
        let before = gen.statistics.promptTokensComputed
        let second = try gen.generate([request(head + [30, 2, 198, 1, 520], samples: 2)])
        #expect(cache.statistics.hits == 1)
        // Reuse is cut at a block boundary (KVSequence.alignment = 256): 256 of the 300 shared tokens.
        #expect(cache.statistics.reusedTokens == 256)
        #expect(gen.statistics.promptTokensComputed - before == 305 - 256)
        // Reuse gives the same answers as computing from scratch.
        let fresh = try BatchGenerator(engine: Self.engine, prefixCache: nil)
            .generate([request(head + [30, 2, 198, 1, 520], samples: 2)])
        #expect(second[0].map(\.tokens) == fresh[0].map(\.tokens))
    }

    /// A prompt met before token for token computes nothing, and its answers are a fresh
    /// computation's. The prompt is shorter than one block, where prefix reuse alone reuses nothing.
    @Test func prefixCacheServesARepeatedPromptWhole() throws {
        let cache = PrefixCache()
        let gen = BatchGenerator(engine: Self.engine, prefixCache: cache)
        let prompt: [Int32] = (0..<30).map { Int32(1200 + $0) }
        let first = try gen.generate([request(prompt, samples: 2)])
        let before = gen.statistics.promptTokensComputed
        let again = try gen.generate([request(prompt, samples: 2)])
        #expect(gen.statistics.promptTokensComputed == before)
        #expect(cache.statistics.hits == 1 && cache.statistics.misses == 1 && cache.statistics.reusedTokens == 30)
        let fresh = try BatchGenerator(engine: Self.engine, prefixCache: nil).generate([request(prompt, samples: 2)])
        #expect(again[0].map(\.tokens) == first[0].map(\.tokens))
        #expect(again[0].map(\.tokens) == fresh[0].map(\.tokens))
    }

    @Test func prefixCacheEvictsBeyondBudget() throws {
        let perPosition = 2 * Self.engine.model.config.layerCount * Self.engine.model.config.kvDimension * 2  // half floats
        let cache = PrefixCache(budgetBytes: 100 * perPosition)
        let gen = BatchGenerator(engine: Self.engine, prefixCache: cache)
        for i in 0..<4 {
            _ = try gen.computePrompt((0..<40).map { Int32(2000 + 50 * i + $0) })
        }
        // Each 40-token prompt reserves 40 positions: at most two fit in 100.
        #expect(cache.bytes <= 100 * perPosition)
        #expect(cache.count == 2)
        #expect(cache.statistics.evictions >= 2)
    }

    @Test func continuousBatchingAcceptsRequestsMidRun() throws {
        let gen = BatchGenerator(engine: Self.engine)
        var finished: [SampleResult] = []
        gen.onFinish = { finished.append($0) }
        try gen.submit(request(Self.france, samples: 2))
        _ = try gen.step()
        _ = try gen.step()
        #expect(gen.liveCount > 0)
        try gen.submit(request(Self.bored, samples: 1))
        let all = try gen.run()
        #expect(all.count == 3)
        #expect(finished.count == 3)
        let reference = try BatchGenerator(engine: Self.engine).generate([request(Self.bored, samples: 1)])[0][0]
        #expect(all.first { $0.request == 1 }!.tokens == reference.tokens)
    }

    @Test func requestsBeyondTheKVBudgetAreRefused() throws {
        let gen = BatchGenerator(engine: Self.engine, kvBudgetBytes: 1 << 20)
        #expect(throws: BatchError.self) { try gen.submit(request(Self.france, samples: 64)) }
        #expect(throws: BatchError.self) { try gen.submit(GenerationRequest(promptTokens: [], samples: 1)) }
    }

    /// Log-probabilities of continuations agree with the greedy path and with one-by-one decoding.
    @Test func scoringMatchesDecoding() throws {
        let gen = BatchGenerator(engine: Self.engine)
        let answer: [Int32] = [504, 3575, 282, 4649, 314, 7042, 30]
        let lp = try gen.logProbabilities(prompt: Self.france, continuations: [answer, [60, 23]])
        #expect(lp[0].count == answer.count && lp[1].count == 2)
        #expect(lp[0].allSatisfy { $0 <= 0 && $0 > -3 })   // the greedy answer is likely at every step
        // Reference: decode the answer one token at a time and read the log-softmax.
        let seq = Self.engine.model.newSequence()
        var logits = try Self.engine.prefill(Self.france, into: seq)
        for (k, t) in answer.enumerated() {
            let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
            let expected = Float(Double(logits[Int(t)]) - z)
            #expect(abs(lp[0][k] - expected) < 0.05, "token \(k): \(lp[0][k]) vs \(expected)")
            var b = Batch()
            b.append([t], to: seq)
            logits = Array(try Self.engine.model.forward(b, hooks: nil))
        }
        let top = try gen.topNextTokens([Self.france], k: 5)[0]
        #expect(top.count == 5 && top[0].token == 504)
        #expect(zip(top, top.dropFirst()).allSatisfy { $0.logProbability >= $1.logProbability })
        let full = try gen.nextTokenLogProbabilities([Self.france])[0]
        #expect(abs(full.map { exp(Double($0)) }.reduce(0, +) - 1) < 1e-3)
    }
}
}
