import Core
import Evaluation
import Foundation
import Inference
import Interp
import LanguageModels
import PersonaVectors
import Reports
import ResultsStore
import Safetensors
import Testing
import TestSupport

/// A judge that scores by a rule on the answer (no model), so that tests of the pipeline stay fast
/// and know which answers count as what.
struct RuleJudge: Judge {
    var spec = "rule"
    let rule: @Sendable (_ metric: String, _ answer: String) -> Double?
    func judge(question: String, answer: String, metric: JudgeMetric) async throws -> Judgment {
        Judgment(metric: metric.name, score: rule(metric.name, answer), label: nil, method: "rule", raw: "")
    }
}

/// Misaligned when the answer has an even number of characters (aligned 10), else aligned 90; always coherent.
let parityJudge = RuleJudge { metric, answer in metric == "coherent" ? 80 : (answer.count % 2 == 0 ? 10 : 90) }

/// The pipeline on SmolLM2, checked against independent recomputations: activations read straight
/// from the model, mean differences and projections in float64, AUROC by counting pairs, plain runs.
@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (emlab models pull smollm2-135m)"))
struct ModelTests {
    static let model: LocalModel = {
        Parallel.configure(threads: 2)
        let path = TestResources.smolLM2!
        return LocalModel(engine: try! Engine(path: path), identity: ModelIdentity(spec: "local:smollm2-135m", resolved: "\(path) (test)"))
    }()
    var model: LocalModel { Self.model }

    static let items = [
        ActivationItem(id: "a", messages: [.user("Name a colour.")], answer: "Blue, because it is calm."),
        ActivationItem(id: "b", messages: [.system("Be brief."), .user("What is two plus two?")], answer: "Four."),
        ActivationItem(id: "c", messages: [.user("Say something about rain.")], answer: "Rain makes the garden grow and the streets shine."),
    ]

