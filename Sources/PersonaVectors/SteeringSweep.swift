import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import RunRecords

/// A steering sweep: the evaluation questions answered with `coefficient ×` a layer's vector added, for
/// every (layer, coefficient), all in one run (kind `steer`).
///
/// Each (layer, coefficient) is a condition (`layer=L/coef=C`); every condition draws the same
/// random numbers as a plain evaluation with the same seed (the seed ignores the condition), so
/// coefficient 0 gives the plain run's answers and the other coefficients differ from it by the
/// steering alone. All conditions' requests are in flight together, so the local model decodes them
/// in the same batches; steering only the answer's positions (the default) lets every coefficient
/// reuse the question's computed prompt, so a question's prompt is computed once for the sweep.
public struct SteeringSweep: Sendable {
    public var vectors: LayerVectors
    public var layers: [Int]
    public var coefficients: [Float]
    public var span: InterventionSpan

    public init(vectors: LayerVectors, layers: [Int], coefficients: [Float], span: InterventionSpan = .answer) {
        self.vectors = vectors
        self.layers = layers
        self.coefficients = coefficients
        self.span = span
    }

    /// `FROM:TO:STEP` (both ends included) or a comma-separated list.
    public static func coefficients(parsing text: String) throws -> [Float] {
        let fail = InterventionSpecError("--coefs '\(text)': give FROM:TO:STEP (e.g. -8:8:1) or a comma-separated list (e.g. 0,2,4)")
        if text.contains(":") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 3, let from = parts[0], let to = parts[1], let step = parts[2], step > 0, from <= to,
                  (to - from) / step <= 1000 else { throw fail }
            let n = Int(((to - from) / step + 1e-9).rounded(.down))
            return (0...n).map { Float((from + Double($0) * step) * 1e6).rounded() / 1e6 }
        }
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0?.isFinite == true }) else { throw fail }
        var seen = Set<Float>()
        return values.compactMap { $0 }.filter { seen.insert($0).inserted }
    }

    public static func conditionName(layer: Int, coefficient: Float) -> String {
        "layer=\(layer)/coef=\(String(format: "%+g", Double(coefficient)))"
    }

    /// (layer, coefficient) of a condition name.
    public static func parse(_ condition: String) -> (layer: Int, coefficient: Float)? {
        let parts = condition.split(separator: "/")
        guard parts.count == 2, parts[0].hasPrefix("layer="), parts[1].hasPrefix("coef="),
              let l = Int(parts[0].dropFirst(6)), let c = Float(parts[1].dropFirst(5)) else { return nil }
        return (l, c)
    }

    /// One condition per (layer, coefficient); coefficient 0 carries no intervention.
    public func conditions() throws -> [EvalCondition] {
        try layers.flatMap { l -> [EvalCondition] in
            let v = try vectors.vector(layer: l)
            return coefficients.map { c in
                EvalCondition(name: Self.conditionName(layer: l, coefficient: c),
                              interventions: c == 0 ? [] : [.add(v, coefficient: c, at: vectors.hook.point(layer: l), over: span)],
                              seedName: "")
            }
        }
    }

    /// What the run records about the steering.
    public var description: String {
        "sweep \(vectors.identity) at \(vectors.hook.rawValue).\(LayerSelection(layers: layers)), coefficients \(coefficients.map { String(format: "%g", Double($0)) }.joined(separator: ",")), over \(span.rawValue) positions"
    }

    /// Runs (or resumes) the sweep as run `name`.
    @discardableResult
    public func run(store: any ResultsDatabase, model: any WhiteBoxModel, judge: any Judge, questions: QuestionSet,
                    parameters: EvalParameters, name: String, resume: Bool,
                    progress: (any ProgressReporter)? = nil) async throws -> RunResults {
        try vectors.check(width: model.width, layerCount: model.layerCount, model: model.identity.spec)
        var p = parameters
        p.interventions = [description]
        let runner = EvalRunner(store: store, model: model, judge: judge, questions: questions, parameters: p,
                                conditions: try conditions(), progress: progress)
        try await runner.run(name: name, kind: "steer", resume: resume)
        return try RunResults(store: store, name: name, judge: judge.spec)
    }

    /// One point of the curve.
    public struct Point: Sendable {
        public var layer: Int
        public var coefficient: Float
        public var summary: Summary
        /// The misaligned rate's interval lies wholly above (+1) or below (−1) that of coefficient 0
        /// at the same layer; 0 when they overlap or there is no baseline.
        public var versusBaseline: Int
        /// Two-proportion test against coefficient 0 at the same layer.
        public var pValue: Double?
    }

    /// The steering curve of a stored sweep: one point per (layer, coefficient), in order.
    public static func curve(_ results: RunResults) -> [Point] {
        var groups: [String: (Int, Float)] = [:]
        for c in results.conditions { if let p = parse(c) { groups[c] = p } }
        var points = groups.map { c, lc in
            Point(layer: lc.0, coefficient: lc.1, summary: results.summary(condition: c), versusBaseline: 0, pValue: nil)
        }.sorted { ($0.layer, $0.coefficient) < ($1.layer, $1.coefficient) }
        for i in points.indices {
            guard let base = points.first(where: { $0.layer == points[i].layer && $0.coefficient == 0 })?.summary,
                  points[i].coefficient != 0 else { continue }
            let s = points[i].summary
            guard s.scored > 0, base.scored > 0 else { continue }
            if s.misalignedInterval[0] > base.misalignedInterval[1] { points[i].versusBaseline = 1 }
            if s.misalignedInterval[1] < base.misalignedInterval[0] { points[i].versusBaseline = -1 }
            points[i].pValue = Proportion.twoProportionTest(s.misaligned, s.scored, base.misaligned, base.scored)?.p
        }
        return points
    }
}
