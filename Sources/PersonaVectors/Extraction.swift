import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import RunRecords

/// Persona-vector extraction (after Chen et al., "Persona vectors"): answers sampled under each
/// positive and negative instruction of a trait, judged for the trait (0–100), filtered (positive
/// answers above a threshold, negative ones below), and the difference of their mean answer
/// activations taken at every layer.
///
/// Sampling and judging are an evaluation run (kind `persona`) in the results database: conditions
/// `positive/I` and `negative/I` (instruction pair I as the system message), the trait's questions,
/// the trait judge as the metric. So it resumes after a crash, its answers can be exported and read,
/// and another judge can re-score it. Activations are then read by teacher forcing each kept answer
/// after the messages it was sampled with (its instruction included).
public struct PersonaExtraction: Sendable {
    public var trait: Trait
    /// Answers per question, per instruction, per side.
    public var samples: Int
    public var temperature: Double
    public var maxTokens: Int
    public var seed: UInt64
    /// Positive answers are kept when their trait score is above this …
    public var positiveAbove: Double
    /// … negative answers when it is below this.
    public var negativeBelow: Double
    /// false: no judging and no filter, every answer is kept (the vector is then the contrast of the
    /// instructions, not of judged behaviour: for models that hardly follow the instructions, or
    /// when no judge can tell the trait apart).
    public var judged: Bool
    public var builder: VectorBuilder

    public init(trait: Trait, samples: Int = 4, temperature: Double = 1, maxTokens: Int = 200, seed: UInt64 = 0,
                positiveAbove: Double = 50, negativeBelow: Double = 50, judged: Bool = true, builder: VectorBuilder = VectorBuilder()) {
        self.judged = judged
        self.trait = trait
        self.samples = samples
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.positiveAbove = positiveAbove
        self.negativeBelow = negativeBelow
        self.builder = builder
    }

    public var questionSet: QuestionSet {
        QuestionSet(name: "trait:\(trait.name)", questions: trait.questions.enumerated().map { i, q in
            Question(id: "\(trait.name)_\(i)", paraphrases: [q], metrics: judged ? [trait.metric] : [])
        })
    }

    public var conditions: [EvalCondition] {
        trait.instructions.enumerated().flatMap { i, pair in
            [EvalCondition(name: "positive/\(i)", system: pair.positive), EvalCondition(name: "negative/\(i)", system: pair.negative)]
        }
    }

    public var parameters: EvalParameters {
        EvalParameters(samples: samples, temperature: temperature, topP: 1, maxTokens: maxTokens, seed: seed,
                       questionSet: "trait:\(trait.name) (\(trait.source))")
    }

    /// True for a positive condition, false for a negative one, nil for anything else.
    public static func isPositive(_ condition: String) -> Bool? {
        if condition.hasPrefix("positive/") { return true }
        if condition.hasPrefix("negative/") { return false }
        return nil
    }

    /// What the sampling gave and what the filter kept.
    public struct Selection: Sendable {
        public var positives: [RunResults.Row] = []
        public var negatives: [RunResults.Row] = []
        /// Answers per side, and those the judge gave no score.
        public var answered = (positive: 0, negative: 0)
        public var unscored = 0
        /// Mean trait score per side (scored answers).
        public var meanScore: (positive: Double?, negative: Double?) = (nil, nil)
    }

    public func select(_ results: RunResults) -> Selection {
        var s = Selection()
        var sums = (0.0, 0.0), counts = (0, 0)
        for row in results.rows where row.sample.answer != nil {
            guard let positive = Self.isPositive(row.sample.condition) else { continue }
            if positive { s.answered.positive += 1 } else { s.answered.negative += 1 }
            guard judged else {
                if positive { s.positives.append(row) } else { s.negatives.append(row) }
                continue
            }
            guard let score = row.judgments[trait.name]?.score else { s.unscored += 1; continue }
            if positive {
                sums.0 += score; counts.0 += 1
                if score > positiveAbove { s.positives.append(row) }
            } else {
                sums.1 += score; counts.1 += 1
                if score < negativeBelow { s.negatives.append(row) }
            }
        }
        s.meanScore = (counts.0 > 0 ? sums.0 / Double(counts.0) : nil, counts.1 > 0 ? sums.1 / Double(counts.1) : nil)
        return s
    }

    public struct Report: Sendable {
        public var run: String
        public var selection: Selection
        public var result: VectorBuilder.Result
    }

    /// Samples and judges (run `name`, resumable), then reads the kept answers' activations and takes
    /// the mean difference.
    public func run(store: any ResultsDatabase, model: any WhiteBoxModel, judge: any Judge, name: String, resume: Bool,
                    progress: (any ProgressReporter)? = nil) async throws -> Report {
        let runner = EvalRunner(store: store, model: model, judge: judge, questions: questionSet, parameters: parameters,
                                conditions: conditions, progress: progress)
        try await runner.run(name: name, kind: "persona", resume: resume)
        // Unjudged, the run holds no judgment to select a judge by.
        let results = try RunResults(store: store, name: name, judge: judged ? judge.spec : nil)
        let selection = select(results)
        guard !selection.positives.isEmpty, !selection.negatives.isEmpty else {
            throw PersonaVectorError("""
                run '\(name)': \(selection.positives.count) of \(selection.answered.positive) answers under positive instructions \
                scored above \(Int(positiveAbove)) and \(selection.negatives.count) of \(selection.answered.negative) under negative ones \
                below \(Int(negativeBelow)) (mean scores \(format(selection.meanScore.positive)) and \(format(selection.meanScore.negative)), \
                \(selection.unscored) unscored); both sides need answers: sample more, loosen the thresholds, use a judge that tells the trait apart, or keep every answer (no judging)
                """)
        }
        func items(_ rows: [RunResults.Row]) throws -> [ActivationItem] {
            try rows.map { ActivationItem(id: Transcripts.id(of: $0.sample), messages: try Transcripts.messages(of: $0.sample, run: name),
                                          answer: $0.sample.answer) }
        }
        let result = try await builder.build(
            model: model, positives: try items(selection.positives), negatives: try items(selection.negatives),
            metadata: ["emlab.method": "persona", "emlab.trait": trait.name, "emlab.trait_source": trait.source,
                       "emlab.run": name, "emlab.judge": judge.spec,
                       "emlab.filter": judged ? "positive answers with score > \(positiveAbove), negative answers with score < \(negativeBelow)"
                                              : "none: every answer under the positive and negative instructions"],
            progress: progress.map { p in { @Sendable phase, done, total in
                p.update(phase: phase, done: done, total: total)
                if done == total { p.finish(phase: phase) }
            } })
        return Report(run: name, selection: selection, result: result)
    }
}

func format(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "–" }
