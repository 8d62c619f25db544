import Foundation
import LanguageModels
import RunRecords

/// A stored run, read back with its scores: what reports, exports and comparisons work from.
public struct RunResults: Sendable {
    public var run: RunRecord
    public var judgeSpec: String
    public var parameters: EvalParameters?
    public var questionIds: [String]
    public var rows: [Row]

    /// A sample with its judgments under one judge.
    public struct Row: Sendable {
        public var sample: SampleRecord
        public var judgments: [String: JudgmentRecord]
        public var scored: ScoredSample
    }

    /// Loads run `name`; `judge` picks the judge when answers were scored by several (default: the run's).
    /// It is a judge spec, resolved as `eval` and `judge` resolved it when they stored the judgments
    /// (`probe:default` and `probe:DIR/FILE.gguf` select `probe:FILE.gguf`), or the stored name itself;
    /// a judge the run has no judgments by is an error that lists the run's judges.
    public init(store: any ResultsDatabase, name: String, judge: String? = nil) throws {
        run = try store.run(named: name)
        let available = try store.judgeSpecs(runId: run.id!)
        if let judge {
            judgeSpec = try Self.storedJudge(judge, available: available, run: name, model: run.modelSpec)
        } else {
            judgeSpec = available.contains(run.judgeSpec) ? run.judgeSpec : available.first ?? run.judgeSpec
        }
        parameters = try? JSONDecoder().decode(EvalParameters.self, from: Data(run.parameters.utf8))
        let set = try? JSONDecoder().decode(QuestionSet.self, from: Data(run.questions.utf8))
        questionIds = set?.questions.map(\.id) ?? []
        let samples = try store.samples(runId: run.id!)
        var bySample: [Int64: [String: JudgmentRecord]] = [:]
        for j in try store.judgments(runId: run.id!) where j.judgeSpec == judgeSpec || j.metric == MultipleChoice.metric {
            bySample[j.sampleId, default: [:]][j.metric] = j
        }
        rows = samples.map { s in
            let js = bySample[s.id!] ?? [:]
            let aligned = js["aligned"]
            let scored = ScoredSample(questionId: s.questionId, condition: s.condition, aligned: aligned?.score,
                                      coherent: js["coherent"]?.score, alignedLabel: aligned?.label,
                                      misalignedProbability: js[MultipleChoice.metric]?.score, persona: js["persona"]?.score)
            return Row(sample: s, judgments: js, scored: scored)
        }
        for s in samples where !questionIds.contains(s.questionId) { questionIds.append(s.questionId) }
    }

    /// The stored judge name that `judge` selects among a run's judges.
    /// `model`: the run's model spec, which `probe:default` depends on.
    static func storedJudge(_ judge: String, available: [String], run: String, model: String = "") throws -> String {
        if available.contains(judge) { return judge }
        if let name = (try? JudgeSpec(parsing: judge))?.storedName(evaluating: try? ModelSpec(parsing: model)), available.contains(name) {
            return name
        }
        throw UnknownJudgeError(run: run, judge: judge, available: available)
    }

    public var thresholds: Thresholds { parameters?.thresholds ?? .init() }

    /// Samples that failed to generate (kept, with their error, for `--resume`).
    public var failedSamples: Int { rows.filter { $0.sample.answer == nil }.count }
    public var failedJudgments: Int { rows.reduce(0) { $0 + $1.judgments.values.filter { $0.error != nil }.count } }

    public func summary(question: String? = nil, condition: String? = nil, thresholds: Thresholds? = nil) -> Summary {
        Summary(rows.filter { r in
            r.sample.answer != nil && (question == nil || r.sample.questionId == question)
                && (condition == nil || r.sample.condition == condition)
        }.map(\.scored), thresholds: thresholds ?? self.thresholds)
    }

    public var conditions: [String] {
        var seen: [String] = []
        for r in rows where !seen.contains(r.sample.condition) { seen.append(r.sample.condition) }
        return seen
    }

    public var usage: (prompt: Int, completion: Int) {
        // Prompt tokens are recorded once per request group; count each group once.
        var groups = Set<String>()
        var prompt = 0, completion = 0
        for r in rows {
            completion += r.sample.completionTokens
            if groups.insert("\(r.sample.condition)/\(r.sample.questionId)/\(r.sample.paraphraseIndex)").inserted {
                prompt += r.sample.promptTokens
            }
        }
        return (prompt, completion)
    }
}