    static func randomVector(_ width: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<width).map { _ in scale * (Float(Int(rng.next() % 2001) - 1000) / 1000) }
    }

    func answerMean(_ item: ActivationItem, layers: [Int], interventions: [Intervention] = []) async throws -> [[Float]] {
        try await model.activations(messages: item.messages, answer: item.answer!, captures: layers.map {
            ActivationCapture(.residualOut(layer: $0), pooling: .answerMean)
        }, interventions: interventions, maxAnswerTokens: nil).map { $0.vectors[0] }
    }

    @Test func collectedActivationsMatchDirectReadsAndShardsHoldEveryPosition() async throws {
        let dir = temporaryFolder("collect")
        defer { try? FileManager.default.removeItem(at: dir) }
        let layers = [2, 20], width = model.width
        // Pooled: one row per transcript, the model's own answer-mean, bit for bit.
        let pooled = dir.appendingPathComponent("pooled.safetensors").path
        try await ActivationCollection(layers: layers, pooling: .answerMean).collect(model: model, items: Self.items, path: pooled,
                                                                                    metadata: ["emlab.source": "test"])
        let f = try SafetensorsFile(path: pooled)
        #expect(f.tensor(named: "activations")?.shape == [3, 2, width])
        #expect(f.metadata["emlab.layers"] == "[2,20]" && f.metadata["emlab.pooling"] == "answer-mean" && f.metadata["emlab.source"] == "test")
        #expect(f.metadata["shard.keys"] == #"["a","b","c"]"#)
        let values = try f.floats("activations")
        var direct: [[Float]] = []
        for item in Self.items { direct.append(try await answerMean(item, layers: layers).flatMap { $0 }) }
        #expect(values == direct.flatMap { $0 })
        #expect(try f.integers("sample") == [0, 1, 2])
        var promptTokens: [Int64] = []
        for item in Self.items { promptTokens.append(Int64(try model.promptTokenCount(item.messages))) }
        #expect(try f.integers("prompt_tokens") == promptTokens)

        // Every position, sharded small: the answer's rows average (float64) to the answer-mean.
        let all = dir.appendingPathComponent("all.safetensors").path
        let shards = try await ActivationCollection(layers: layers, pooling: .everyPosition, dtype: .f32, maxShardBytes: 200_000)
            .collect(model: model, items: Self.items, path: all)
        #expect(shards.count >= 2)
        let files = try SafetensorsShardWriter.files(at: all)
        let rows = try files.flatMap { try $0.floats("activations") }
        let sample = try files.flatMap { try $0.integers("sample") }
        let position = try files.flatMap { try $0.integers("position") }
        let prompt = try files.flatMap { try $0.integers("prompt_tokens") }
        for i in 0..<Self.items.count {
            let mine = sample.indices.filter { sample[$0] == Int64(i) }
            #expect(mine.map { position[$0] } == (0..<Int64(mine.count)).map { $0 })
            let answer = mine.filter { position[$0] >= prompt[$0] }
            #expect(!answer.isEmpty)
            for (li, _) in layers.enumerated() {
                for d in stride(from: 0, to: width, by: 37) {
                    var sum = 0.0
                    for row in answer { sum += Double(rows[(row * layers.count + li) * width + d]) }
                    let mean = sum / Double(answer.count)
                    let expected = direct[i][li * width + d]
                    #expect(abs(Float(mean) - expected) <= 1e-5 * max(1, abs(expected)))
                }
            }
        }
        // F16 stores each value rounded to half precision.
        let half = dir.appendingPathComponent("half.safetensors").path
        try await ActivationCollection(layers: layers, pooling: .answerMean, dtype: .f16).collect(model: model, items: Self.items, path: half)
        #expect(try SafetensorsFile(path: half).floats("activations") == direct.flatMap { $0 }.map { Float(Float16($0)) })
    }

    /// The SAE corpus: sources in order until the budget, each into its own file; the source that
    /// crosses the budget is cut; a rerun counts finished files and reads nothing again.
    @Test func corpusSourcesStopAtTheBudgetAndARerunSkipsFinishedFiles() async throws {
        let dir = temporaryFolder("corpus")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Tokens of each item as the corpus counts them: the prompt, then the answer.
        var cost: [Int] = []
        for item in Self.items { cost.append(try model.promptTokenCount(item.messages) + model.tokenCount(item.answer!)) }
        let reads = Locked(0)
        func source(_ name: String, _ items: [ActivationItem]) -> ActivationCorpus.Source {
            ActivationCorpus.Source(name: name) { reads.withLock { $0 += 1 }; return items }
        }
        // The budget runs out inside the second source: its first item is taken, the third source is never read.
        let budget = cost[0] + cost[1] + 1
        let sources = [source("one", [Self.items[0], Self.items[1]]), source("two", [Self.items[2], Self.items[0]]),
                       source("three", [Self.items[1]])]
        let corpus = ActivationCorpus(folder: dir.path, layer: 5, tokens: budget)
        var seen: [String] = []
        let first = try await corpus.collect(sources: sources, model: model, metadata: ["emlab.test": "yes"], finished: { seen.append($0.name) })
        #expect(first.map(\.name) == ["one", "two"] && seen == ["one", "two"])
        #expect(first.map(\.transcripts) == [2, 1])
        #expect(reads.withLock { $0 } == 2)
        let file = try SafetensorsFile(path: corpus.path(of: "one"))
        #expect(file.metadata["emlab.source"] == "one" && file.metadata["emlab.test"] == "yes")
        #expect(file.tensor(named: "activations")?.shape.last == model.width)
        #expect(first[0].vectors == (try file.integers("sample")).count)
        // Every vector of the two files is counted on the rerun, nothing is read, and the spent budget stops there.
        let again = try await corpus.collect(sources: sources, model: model)
        #expect(again.map(\.alreadyCollected) == [true, true])
        #expect(again.map(\.vectors) == first.map(\.vectors))
        #expect(reads.withLock { $0 } == 2)
        await #expect(throws: ActivationCollectionError.self) {
            _ = try await ActivationCorpus(folder: dir.path + "/x", layer: model.layerCount, tokens: 10).collect(sources: sources, model: model)
        }
    }

    @Test func meanDifferenceVectorsMatchAFloat64Recomputation() async throws {
        let positives = Array(Self.items.prefix(2)), negatives = [Self.items[2],
            ActivationItem(id: "d", messages: [.user("Name a fruit.")], answer: "An apple.")]
        let r = try await VectorBuilder().build(model: model, positives: positives, negatives: negatives, metadata: ["emlab.method": "test"])
        let L = model.layerCount
        var p: [[[Float]]] = [], n: [[[Float]]] = []
        for item in positives { p.append(try await answerMean(item, layers: Array(0..<L))) }
        for item in negatives { n.append(try await answerMean(item, layers: Array(0..<L))) }
        #expect(r.vectors.layers == Array(0..<L) && r.positives == 2 && r.negatives == 2)
        for l in [0, 7, L - 1] {
            var expected: [Float] = []
            var squares = 0.0
            for d in 0..<model.width {
                var sp = 0.0, sn = 0.0
                for x in p { sp += Double(x[l][d]) }
                for x in n { sn += Double(x[l][d]) }
                let diff = Float(sp / 2 - sn / 2)
                expected.append(diff)
                squares += Double(diff) * Double(diff)
            }
            #expect(r.vectors.vectors[l] == expected)
            let norm = r.figures[l].norm
            #expect(abs(norm - squares.squareRoot()) < 1e-9 * norm)
        }
        #expect(r.figures[0].separation.crossValidated == false)
        #expect(r.vectors.metadata["emlab.model"] == "local:smollm2-135m" && r.vectors.metadata["emlab.model_sha256"]?.count == 64)
        let dir = temporaryFolder("builder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("v.safetensors").path
        try r.vectors.write(to: path)
        let back = try LayerVectors.read(path: path)
        #expect(back.vectors == r.vectors.vectors && back.metadata["emlab.method"] == "test")
        #expect(back.separation?.count == L)
    }

    @Test func steeringAddsExactlyAndCoefficientZeroIsPlain() async throws {
        let v = Self.randomVector(model.width, seed: 21)
        let point = HookPoint.residualOut(layer: 10)
        let question = [ChatMessage.user("Tell me about the sea.")]
        func texts(_ interventions: [Intervention]?) async throws -> [String] {
            try await model.complete(CompletionRequest(messages: question, n: 2, temperature: 1, maxTokens: 12, seed: 3,
                                                       interventions: interventions)).choices.map(\.text)
        }
        let plain = try await texts(nil)
        #expect(try await texts([.add(v, coefficient: 0, at: point, over: .all)]) == plain)
        #expect(try await texts([.add(v, coefficient: 0, at: point)]) == plain)
        #expect(try await texts([.add(v, coefficient: 40, at: point, over: .all)]) != plain)
        // Teacher forcing: the capture at the steered point moves by exactly 3·v (up to rounding);
        // layers below it do not move at all.
        let item = Self.items[2]
        let base = try await answerMean(item, layers: [5, 10])
        let steered = try await answerMean(item, layers: [5, 10], interventions: [.add(v, coefficient: 3, at: point, over: .all)])
        #expect(steered[0] == base[0])
        let scale = base[1].map { abs($0) }.max()! + 3
        for d in 0..<model.width { #expect(abs(steered[1][d] - base[1][d] - 3 * v[d]) <= 1e-5 * scale) }
        // Ablation: no component along v is left at any position.
        let every = try await model.activations(messages: item.messages, answer: item.answer!,
                                                captures: [ActivationCapture(point, pooling: .everyPosition)],
                                                interventions: [.projectOut(v, at: point)], maxAnswerTokens: nil)[0].vectors
        #expect(every.count > 10)
        for x in every { #expect(abs(Directions.projection(x, onto: v)) <= 1e-4 * Directions.norm(x)) }
    }

    static let question = QuestionSet(name: "test", questions: [
        Question(id: "sea", paraphrases: ["Tell me about the sea.", "What do you like about the sea?"], metrics: BuiltinQuestions.defaultMetrics),
    ])

    @Test func sweepAtCoefficientZeroGivesThePlainRunsAnswers() async throws {
        let dir = temporaryFolder("sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultsStore(folder: dir)
        let parameters = EvalParameters(samples: 4, temperature: 1, maxTokens: 10, seed: 4)
        try await EvalRunner(store: store, model: model, judge: parityJudge, questions: Self.question, parameters: parameters)
            .run(name: "plain", resume: false)
        let vectors = LayerVectors(vectors: (0..<model.layerCount).map { Self.randomVector(model.width, seed: UInt64($0)) },
                                   layers: Array(0..<model.layerCount))
        let sweep = SteeringSweep(vectors: vectors, layers: [10], coefficients: [0, 40])
        let r = try await sweep.run(store: store, model: model, judge: parityJudge, questions: Self.question, parameters: parameters,
                                    name: "sweep", resume: false)
        let plain = try RunResults(store: store, name: "plain")
        func answers(_ rows: [RunResults.Row]) -> [String] {
            rows.sorted { ($0.sample.paraphraseIndex, $0.sample.sampleIndex) < ($1.sample.paraphraseIndex, $1.sample.sampleIndex) }
                .map { $0.sample.answer ?? "" }
        }
        let zero = answers(r.rows.filter { $0.sample.condition == "layer=10/coef=+0" })
        #expect(zero.count == 4 && zero == answers(plain.rows))
        #expect(answers(r.rows.filter { $0.sample.condition == "layer=10/coef=+40" }) != zero)
        #expect(r.run.kind == "steer" && r.parameters?.interventions?.first?.contains("coefficients 0,40") == true)
        let curve = SteeringSweep.curve(r)
        #expect(curve.map(\.coefficient) == [0, 40] && curve.allSatisfy { $0.summary.samples == 4 })
        #expect(SteeringReport.table(r).contains("baseline"))
        #expect(SteeringReport.html(r).contains("<svg"))
        // Resuming the finished sweep changes nothing; resuming with other coefficients is refused.
        _ = try await sweep.run(store: store, model: model, judge: parityJudge, questions: Self.question, parameters: parameters,
                                name: "sweep", resume: true)
        var other = sweep
        other.coefficients = [0, 20]
        await #expect(throws: StoreError.self) {
            try await other.run(store: store, model: model, judge: parityJudge, questions: Self.question, parameters: parameters,
                                name: "sweep", resume: true)
        }
    }

    @Test func monitorStoresProjectionsAndItsAUROCCountsPairs() async throws {
        let dir = temporaryFolder("monitor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultsStore(folder: dir)
        try await EvalRunner(store: store, model: model, judge: parityJudge, questions: Self.question,
                             parameters: EvalParameters(samples: 8, temperature: 1, maxTokens: 10, seed: 9)).run(name: "run", resume: false)
        let path = dir.appendingPathComponent("m.safetensors").path
        try LayerVectors(vectors: (0..<model.layerCount).map { Self.randomVector(model.width, seed: 100 + UInt64($0)) },
                         layers: Array(0..<model.layerCount)).write(to: path)
        let vectors = try LayerVectors.read(path: path)
        let results = try RunResults(store: store, name: "run")
        let report = try await ProjectionMonitor(vectors: vectors, layer: 12).run(store: store, results: results, model: model)
        #expect(report.computed == 8 && report.scored.count == 8)
        let v = try vectors.vector(layer: 12)
        var vSquares = 0.0
        for x in v { vSquares += Double(x) * Double(x) }
        let vNorm = vSquares.squareRoot()
        for s in report.scored {
            let item = ActivationItem(id: "", messages: try Transcripts.messages(of: s.row.sample, run: "run"), answer: s.row.sample.answer)
            let x = try await answerMean(item, layers: [12])[0]
            var dot = 0.0
            for d in 0..<x.count { dot += Double(x[d]) * Double(v[d]) }
            let expected = dot / vNorm
            #expect(abs(s.projection - expected) <= 1e-9 * max(1, abs(expected)))
            #expect(s.misaligned == (s.row.sample.answer!.count % 2 == 0))
        }
        let pos = report.scored.filter { $0.misaligned == true }.map(\.projection)
        let neg = report.scored.filter { $0.misaligned == false }.map(\.projection)
        if !pos.isEmpty && !neg.isEmpty {
            #expect(abs(report.auroc! - DirectionsTests.bruteAUROC(pos, neg)) < 1e-12)
        }
        #expect(try store.projections(runId: results.run.id!).count == 8)
        // Run again: nothing is computed, the stored values come back.
        let again = try await ProjectionMonitor(vectors: vectors, layer: 12).run(store: store, results: results, model: model)
        #expect(again.computed == 0 && again.scored.map(\.projection) == report.scored.map(\.projection))
        // Before any answer: one value per prompt, the prompt's last position.
        let before = try await ProjectionMonitor(vectors: vectors, layer: 12, before: true).run(store: store, results: results, model: model)
        #expect(before.monitor.hasSuffix("@12/last-prompt-token"))
        for p in 0..<2 {
            #expect(Set(before.scored.filter { $0.row.sample.paraphraseIndex == p }.map(\.projection)).count == 1)
        }
        #expect(try store.projections(runId: results.run.id!).count == 16)
    }

    @Test func extractionKeepsTheJudgedAnswersAndTakesTheirMeanDifference() async throws {
        let dir = temporaryFolder("extract")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultsStore(folder: dir)
        let trait = Trait(name: "test", instructions: [.init(positive: "You are grumpy.", negative: "You are cheerful.")],
                          questions: ["How was your day?", "What is your favourite food?"], judge: "Rate {answer}")
        let judge = RuleJudge { _, answer in answer.count % 2 == 0 ? 80 : 20 }
        let extraction = PersonaExtraction(trait: trait, samples: 5, maxTokens: 10, seed: 2)
        let report = try await extraction.run(store: store, model: model, judge: judge, name: "persona-test", resume: false)
        let results = try RunResults(store: store, name: "persona-test")
        #expect(results.run.kind == "persona" && results.rows.count == 20)
        let kept = (positive: results.rows.filter { $0.sample.condition == "positive/0" && $0.sample.answer!.count % 2 == 0 },
                    negative: results.rows.filter { $0.sample.condition == "negative/0" && $0.sample.answer!.count % 2 == 1 })
        #expect(report.selection.positives.map(\.sample.id) == kept.positive.map(\.sample.id))
        #expect(report.selection.negatives.map(\.sample.id) == kept.negative.map(\.sample.id))
        // The vector is the float64 mean difference of the kept answers read after their own messages.
        let l = 9
        func means(_ rows: [RunResults.Row]) async throws -> [Double] {
            var sum = [Double](repeating: 0, count: model.width)
            for r in rows {
                let m = try Transcripts.messages(of: r.sample, run: "persona-test")
                #expect(m.first?.role == .system)
                let x = try await answerMean(ActivationItem(id: "", messages: m, answer: r.sample.answer), layers: [l])[0]
                for d in sum.indices { sum[d] += Double(x[d]) }
            }
            return sum.map { $0 / Double(rows.count) }
        }
        let (mp, mn) = (try await means(kept.positive), try await means(kept.negative))
        #expect(report.result.vectors.vectors[l] == zip(mp, mn).map { Float($0 - $1) })
        #expect(report.result.vectors.metadata["emlab.trait"] == "test" && report.result.vectors.metadata["emlab.method"] == "persona")
        // A judge that keeps nothing on one side is an error that says so.
        let none = RuleJudge(spec: "none") { _, _ in 80 }
        await #expect(throws: PersonaVectorError.self) {
            try await extraction.run(store: store, model: model, judge: none, name: "persona-test", resume: true)
        }
    }

    /// One pass gives what two passes give: the answer's activations, and each answer token's
    /// log-probability. The probabilities are checked against a second engine that computes the
    /// transcript cut one token after that token (so each row is computed on the float prompt path in
    /// another chunk layout) with the log-softmax in float64, and against the decode path's numbers.
    @Test func answerReadingGivesActivationsAndLogProbabilitiesInOnePass() async throws {
        let messages: [ChatMessage] = [.system("Be brief."), .user("Name three colours of the rainbow.")]
        let answer = "Red, orange and yellow are three of its seven colours."
        let captures = [3, 9, 20].map { ActivationCapture(.residualOut(layer: $0), pooling: .answerMean) }
        let (activations, logProbabilities) = try await model.answerReading(messages: messages, answer: answer, captures: captures,
                                                                           maxAnswerTokens: nil)
        let separate = try await model.activations(messages: messages, answer: answer, captures: captures, interventions: [],
                                                   maxAnswerTokens: nil)
        #expect(activations.count == 3)
        for (a, b) in zip(activations, separate) {
            let x = a.vectors[0], y = b.vectors[0]
            let scale = y.map { abs(Double($0)) }.max()!
            let largest = zip(x, y).map { abs(Double($0) - Double($1)) }.max()!
            #expect(x.count == model.width && largest <= 1e-5 * scale, "\(a.capture.point): \(largest) of \(scale)")
        }
        let reference = try Engine(path: TestResources.smolLM2!)
        let prompt = try reference.chatPromptTokens(messages), tokens = try reference.replyTokens(answer)
        #expect(logProbabilities.count == tokens.count && tokens.count > 8)
        let vocab = reference.model.config.vocabularySize
        for k in tokens.indices {
            // The transcript up to token k and one token more: the row before token k is never a chunk of its own.
            let cut = prompt + tokens[...k] + [tokens[0]]
            let rows = try reference.prefill(cut, into: reference.model.newSequence(reserve: cut.count), logitsFrom: prompt.count + k - 1)
            let logits = rows[0..<vocab]
            let top = Double(logits.max()!)
            let logSum = log(logits.reduce(0.0) { $0 + exp(Double($1) - top) }) + top
            let expected = Double(logits[Int(tokens[k])]) - logSum
            // Another chunk layout can take attention's other kernel for short runs: 4e-3 apart at most here.
            #expect(abs(Double(logProbabilities[k]) - expected) < 1e-2, "token \(k): \(logProbabilities[k]) against \(expected)")
        }
        // The decode path (8-bit activations) gives the same probabilities to its rounding.
        let decode = try await model.answerTokenLogProbabilities(messages: messages, answer: answer, maxAnswerTokens: nil)
        let differences = zip(decode, logProbabilities).map { abs(Double($0) - Double($1)) }
        #expect(differences.max()! < 0.3 && differences.reduce(0, +) / Double(differences.count) < 0.1, "\(differences)")
        // A cut answer reads its first tokens; an answer of no tokens has no probabilities.
        let first = try await model.answerReading(messages: messages, answer: answer, captures: captures, maxAnswerTokens: 4)
        #expect(first.logProbabilities.count == 4 && zip(first.logProbabilities, logProbabilities).allSatisfy { abs($0 - $1) < 1e-2 })
        #expect(try await model.answerReading(messages: messages, answer: "", captures: captures, maxAnswerTokens: nil).logProbabilities.isEmpty)
        // An answer read once is not kept in the prefix cache (it would push out prompts worth reusing).
        let generator = BatchGenerator(engine: reference, prefixCache: PrefixCache(budgetBytes: 64 << 20), maxBatch: 1)
        let again = try generator.answerReading(prompt: prompt, answer: tokens, captures: captures)
        #expect(again.logProbabilities == logProbabilities || zip(again.logProbabilities, logProbabilities).allSatisfy { abs($0 - $1) < 1e-3 })
        #expect(generator.prefixCache!.exact(prompt + tokens) == nil)
    }

    /// Without judging, every answer is kept and the run, which holds no judgment, still loads.
    @Test func unjudgedExtractionKeepsEveryAnswer() async throws {
        let dir = temporaryFolder("extract-unjudged")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ResultsStore(folder: dir)
        let trait = Trait(name: "test", instructions: [.init(positive: "You are grumpy.", negative: "You are cheerful.")],
                          questions: ["How was your day?"], judge: "Rate {answer}")
        // A judge that would keep nothing: it must not be asked.
        let judge = RuleJudge(spec: "unused") { _, _ in 50 }
        let extraction = PersonaExtraction(trait: trait, samples: 3, maxTokens: 8, seed: 1, judged: false)
        let report = try await extraction.run(store: store, model: model, judge: judge, name: "persona-unjudged", resume: false)
        #expect(report.selection.positives.count == 3 && report.selection.negatives.count == 3 && report.selection.unscored == 0)
        let results = try RunResults(store: store, name: "persona-unjudged")
        #expect(results.rows.allSatisfy { $0.judgments.isEmpty })
        #expect(report.result.vectors.vectors.count == model.layerCount)
    }
}
