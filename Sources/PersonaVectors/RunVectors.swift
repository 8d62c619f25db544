import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import RunRecords

/// Stored samples named on the command line: `RUN` or `RUN:CONDITION` (a condition, or a prefix of
/// conditions up to a `/`: `k=32` selects `k=32/draw=0` and `k=32/draw=1`).
public struct SampleSetSpec: Sendable, Equatable, CustomStringConvertible {
    public var run: String
    public var condition: String?

    public init(run: String, condition: String? = nil) {
        self.run = run
        self.condition = condition
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let run = parts.first, !run.isEmpty else { throw PersonaVectorError("'\(text)': give RUN or RUN:CONDITION") }
        self.run = run
        condition = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
    }

    public func contains(_ condition: String) -> Bool {
        guard let c = self.condition else { return true }
        return condition == c || condition.hasPrefix(c + "/")
    }

    public var description: String { run + (condition.map { ":" + $0 } ?? "") }
}

/// Vectors from stored runs: misaligned against aligned answers of one judged run, or one set of
/// samples against another (the same prompts under two models, or with and without an in-context
/// prefix: the activation-level diff).
public enum RunVectors {
    /// The judged split of a run: misaligned answers (alignment below the run's threshold, coherence
    /// above it) against clearly aligned ones (alignment at least `alignedAbove`, coherent).
    public static func judgedSplit(_ results: RunResults, within set: SampleSetSpec? = nil,
                                   alignedAbove: Double = 70) -> (positives: [RunResults.Row], negatives: [RunResults.Row]) {
        let t = results.thresholds
        var p: [RunResults.Row] = [], n: [RunResults.Row] = []
        for row in results.rows where row.sample.answer != nil && (set?.contains(row.sample.condition) ?? true) {
            guard let a = row.scored.aligned, let c = row.scored.coherent, c > t.coherentAbove else { continue }
            if a < t.alignedBelow { p.append(row) } else if a >= alignedAbove { n.append(row) }
        }
        return (p, n)
    }

    static func items(_ rows: [RunResults.Row], run: String) throws -> [ActivationItem] {
        try rows.map { ActivationItem(id: Transcripts.id(of: $0.sample), messages: try Transcripts.messages(of: $0.sample, run: run),
                                      answer: $0.sample.answer) }
    }

    /// Misaligned minus aligned answers of run `set.run` (judged by `judge`, default the run's judge).
    public static func fromJudgedRun(store: any ResultsDatabase, set: SampleSetSpec, judge: String?, model: any WhiteBoxModel,
                                     alignedAbove: Double = 70, builder: VectorBuilder = VectorBuilder(),
                                     progress: (@Sendable (String, Int, Int) -> Void)? = nil) async throws -> VectorBuilder.Result {
        let results = try RunResults(store: store, name: set.run, judge: judge)
        let (p, n) = judgedSplit(results, within: set, alignedAbove: alignedAbove)
        guard !p.isEmpty, !n.isEmpty else {
            throw PersonaVectorError("run '\(set)' judged by \(results.judgeSpec) has \(p.count) misaligned and \(n.count) clearly aligned (≥ \(Int(alignedAbove))) coherent answers; both are needed")
        }
        return try await builder.build(
            model: model, positives: try items(p, run: set.run), negatives: try items(n, run: set.run),
            metadata: ["emlab.method": "judged-run", "emlab.run": set.description, "emlab.judge": results.judgeSpec,
                       "emlab.filter": "positive: aligned < \(results.thresholds.alignedBelow) and coherent > \(results.thresholds.coherentAbove); negative: aligned ≥ \(alignedAbove) and coherent > \(results.thresholds.coherentAbove)"],
            progress: progress)
    }

    /// The answered samples of one set minus those of another, each read by its own model (the same
    /// one when both sets come from one model).
    public static func difference(store: any ResultsDatabase, positive: SampleSetSpec, negative: SampleSetSpec,
                                  positiveModel: any WhiteBoxModel, negativeModel: any WhiteBoxModel,
                                  builder: VectorBuilder = VectorBuilder(),
                                  progress: (@Sendable (String, Int, Int) -> Void)? = nil) async throws -> VectorBuilder.Result {
        guard positiveModel.width == negativeModel.width, positiveModel.layerCount == negativeModel.layerCount else {
            throw PersonaVectorError("\(positiveModel.identity.spec) and \(negativeModel.identity.spec) have different shapes; their activations cannot be subtracted")
        }
        func rows(_ s: SampleSetSpec) throws -> [ActivationItem] {
            let r = try RunResults(store: store, name: s.run)
            let items = try Transcripts.run(r) { s.contains($0.sample.condition) }
            guard !items.isEmpty else {
                throw PersonaVectorError("'\(s)' selects no answered samples (conditions of run '\(s.run)': \(r.conditions.map { $0.isEmpty ? "(none)" : $0 }.joined(separator: ", ")))")
            }
            return items
        }
        let p = try await builder.read(try rows(positive), model: positiveModel, phase: "positive activations", progress: progress)
        let n = try await builder.read(try rows(negative), model: negativeModel, phase: "negative activations", progress: progress)
        var meta = ["emlab.method": "difference", "emlab.positive": positive.description, "emlab.negative": negative.description]
        if positiveModel.identity != negativeModel.identity {
            meta["emlab.negative_model"] = negativeModel.identity.spec
        }
        return try builder.build(model: positiveModel, positive: p, negative: n, metadata: meta)
    }
}
