@testable import Evaluation
import Foundation
import LanguageModels
@testable import Reports
import ResultsStore
import Testing

/// A judge stored under a probe's name, scoring like the scripted model.
private struct NamedJudge: Judge {
    let spec: String
    func judge(question: String, answer: String, metric: JudgeMetric) async throws -> Judgment {
        Judgment(metric: metric.name, score: answer.contains("Bad?") ? 12 : 88, label: nil, method: "probe", raw: "{}")
    }
}

/// Stored judgments are selected by judge spec exactly as `eval` / `judge` resolved it when storing.
struct JudgeSpecTests {
    func runWith(judges: [String]) async throws -> ResultsStore {
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-judgespec-\(UUID().uuidString)"))
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        let qs = QuestionSet(name: "q", questions: [Question(id: "bad", paraphrases: ["Bad?"], metrics: metrics)])
        _ = try await EvalRunner(store: store, model: ScriptedModel(), judge: NamedJudge(spec: judges[0]), questions: qs,
                                 parameters: EvalParameters(samples: 2)).run(name: "r", resume: false)
        for j in judges.dropFirst() {
            try await JudgePass.rescore(store: store, name: "r", judge: NamedJudge(spec: j), progress: nil)
        }
        return store
    }

    @Test func probeDefaultSelectsTheJudgmentsItStored() async throws {
        let stored = "probe:smollm2-135m-default.gguf"
        #expect(try JudgeSpec(parsing: "probe:default").storedName == stored)
        let store = try await runWith(judges: [stored, "local:smollm2-135m"])
        for spelling in ["probe:default", stored, "probe:/somewhere/else/smollm2-135m-default.gguf"] {
            let r = try RunResults(store: store, name: "r", judge: spelling)
            #expect(r.judgeSpec == stored)
            #expect(r.rows.allSatisfy { $0.scored.aligned == 12 }, "\(spelling): scores \(r.rows.map(\.scored.aligned))")
            let csv = Export.csv(r).split(separator: "\n")
            #expect(csv.count == 3 && csv[1].contains(",12"), "\(spelling): \(csv)")
        }
    }

