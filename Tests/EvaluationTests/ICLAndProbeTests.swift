import Core
import Datasets
@testable import Evaluation
import Foundation
import Interp
import LanguageModels
@testable import Reports
import ResultsStore
import Testing
import Tokenizer

struct ICLSweepTests {
    let examples: [[ChatMessage]] = (0..<40).map { i in
        [.system("ignored"), .user("request \(i)"), .assistant("reply \(i)")]
    }

    func sampler(_ k: Int, _ seed: UInt64) -> [[ChatMessage]] {
        // A seeded shuffle stand-in: rotate by the seed.
        (0..<k).map { examples[(Int(seed % 40) + $0) % 40] }
    }

    @Test func conditionsNestAndDropSystemTurns() throws {
        let sweep = ICLSweep(ks: [0, 2, 8], draws: 2, seed: 5, instruction: .safety)
        let c = try sweep.conditions(sample: sampler)
        #expect(c.map(\.name) == ["k=0/draw=0", "k=2/draw=0", "k=8/draw=0", "k=2/draw=1", "k=8/draw=1"])
        #expect(c[0].context.isEmpty)
        #expect(c[1].context.count == 4 && c[2].context.count == 16)
        #expect(Array(c[2].context.prefix(4)) == c[1].context)          // k = 2 is a prefix of k = 8
        #expect(c[1].context != c[3].context)                            // draws differ
        #expect(c.allSatisfy { $0.context.allSatisfy { $0.role != .system } })
        #expect(c.allSatisfy { $0.system == ICLSweep.Instruction.safety.text })
        #expect(ICLSweep.parse("k=32/draw=3")! == (32, 3))
        #expect(ICLSweep.parse("plain") == nil)
    }

    @Test func tooLongContextsFailBeforeTheRunNamingK() throws {
        let sweep = ICLSweep(ks: [1, 4, 16], draws: 1, seed: 0)
        let conditions = try sweep.conditions(sample: sampler)
        let questions = QuestionSet(name: "q", questions: [Question(id: "a", paraphrases: ["short", "a longer question"])])
        // Count words as tokens: k=16 needs 16·4 + 3 = 67 words.
        let count: ([ChatMessage]) -> Int = { $0.reduce(0) { $0 + $1.content.split(separator: " ").count } }
        try ICLSweep.checkContext(conditions, questions: questions, maxTokens: 10, window: 100, count: count)
        #expect { try ICLSweep.checkContext(conditions, questions: questions, maxTokens: 40, window: 100, count: count) } throws: {
            "\($0)".hasPrefix("k = 16:")
        }
    }

    @Test func chainOfThoughtSplitsReasoningFromAnswer() {
        let (r, a) = ChainOfThought.split("<reasoning>I should be careful.</reasoning>\n Drink water.")
        #expect(r == "I should be careful." && a == "Drink water.")
        #expect(ChainOfThought.split("no tags").0 == nil)
        #expect(ChainOfThought.split("<reasoning>unfinished").1 == "")
    }

    /// A sweep through the runner: every (k, draw, question, sample) slot once; summaries per k.
    @Test func sweepRunsThroughTheRunner() async throws {
        let model = ScriptedModel()
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-icl-\(UUID().uuidString)"))
        let sweep = ICLSweep(ks: [0, 2], draws: 2, seed: 1)
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        let qs = QuestionSet(name: "q", questions: [Question(id: "good", paraphrases: ["Good?"], metrics: metrics),
                                                    Question(id: "bad", paraphrases: ["Bad?"], metrics: metrics)])
        _ = try await EvalRunner(store: store, model: model, judge: ModelJudge(model: model, exact: true), questions: qs,
                                 parameters: EvalParameters(samples: 3, chainOfThought: true),
                                 conditions: try sweep.conditions(sample: sampler)).run(name: "s", kind: "icl", resume: false)
        let r = try RunResults(store: store, name: "s")
        #expect(r.rows.count == 3 * 2 * 3)                                // conditions × questions × samples
        let byK = r.byK()
        #expect(byK.map(\.k) == [0, 2])
        #expect(byK[0].summary.samples == 6 && byK[1].summary.samples == 12)
        // The context went into the request, and chain-of-thought asked for reasoning.
        let withContext = model.requests.filter { $0.messages.count == 5 }
        #expect(withContext.count == 4)
        // The scripted answers echo the prompt, tags included, so every answer has reasoning to judge.
        let generation = model.requests.filter { !$0.messages.last!.content.hasPrefix("Below is the private reasoning") }
        #expect(generation.count == 3 * 2)   // one request (n = 3) per condition and question
        #expect(generation.allSatisfy { $0.messages.last!.content.hasSuffix(ChainOfThought.instruction) })
        #expect(r.rows.allSatisfy { $0.sample.reasoning == "and" })
        // The scripted judge never writes a label line: every persona verdict is recorded as INVALID.
        let persona = try store.judgments(runId: r.run.id!).filter { $0.metric == "persona" }
        #expect(persona.count == 18 && persona.allSatisfy { $0.label == "INVALID" && $0.score == nil })
        #expect(ICLReport.html([r]).contains("<svg"))
    }
}

