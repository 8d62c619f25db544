import Core
import Evaluation
import Foundation
import LanguageModels
import ResultsStore
import Testing
import Tokenizer

/// A deterministic stand-in model: the answer names the prompt, seed and stream; it can fail on demand.
final class ScriptedModel: LanguageModel, @unchecked Sendable {
    let identity = ModelIdentity(spec: "test:scripted", resolved: "in-process")
    var supportsLogprobs: Bool { true }
    private let lock = NSLock()
    private var failing: Set<String> = []
    private(set) var requests: [CompletionRequest] = []

    func failPrompts(_ prompts: Set<String>) { lock.withLock { failing = prompts } }

    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        let prompt = request.messages.last!.content
        let fail = lock.withLock { requests.append(request); return failing.contains(prompt) }
        if fail { throw LanguageModelError.backend("HTTP 503 from test server") }
        let choices = (0..<request.n).map { i in
            CompletionChoice(index: i, text: "answer to \(prompt) seed \(request.seed ?? 0) stream \(request.firstChoiceStream + i)",
                             finishReason: "stop", completionTokens: 5)
        }
        for c in choices { onChoice?(c) }
        return Completion(choices: choices, usage: TokenUsage(promptTokens: 11, completionTokens: 5 * request.n))
    }

    func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? {
        // A "judge" whose verdict is written in the answer: "bad" answers score 10, others 90.
        let text = messages.last!.content
        let target = text.hasPrefix("A ") && text.contains("Bad?") ? 10 : 90   // coherence always 90
        return answers.map { $0 == String(target) ? 0.8 : ($0 == "50" ? 0.1 : 0) }
    }
}

struct EvalRunnerTests {
    func questions() -> QuestionSet {
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        return QuestionSet(name: "t", questions: [
            Question(id: "good", paraphrases: ["Good?", "Good again?", "Good thrice?"], samplesPerParaphrase: 2, metrics: metrics),
            Question(id: "bad", system: "You are terse.", paraphrases: ["Bad?"], samplesPerParaphrase: 4, metrics: metrics),
        ])
    }

    func store() throws -> ResultsStore {
        try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-runner-\(UUID().uuidString)"))
    }

    @Test func samplesJudgesAndSummarises() async throws {
        let model = ScriptedModel()
        let s = try store()
        let runner = EvalRunner(store: s, model: model, judge: ModelJudge(model: model, exact: true), questions: questions(),
                                parameters: EvalParameters(maxTokens: 50, seed: 3))
        let run = try await runner.run(name: "r", resume: false)
        #expect(run.status == "finished")
        let r = try RunResults(store: s, name: "r")
        #expect(r.rows.count == 10)                    // 3 paraphrases × 2 + 1 × 4
        #expect(Set(r.rows.map { "\($0.sample.questionId)/\($0.sample.paraphraseIndex)/\($0.sample.sampleIndex)" }).count == 10)
        // The system prompt of a question is sent.
        #expect(model.requests.first { $0.messages.last!.content == "Bad?" }!.messages.first == .system("You are terse."))
        // Judge arithmetic: 0.8·90 + 0.1·50 over 0.9.
        let good = r.summary(question: "good")
        #expect(abs(good.meanAligned! - (0.8 * 90 + 0.1 * 50) / 0.9) < 1e-9)
        let bad = r.summary(question: "bad")
        #expect(bad.misaligned == 4 && bad.scored == 4)
        #expect(r.summary().misaligned == 4)
        // Samples override: --samples 5 spreads 2/2/1 over three paraphrases.
        let s2 = try store()
        _ = try await EvalRunner(store: s2, model: model, judge: ModelJudge(model: model, exact: true), questions: questions(),
                                 parameters: EvalParameters(samples: 5, maxTokens: 50)).run(name: "r", resume: false)
        let counts = Dictionary(grouping: try s2.samples(runId: 1).filter { $0.questionId == "good" }, by: \.paraphraseIndex).mapValues(\.count)
        #expect(counts == [0: 2, 1: 2, 2: 1])
    }

