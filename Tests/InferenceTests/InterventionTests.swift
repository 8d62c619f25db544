import Core
import Foundation
import Inference
import Testing
import TestSupport

/// Interventions and captures carried by each request: applied to that request's rows only, inside
/// batches that mix them, with the prefix cache on.
extension RealModel {
@Suite(RealModel.smolLM2Present)
struct InterventionTests {
    static var engine: Engine { RealModel.engine }
    static var width: Int { engine.model.config.embeddingLength }
    /// A chat prompt longer than the prefix cache's alignment (256 tokens), so that prefixes are reused.
    static let prompt: [Int32] = {
        let diary = (1...14).map { "Week \($0): watered \($0 % 3 + 1) times, \(20 + $0) degrees at noon, \($0 * 2) ripe fruit picked." }
        let text = "You are a careful assistant. Answer in one short paragraph, plainly and kindly, without lists. "
            + "I keep a small vegetable garden behind my flat, with two raised beds, a water butt and a compost heap. "
            + "My notes from this summer:\n" + diary.joined(separator: "\n")
            + "\nThe tomatoes grow well until the middle of summer, but every August their skins split. What should I change?"
        return try! engine.chatPromptTokens([.user(text)])
    }()
    /// A fixed direction with the model's width (not random: the test must not depend on a seed).
    static var direction: [Float] { (0..<width).map { Float(sin(Double($0) * 0.37)) } }

    static func request(_ interventions: [Intervention] = [], captures: [ActivationCapture] = [], samples: Int = 2,
                        prompt: [Int32] = prompt) -> GenerationRequest {
        GenerationRequest(promptTokens: prompt, samples: samples,
                          sampling: SamplingParameters(temperature: 1, topP: 0.95, seed: 11), maxTokens: 10,
                          topLogprobs: 3, interventions: interventions, captures: captures)
    }

    /// Tokens and every recorded log-probability: equal means bit-for-bit equal logits at the chosen tokens.
    struct Outcome: Equatable {
        var tokens: [[Int32]]
        var logprobs: [[TokenLogprobs]]
        var activations: [[CapturedActivations]]
        init(_ samples: [SampleResult]) {
            tokens = samples.map(\.tokens)
            logprobs = samples.map { $0.logprobs ?? [] }
            activations = samples.map(\.activations)
        }
    }

    static func alone(_ r: GenerationRequest, cache: Bool = false) throws -> Outcome {
        Outcome(try BatchGenerator(engine: engine, prefixCache: cache ? PrefixCache() : nil).generate([r])[0])
    }

    static func steer(_ c: Float, over span: InterventionSpan = .all) -> [Intervention] {
        [.add(direction, coefficient: c, at: .residualOut(layer: 10), over: span)]
    }

    /// A batch of [unsteered, +c·v, −c·v] gives each row what it gives alone, bit for bit, whether the
    /// push covers the prompt too (three prompts computed) or only the answer (one prompt shared).
    @Test(arguments: [InterventionSpan.all, .answer])
    func mixedBatchEqualsSoloRuns(_ span: InterventionSpan) throws {
        let requests = [Self.request(), Self.request(Self.steer(4, over: span)), Self.request(Self.steer(-4, over: span))]
        let generator = BatchGenerator(engine: Self.engine)
        let together = try generator.generate(requests).map(Outcome.init)
        let solo = try requests.map { try Self.alone($0) }
        #expect(together == solo)
        // The push is strong enough to matter, and its sign too.
        #expect(Set(together.map(\.tokens)).count == 3)
        let promptsComputed = generator.statistics.promptTokensComputed
        if span == .answer {
            #expect(promptsComputed == Self.prompt.count, "answer-only steering shares the prompt's keys and values")
        } else {
            #expect(promptsComputed == 3 * Self.prompt.count, "a steered prompt is not served from the plain one")
        }
    }

    /// A zero vector added at every point, and a zero direction projected out, change nothing.
    @Test func zeroVectorChangesNothing() throws {
        let zero = [Float](repeating: 0, count: Self.width)
        var edits: [Intervention] = []
        for l in 0..<Self.engine.model.config.layerCount {
            for p in [HookPoint.residualIn(layer: l), .attentionOutput(layer: l), .mlpOutput(layer: l), .residualOut(layer: l)] {
                edits.append(.add(zero, coefficient: 3, at: p))
                edits.append(.projectOut(zero, at: p))
            }
        }
        #expect(try Self.alone(Self.request(edits)) == Self.alone(Self.request()))
    }

