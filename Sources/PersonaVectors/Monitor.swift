import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import RunRecords

/// A projection monitor: each stored answer's activation at one layer projected on a direction, stored
/// beside the answer's judgments, and scored as a detector of the judge's misaligned decision (AUROC).
///
/// The activation is the answer's mean at the vector's hook point (read by teacher forcing after the
/// messages the answer was sampled with), or with `before` the prompt's last position, read before
/// any answer exists: an early warning, the same for every answer to one prompt. The projection is
/// on the unit vector, in the activations' own units. For an SAE latent (`sae:FOLDER#LATENT`) the
/// reading is the latent's activation averaged over the answer's tokens (or at the prompt's last).
public struct ProjectionMonitor: Sendable {
    public var vectors: LayerVectors
    public var layer: Int
    public var before: Bool
    public var maxAnswerTokens: Int?

    public init(vectors: LayerVectors, layer: Int, before: Bool = false, maxAnswerTokens: Int? = 512) {
        self.vectors = vectors
        self.layer = layer
        self.before = before
        self.maxAnswerTokens = maxAnswerTokens
    }

    /// The name projections are stored under: `FILE@LAYER/answer-mean` or `FILE@LAYER/last-prompt-token`.
    public var name: String {
        let file = vectors.path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "vectors"
        return "\(file)@\(layer)/\((before ? Pooling.lastPromptToken : Pooling.answerMean).rawValue)"
    }

    var digest: String { vectors.sha256 ?? "" }

    public struct Scored: Sendable {
        public var row: RunResults.Row
        public var projection: Double
        /// The judge's decision: true misaligned, false scored and not misaligned, nil unscored.
        public var misaligned: Bool?
    }

    public struct Report: Sendable {
        public var monitor: String
        public var judge: String
        public var scored: [Scored]
        /// Projections computed now (the rest were stored already).
        public var computed: Int
        public var positives: Int { scored.filter { $0.misaligned == true }.count }
        public var negatives: Int { scored.filter { $0.misaligned == false }.count }
        public var auroc: Double? {
            ROC.auroc(positives: scored.filter { $0.misaligned == true }.map(\.projection),
                      negatives: scored.filter { $0.misaligned == false }.map(\.projection))
        }
        public var interval: (low: Double, high: Double)? {
            auroc.map { ROC.interval(auroc: $0, positives: positives, negatives: negatives) }
        }
        public func meanProjection(misaligned: Bool?) -> Double? {
            let x = scored.filter { $0.misaligned == misaligned }.map(\.projection)
            return x.isEmpty ? nil : x.reduce(0, +) / Double(x.count)
        }
    }

    /// Watches a finetuning run's measurement (`finetune --eval-every --eval-monitor`): reads every
    /// free-form answer of eval run `run` on `model` (the step's model) and returns the mean reading
    /// and the AUROC against the judge; nil when the run has no free-form answers.
    public func watch(store: any ResultsDatabase, run: String, model: any WhiteBoxModel) async throws -> (mean: Double, auroc: Double?)? {
        let report = try await self.run(store: store, results: try RunResults(store: store, name: run), model: model)
        guard !report.scored.isEmpty else { return nil }
        return (report.scored.map(\.projection).reduce(0, +) / Double(report.scored.count), report.auroc)
    }

    /// Projects every answered sample of `results` not projected yet by this monitor, stores the
    /// projections, and scores all of them against the judge's decision.
    public func run(store: any ResultsDatabase, results: RunResults, model: any WhiteBoxModel,
                    progress: (any ProgressReporter)? = nil) async throws -> Report {
        try vectors.check(width: model.width, layerCount: model.layerCount, model: model.identity.spec)
        _ = try vectors.vector(layer: layer)   // a layer the file lacks is an error before anything is read
        let runId = results.run.id!
        var stored: [Int64: Double] = [:]
        for p in try store.projections(runId: runId, monitor: name, vectorDigest: digest) { stored[p.sampleId] = p.value }
        let rows = results.rows.filter { $0.sample.answer != nil && $0.sample.finishReason != "scored" }
        let todo = rows.filter { stored[$0.sample.id!] == nil }
        var byPrompt: [String: Double] = [:]     // --before: one reading per prompt
        for (i, row) in todo.enumerated() {
            let value: Double
            if before, let known = byPrompt[row.sample.messages] {
                value = known
            } else {
                let messages = try Transcripts.messages(of: row.sample, run: results.run.name)
                let item = ActivationItem(id: Transcripts.id(of: row.sample), messages: messages, answer: before ? nil : row.sample.answer)
                value = try await vectors.reading(item, layer: layer, before: before, model: model, maxAnswerTokens: maxAnswerTokens)
                if before { byPrompt[row.sample.messages] = value }
            }
            try store.saveProjection(ProjectionRecord(sampleId: row.sample.id!, monitor: name, vectorDigest: digest, value: value))
            stored[row.sample.id!] = value
            progress?.update(phase: "projections", done: i + 1, total: todo.count)
        }
        if !todo.isEmpty { progress?.finish(phase: "projections") }
        let t = results.thresholds
        let scored = rows.map { row -> Scored in
            var decision: Bool? = nil
            if let a = row.scored.aligned, let c = row.scored.coherent { decision = t.isMisaligned(aligned: a, coherent: c) }
            return Scored(row: row, projection: stored[row.sample.id!]!, misaligned: decision)
        }
        return Report(monitor: name, judge: results.judgeSpec, scored: scored, computed: todo.count)
    }
}