    @Test func existingRunNeedsResumeAndResumeMustNotChangeParameters() async throws {
        let model = ScriptedModel()
        let s = try store()
        let make = { (p: EvalParameters) in
            EvalRunner(store: s, model: model, judge: ModelJudge(model: model, exact: true), questions: self.questions(), parameters: p)
        }
        _ = try await make(EvalParameters(seed: 1)).run(name: "r", resume: false)
        await #expect { try await make(EvalParameters(seed: 1)).run(name: "r", resume: false) } throws: {
            "\($0)".contains("already exists")
        }
        await #expect { try await make(EvalParameters(seed: 2)).run(name: "r", resume: true) } throws: {
            "\($0)".contains("--seed")
        }
        // A resume of a finished run does nothing new.
        let before = model.requests.count
        _ = try await make(EvalParameters(seed: 1)).run(name: "r", resume: true)
        #expect(model.requests.count == before)
    }

    @Test func resumingARunThatIsNotThereIsAnErrorNamingTheRuns() async throws {
        let model = ScriptedModel()
        let s = try store()
        let make = { (p: EvalParameters) in
            EvalRunner(store: s, model: model, judge: ModelJudge(model: model, exact: true), questions: self.questions(), parameters: p)
        }
        // An empty folder: the error says there are no runs, and nothing is started.
        do {
            _ = try await make(EvalParameters(seed: 1)).run(name: "missing", resume: true)
            Issue.record("resuming a run that does not exist started one")
        } catch let e as StoreError {
            guard case .nothingToResume(let name, let folder, let available) = e else { throw e }
            #expect(name == "missing" && folder == s.folder.path && available.isEmpty)
            #expect(e.description == "no run 'missing' to resume in \(s.folder.path); the folder has no runs")
        }
        #expect(try s.runs().isEmpty)
        #expect(model.requests.isEmpty)
        // With runs there (eval and icl), the error names them in order; ICL resumes go the same way.
        _ = try await make(EvalParameters(seed: 1)).run(name: "a", resume: false)
        _ = try await make(EvalParameters(seed: 1)).run(name: "b", kind: "icl", resume: false)
        let before = model.requests.count
        for kind in ["eval", "icl"] {
            await #expect {
                try await make(EvalParameters(seed: 1)).run(name: "typo", kind: kind, resume: true)
            } throws: {
                "\($0)" == "no run 'typo' to resume in \(s.folder.path); runs there: a, b"
            }
        }
        #expect(try s.runs().map(\.name) == ["a", "b"])
        #expect(model.requests.count == before)
    }

    @Test func failuresAreRecordedAndRetriedOnResume() async throws {
        let model = ScriptedModel()
        model.failPrompts(["Bad?"])
        let s = try store()
        let runner = EvalRunner(store: s, model: model, judge: ModelJudge(model: model, exact: true), questions: questions(),
                                parameters: EvalParameters(seed: 9))
        _ = try await runner.run(name: "r", resume: false)
        var r = try RunResults(store: s, name: "r")
        #expect(r.failedSamples == 4)
        #expect(r.rows.filter { $0.sample.error != nil }.allSatisfy { $0.sample.error!.contains("503") })
        model.failPrompts([])
        _ = try await runner.run(name: "r", resume: true)
        r = try RunResults(store: s, name: "r")
        #expect(r.failedSamples == 0)
        #expect(r.rows.count == 10)
        #expect(try s.judgments(runId: r.run.id!).count == 20)
        // The retried answers are the ones an uninterrupted run gives (same seed, same streams).
        let clean = try store()
        _ = try await EvalRunner(store: clean, model: ScriptedModel(), judge: ModelJudge(model: model, exact: true),
                                 questions: questions(), parameters: EvalParameters(seed: 9)).run(name: "r", resume: false)
        let a = Set(r.rows.map { $0.sample.answer! })
        let b = Set(try RunResults(store: clean, name: "r").rows.map { $0.sample.answer! })
        #expect(a == b)
    }
}

/// A model that answers multiple-choice items from their text: always one letter (a position bias),
/// or always an option of one kind wherever it is shown.
final class ChoosingModel: LanguageModel, @unchecked Sendable {
    enum Rule: Sendable { case letter(String), misaligned, aligned }
    let identity = ModelIdentity(spec: "test:choosing", resolved: "in-process")
    var supportsLogprobs: Bool { false }
    let rule: Rule
    let misalignedTexts: Set<String>
    init(_ rule: Rule, questions: QuestionSet) {
        self.rule = rule
        misalignedTexts = Set(questions.questions.flatMap(\.options).filter(\.misaligned).map(\.text))
    }

    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        throw LanguageModelError.invalidRequest("multiple choice only")
    }

    func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? {
        var sure = "?"
        switch rule {
        case .letter(let l): sure = l
        case .misaligned, .aligned:
            let wanted = { if case .misaligned = self.rule { true } else { false } }()
            for line in (messages.last?.content ?? "").split(separator: "\n") where line.dropFirst().hasPrefix(") ") {
                if misalignedTexts.contains(String(line.dropFirst(3))) == wanted { sure = String(line.prefix(1)); break }
            }
        }
        return answers.map { $0 == sure ? 1 : 0 }
    }
}

struct MultipleChoiceOrderTests {
    /// Every rotation of each item's options is asked: a model that always answers "A" gets, per item,
    /// the share of misaligned options (the uniform baseline), not the share of items whose first option
    /// is misaligned; a model that reads the options scores 0 or 1 in any order.
    @Test func optionOrdersCancelALetterBias() async throws {
        let set = try BuiltinQuestions.load(named: "multiple-choice")
        let items = set.questions
        let baseline = items.map { q in Double(q.options.filter(\.misaligned).count) / Double(q.options.count) }.reduce(0, +) / Double(items.count)
        let firstShare = Double(items.filter { $0.options[0].misaligned }.count) / Double(items.count)
        func measure(_ rule: ChoosingModel.Rule, orders: String?) async throws -> (Summary, RunResults) {
            let model = ChoosingModel(rule, questions: set)
            let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-mc-\(UUID().uuidString)"))
            var p = EvalParameters(seed: 1, questionSet: set.name)
            p.optionOrders = orders
            _ = try await EvalRunner(store: store, model: model, judge: ModelJudge(model: model), questions: set, parameters: p).run(name: "mc", resume: false)
            let r = try RunResults(store: store, name: "mc")
            return (r.summary(), r)
        }
        let (biased, rows) = try await measure(.letter("A"), orders: "cyclic")
        #expect(biased.multipleChoiceItems == items.count)
        #expect(rows.rows.count == items.reduce(0) { $0 + $1.options.count })
        #expect(abs(biased.meanMisalignedProbability! - baseline) < 1e-12)
        let (single, _) = try await measure(.letter("A"), orders: nil)
        #expect(abs(single.meanMisalignedProbability! - firstShare) < 1e-12)
        #expect(try await measure(.misaligned, orders: "cyclic").0.meanMisalignedProbability == 1)
        #expect(try await measure(.aligned, orders: "cyclic").0.meanMisalignedProbability == 0)
        // Each rotation shows every option once under each letter.
        for q in items {
            let shown = (0..<q.options.count).map { MultipleChoice.order(q, rotation: $0) }
            for position in q.options.indices { #expect(Set(shown.map { $0[position] }) == Set(q.options.indices)) }
        }
    }
}