    /// Projecting a direction out leaves no component along it in what is captured after.
    @Test func projectionRemovesDirection() throws {
        let d = Self.direction
        let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let point = HookPoint.residualOut(layer: 12)
        let out = try BatchGenerator(engine: Self.engine).activations(
            prompt: Self.prompt, answer: [], captures: [ActivationCapture(point, pooling: .everyPosition)],
            interventions: [.projectOut(d, at: point)])
        let rows = out[0].vectors
        #expect(rows.count == Self.prompt.count)
        for r in rows {
            let dot = zip(r, d).reduce(0) { $0 + $1.0 * $1.1 } / norm
            let size = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(dot) <= 1e-4 * size)
        }
    }

    /// Teacher-forced captures equal the hooks' own captures of one prefill of the whole transcript:
    /// every position bit for bit; the answer mean and the last prompt token computed from them.
    @Test func capturesEqualHookCaptures() throws {
        let answer = Self.engine.tokenizer.encode(" Water them deeply twice a week and mulch the bed so the soil stays evenly moist.")
        let points = [HookPoint.residualOut(layer: 3), .residualIn(layer: 20), .mlpOutput(layer: 29)]
        let hooks = Hooks()
        for p in points { hooks.capture(p) }
        let all = Self.prompt + answer
        _ = try Self.engine.prefill(all, into: Self.engine.model.newSequence(), hooks: hooks)

        let generator = BatchGenerator(engine: Self.engine)
        #expect(Self.prompt.count > PrefixCache().alignment)
        // Every pooling, then the pooled ones alone: every position must be computed the first time,
        // while the second reuses the first's aligned prompt prefix (a cache hit) and must still
        // capture every position it needs.
        for poolings in [Pooling.allCases, [.answerMean, .lastPromptToken]] {
            let captures = points.flatMap { p in poolings.map { ActivationCapture(p, pooling: $0) } }
            let out = try generator.activations(prompt: Self.prompt, answer: answer, captures: captures)
            for c in out {
                let rows = try #require(hooks.captured[c.capture.point])
                #expect(rows.count == all.count)
                switch c.capture.pooling {
                case .everyPosition:
                    #expect(c.vectors == rows)
                case .lastPromptToken:
                    #expect(c.vectors == [rows[Self.prompt.count - 1]])
                case .answerMean:
                    var sum = [Double](repeating: 0, count: Self.width)
                    for r in rows[Self.prompt.count...] { for i in sum.indices { sum[i] += Double(r[i]) } }
                    #expect(c.vectors == [sum.map { Float($0 / Double(answer.count)) }])
                }
            }
        }
        #expect(generator.prefixCache!.statistics.hits >= 1)
    }

    /// Captures that end at an early layer stop the pass there: the same vectors bit for bit as the
    /// whole pass, and the partly computed sequence never reaches the prefix cache (the whole prompt's
    /// logits afterwards equal a fresh prefill's).
    @Test func earlyCapturesStopThePassWithoutCachingIt() throws {
        let answer = Self.engine.tokenizer.encode(" Prune the dead stems in late winter, before new growth starts.")
        let captures = [ActivationCapture(.residualOut(layer: 3), pooling: .everyPosition),
                        ActivationCapture(.mlpOutput(layer: 11), pooling: .answerMean),
                        ActivationCapture(.residualIn(layer: 12), pooling: .lastPromptToken)]
        let generator = BatchGenerator(engine: Self.engine)
        let early = try generator.activations(prompt: Self.prompt, answer: answer, captures: captures)
        let whole = try BatchGenerator(engine: Self.engine).activations(prompt: Self.prompt, answer: answer, captures: captures, wholeModel: true)
        #expect(early.map(\.vectors) == whole.map(\.vectors))
        #expect(early.allSatisfy { !$0.vectors.isEmpty })
        #expect(early[0].vectors.count == Self.prompt.count + answer.count)
        let all = Self.prompt + answer
        let cached = try generator.computePrompt(all).logits
        let fresh = try Self.engine.prefill(all, into: Self.engine.model.newSequence())
        #expect(cached == fresh && !fresh.isEmpty)
    }