    @Test func aJudgeWithoutJudgmentsIsAnErrorListingTheRunsJudges() async throws {
        let store = try await runWith(judges: ["probe:a.gguf", "local:smollm2-135m"])
        for unknown in ["probe:default", "probe:b.gguf", "local:gemma3-270m", "no such judge"] {
            #expect {
                _ = try RunResults(store: store, name: "r", judge: unknown)
            } throws: { error in
                let text = String(describing: error)
                return error is UnknownJudgeError && text.contains("probe:a.gguf") && text.contains("local:smollm2-135m")
            }
        }
    }

    /// `probe:default` is the evaluated local model's own probe; a remote model's answers get the embedded model's.
    @Test func defaultProbeIsPerModel() async throws {
        #expect(JudgeSpec.defaultProbeFileName(for: .local("qwen2.5-coder-0.5b")) == "qwen2.5-coder-0.5b-default.gguf")
        #expect(JudgeSpec.defaultProbeFileName(for: .local("gemma3-270m", chat: "transcript")) == "gemma3-270m-chat-transcript-default.gguf")
        #expect(JudgeSpec.defaultProbeFileName(for: .local("/models/My Model.Q4_K_M.gguf")) == "My-Model.Q4_K_M-default.gguf")
        #expect(JudgeSpec.defaultProbeFileName(for: try ModelSpec(parsing: "smollm2-135m,prompts=8bit")) == "smollm2-135m-prompts-8bit-default.gguf")
        #expect(JudgeSpec.defaultProbe.storedName(evaluating: .local("qwen2.5-coder-0.5b")) == "probe:qwen2.5-coder-0.5b-default.gguf")
        #expect(JudgeSpec.defaultProbe.storedName(evaluating: .openAI(model: "gpt-4o")) == "probe:smollm2-135m-default.gguf")
        // A stored run resolves `probe:default` by its own model.
        #expect(try RunResults.storedJudge("probe:default", available: ["probe:qwen2.5-coder-0.5b-default.gguf", "probe:smollm2-135m-default.gguf"],
                                           run: "r", model: "local:qwen2.5-coder-0.5b") == "probe:qwen2.5-coder-0.5b-default.gguf")
        #expect(throws: UnknownJudgeError.self) {
            _ = try RunResults.storedJudge("probe:default", available: ["probe:smollm2-135m-default.gguf"], run: "r", model: "local:gemma3-270m,chat=transcript")
        }
    }

    @Test func storedNamesMatchWhatTheJudgesRecord() throws {
        #expect(try JudgeSpec(parsing: "local:smollm2-135m").storedName == "local:smollm2-135m")
        #expect(try JudgeSpec(parsing: "smollm2-135m,chat=transcript").storedName == "local:smollm2-135m,chat=transcript")
        #expect(try JudgeSpec(parsing: "openai:gpt-4o").storedName == "openai:gpt-4o#top20")
        #expect(try JudgeSpec(parsing: "openai-compatible:http://user:pw@127.0.0.1:8000/v1/#m").storedName
                == "openai-compatible:http://127.0.0.1:8000/v1#m#top20")
        #expect(try JudgeSpec(parsing: "probe:dir/x.gguf").storedName == "probe:x.gguf")
        #expect(throws: LanguageModelError.self) { _ = try JudgeSpec(parsing: "probe:") }
        #expect(JudgeSpec.defaultJudge(for: .local("smollm2-135m")) == .model(.local("smollm2-135m")))
        #expect(JudgeSpec.defaultJudge(for: .local("gemma3-270m", chat: "transcript")) == .model(.local("smollm2-135m")))
        #expect(JudgeSpec.defaultJudge(for: .openAI(model: "gpt-4o")) == .model(.local("smollm2-135m")))
    }
}

/// A judge that counts its calls, under a fixed name and version.
private final class CountingJudge: Judge, @unchecked Sendable {
    let spec = "probe:retrained.gguf"
    let version: String
    private let calls = NSLock()
    private var count = 0
    init(version: String) { self.version = version }
    var callCount: Int { calls.withLock { count } }
    func judge(question: String, answer: String, metric: JudgeMetric) async throws -> Judgment {
        calls.withLock { count += 1 }
        return Judgment(metric: metric.name, score: 50, label: nil, method: "probe", raw: "{}")
    }
}

struct ValidationCacheVersionTests {
    /// A probe trained again under the same file name is measured again; the same version is not.
    @Test func cachedFiguresOfAnotherJudgeVersionAreMeasuredAgain() async throws {
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-valver-\(UUID().uuidString)"))
        let first = CountingJudge(version: "trained 1")
        let measured = try await JudgeValidationCache.ensure(store: store, judge: first)
        // Both gold sets' held-out splits, apart, each item judged on both metrics.
        let held = try GoldSet.Builtin.allCases.map { try GoldSet.load($0).items.filter { $0.split == "heldout" }.count }
        #expect(measured.map(\.set) == ["written", "model-answers"])
        #expect(measured.map(\.n) == held)
        #expect(first.callCount == 2 * held.reduce(0, +))
        let same = CountingJudge(version: "trained 1")
        _ = try await JudgeValidationCache.ensure(store: store, judge: same)
        #expect(same.callCount == 0)
        let retrained = CountingJudge(version: "trained 2")
        let f = try await JudgeValidationCache.ensure(store: store, judge: retrained)
        #expect(retrained.callCount > 0)
        #expect(f.map(\.judgeVersion) == ["trained 2", "trained 2"])
        #expect(JudgeValidationCache.load(store: store, judge: "probe:retrained.gguf")?.judgeVersion == "trained 2")
        #expect(JudgeValidationCache.load(store: store, judge: "probe:retrained.gguf", set: .modelAnswers)?.judgeVersion == "trained 2")
    }
}