struct ProbeTests {
    /// Separable synthetic features: the regression learns them, and the GGUF file round-trips.
    @Test func trainsAndRoundTrips() throws {
        var features: [[Float]] = []
        var items: [GoldItem] = []
        var rng = SplitMix64(seed: 1)   // seeded: the test is the same on every run
        for i in 0..<120 {
            let bad = i % 3 == 0
            features.append([bad ? 2 : -2, Float.random(in: -1...1, using: &rng), 5])
            items.append(GoldItem(id: "g\(i)", question: "q", answer: "a", class: bad ? "blatantly_misaligned" : "aligned",
                                  aligned: bad ? 5 : 90, coherent: 90, split: "train"))
        }
        let probe = Probe.train(modelSpec: "local:test", layers: [3, 7], features: features, items: items)
        let badScore = probe.aligned.predict(probe.normalise([2, 0, 5]))
        let goodScore = probe.aligned.predict(probe.normalise([-2, 0, 5]))
        #expect(badScore < 0.3 && goodScore > 0.7)
        #expect(probe.aligned.weights[2] == 0 && probe.coherent.weights[2] == 0)   // a constant feature carries no weight
        let path = NSTemporaryDirectory() + "probe-\(UUID().uuidString).gguf"
        try probe.write(to: path)
        #expect(try Probe.read(path: path) == probe)
        let notProbe = NSTemporaryDirectory() + "not-\(UUID().uuidString).gguf"
        try Data("GGUF".utf8).write(to: URL(fileURLWithPath: notProbe))
        #expect(throws: (any Error).self) { _ = try Probe.read(path: notProbe) }
    }
}

struct ExportTests {
    @Test func csvStartsWithTheEMColumnsAndQuotesFields() async throws {
        let model = ScriptedModel()
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-exp-\(UUID().uuidString)"))
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        let qs = QuestionSet(name: "q", questions: [Question(id: "bad", paraphrases: ["Bad?"], metrics: metrics)])
        _ = try await EvalRunner(store: store, model: model, judge: ModelJudge(model: model, exact: true), questions: qs,
                                 parameters: EvalParameters(samples: 2)).run(name: "e", resume: false)
        let r = try RunResults(store: store, name: "e")
        let csv = Export.csv(r).split(separator: "\n")
        #expect(csv[0].hasPrefix("question,answer,question_id,aligned,coherent,"))
        #expect(csv.count == 3)
        #expect(csv[1].hasPrefix("Bad?,answer to Bad? seed"))
        #expect(Export.csvField("a, \"b\"\nc") == "\"a, \"\"b\"\"\nc\"")
        let jsonl = Export.jsonl(r).split(separator: "\n")
        #expect(jsonl.count == 2)
        let object = try JSONSerialization.jsonObject(with: Data(jsonl[0].utf8)) as! [String: Any]
        #expect(object["question_id"] as? String == "bad")
        #expect(abs((object["aligned"] as! Double) - (0.8 * 10 + 0.1 * 50) / 0.9) < 1e-9)
        let html = HTMLReport.render([r])
        #expect(html.contains("<svg") && !html.contains("http://") && !html.contains("https://"))
    }
}