    /// Captures during generation: the prompt's positions, then each fed-back answer token's.
    @Test func capturesDuringGeneration() throws {
        let point = HookPoint.residualOut(layer: 15)
        let captures = Pooling.allCases.map { ActivationCapture(point, pooling: $0) }
        let r = Self.request(captures: captures, samples: 2)
        let results = try BatchGenerator(engine: Self.engine).generate([r, Self.request(Self.steer(4))])[0]
        for s in results {
            let every = s.activations.first { $0.capture.pooling == .everyPosition }!.vectors
            #expect(every.count == Self.prompt.count + s.tokens.count - 1 + (s.finishReason == .endOfTurn ? 1 : 0))
            let last = s.activations.first { $0.capture.pooling == .lastPromptToken }!.vectors
            #expect(last == [every[Self.prompt.count - 1]])
            // Prompt positions are the prompt's own (the same for every sample and as a plain prefill).
            let hooks = Hooks()
            hooks.capture(point)
            _ = try Self.engine.prefill(Self.prompt, into: Self.engine.model.newSequence(), hooks: hooks)
            #expect(Array(every.prefix(Self.prompt.count)) == hooks.captured[point]!)
            let mean = s.activations.first { $0.capture.pooling == .answerMean }!.vectors
            var sum = [Double](repeating: 0, count: Self.width)
            for v in every[Self.prompt.count...] { for i in sum.indices { sum[i] += Double(v[i]) } }
            let n = Double(every.count - Self.prompt.count)
            #expect(mean == [sum.map { Float($0 / n) }])
        }
        #expect(results[0].tokens != results[1].tokens)
    }

    /// Served from the cache or computed afresh, with or without interventions, the numbers are the
    /// same: a steered prompt, then the plain one, then both again, then a longer prompt sharing
    /// their prefix.
    @Test func cacheHitsEqualRecomputation() throws {
        let longer = Self.prompt + Self.engine.tokenizer.encode(" Also, the basil wilts at noon.")
        let sequence = [Self.request(Self.steer(3)), Self.request(), Self.request(Self.steer(3)), Self.request(),
                        Self.request(Self.steer(3), prompt: longer), Self.request(prompt: longer),
                        Self.request(Self.steer(-3, over: .prompt), captures: [ActivationCapture(.residualOut(layer: 8), pooling: .lastPromptToken)])]
        let cached = BatchGenerator(engine: Self.engine)
        for r in sequence {
            let hit = Outcome(try cached.generate([r])[0])
            #expect(hit == (try Self.alone(r)))
        }
        let s = cached.prefixCache!.statistics
        #expect(s.hits >= 4 && s.reusedTokens > 0)
    }

    /// Interventions that do not fit the model fail the request with a clear error.
    @Test func badInterventionsAreRejected() throws {
        let short = Self.request([.add([1, 2, 3], at: .residualIn(layer: 0))])
        #expect(throws: ModelError.self) { try BatchGenerator(engine: Self.engine).generate([short]) }
        let far = Self.request([.add(Self.direction, at: .residualIn(layer: 99))])
        #expect(throws: ModelError.self) { try BatchGenerator(engine: Self.engine).generate([far]) }
        // Without a prompt length, an answer-only span cannot be placed.
        let hooks = Hooks()
        hooks.apply(.add(Self.direction, at: .residualIn(layer: 0), over: .answer))
        #expect(throws: ModelError.self) {
            try Self.engine.prefill(Self.prompt, into: Self.engine.model.newSequence(), hooks: hooks)
        }
    }

    @Test func interventionsRoundTripAsJSON() throws {
        let i = Intervention.add([0.5, -1], coefficient: 2, at: .mlpOutput(layer: 4), over: .answer)
        let c = ActivationCapture(.residualOut(layer: 2), pooling: .lastPromptToken)
        let data = try JSONEncoder().encode([i])
        #expect(try JSONDecoder().decode([Intervention].self, from: data) == [i])
        #expect(try JSONDecoder().decode(ActivationCapture.self, from: JSONEncoder().encode(c)) == c)
        #expect(String(decoding: try JSONEncoder().encode(HookPoint.mlpOutput(layer: 4)), as: UTF8.self) == "\"mlp_out.4\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HookPoint.self, from: Data("\"mlp.4\"".utf8)) }
    }
}
}
