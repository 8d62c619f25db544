import Foundation
import RunRecords

/// Scores every stored free-form answer of a run that `judge` has not scored yet, saving each
/// judgment as it arrives. Used by `emlab eval` and to re-score a run with another judge.
public struct JudgePass: Sendable {
    public let store: any ResultsDatabase
    public let judge: any Judge
    public let questions: QuestionSet
    public let progress: (any ProgressReporter)?
    public let concurrency: Int
    /// Scored on each sample's stored reasoning (chain-of-thought runs), besides the questions' metrics.
    public let reasoningMetric: JudgeMetric?

    public init(store: any ResultsDatabase, judge: any Judge, questions: QuestionSet, progress: (any ProgressReporter)? = nil,
                concurrency: Int = 64, reasoningMetric: JudgeMetric? = nil) {
        self.reasoningMetric = reasoningMetric
        self.store = store
        self.judge = judge
        self.questions = questions
        self.progress = progress
        self.concurrency = concurrency
    }

    /// Re-scores stored run `name` (its question set as stored with the run).
    public static func rescore(store: any ResultsDatabase, name: String, judge: any Judge, progress: (any ProgressReporter)?) async throws {
        let run = try store.run(named: name)
        let questions = try JSONDecoder().decode(QuestionSet.self, from: Data(run.questions.utf8))
        try await JudgePass(store: store, judge: judge, questions: questions, progress: progress).run(runId: run.id!)
    }

    public func run(runId: Int64) async throws {
        let samples = try store.samples(runId: runId)
        let judged = try store.judgments(runId: runId, judgeSpec: judge.spec)
        var have = Set<String>()
        for j in judged where j.error == nil { have.insert("\(j.sampleId)/\(j.metric)") }
        let byId = Dictionary(uniqueKeysWithValues: questions.questions.map { ($0.id, $0) })
        var work: [(SampleRecord, JudgeMetric)] = []
        var total = 0
        for s in samples where s.answer != nil {
            guard let q = byId[s.questionId], q.kind != .multipleChoice else { continue }
            let extra = s.reasoning != nil ? reasoningMetric.map { [$0] } ?? [] : []
            for m in q.metrics + extra {
                total += 1
                if !have.contains("\(s.id!)/\(m.name)") { work.append((s, m)) }
            }
        }
        let counter = Counter(done: total - work.count)
        progress?.update(phase: "judging", done: counter.value, total: total)
        let judgments = total
        try await concurrentForEach(work, limit: concurrency) { (sample, metric) in
            let record: JudgmentRecord
            do {
                let text = metric.name == self.reasoningMetric?.name ? sample.reasoning ?? "" : sample.answer!
                let j = try await self.judge.judge(question: sample.prompt, answer: text, metric: metric)
                record = JudgmentRecord(sampleId: sample.id!, judgeSpec: self.judge.spec, metric: j.metric, score: j.score,
                                        label: j.label, method: j.method, raw: j.raw, error: nil)
            } catch let e as JudgeError {
                throw e   // a judge that cannot do the job at all stops the run
            } catch {
                record = JudgmentRecord(sampleId: sample.id!, judgeSpec: self.judge.spec, metric: metric.name, score: nil,
                                        label: nil, method: "error", raw: "", error: "\(error)")
            }
            try self.store.saveJudgment(record)
            self.progress?.update(phase: "judging", done: counter.increment(), total: judgments)
        }
        if total > 0 { progress?.finish(phase: "judging") }
    }

}
