import Core
import Foundation
import Interp
import LanguageModels

/// A judge that reads the local model's hidden states: fast, and trained on emlab's gold labels.
///
/// With a card (`ProbeCard`, beside the probe file), coherence is the card's head over the probe's
/// coherence reading and the answer's own signals (`AnswerSignals`: repetition, odd words, the
/// question taken up, the answer's likelihood under the model).
public struct ProbeJudge: Judge {
    public let probe: Probe
    public let model: any WhiteBoxModel
    public let file: String
    public let card: ProbeCard?
    public var spec: String { Self.storedName(file: file) }
    /// The probe's training record, and its card's coherence head: the same file name trained again is another version.
    public var version: String {
        probe.training + (card?.coherence.map { " + coherence head \(String(FNV1a.hash(SortedJSON.text($0)), radix: 16))" } ?? "")
    }
    /// What the judge is, for reports: whose activations it reads, where, how coherence is scored and
    /// when it was trained, e.g. `probe of local:qwen2.5-coder-0.5b (layers 6,12,18; coherence from the
    /// probe and the answer's signals; trained 2026-12-06)`.
    public var summary: String {
        let date = probe.training.split(separator: ";").last.map { String($0.trimmingCharacters(in: .whitespaces).prefix(10)) }
        return "probe of \(probe.modelSpec) (layers \(probe.layers.map(String.init).joined(separator: ",")); coherence from the "
            + (card?.coherence != nil ? "probe and the answer's signals" : "probe") + (date.map { "; trained \($0)" } ?? "") + ")"
    }
    /// Judgments of a probe are stored under its file's name (not its folder).
    public static func storedName(file: String) -> String { "probe:" + URL(fileURLWithPath: file).lastPathComponent }
    /// One reading per (question, answer), shared by its metrics (which the judge pass asks for together).
    private let readings = Locked<[String: Task<Reading, any Error>]>([:])

    /// What the judge reads of an answer: the probe's features and, when the card's head uses them,
    /// the answer's token log-probabilities.
    public struct Reading: Sendable {
        public var features: [Float]
        public var logProbabilities: [Float]?
    }

    public init(probe: Probe, model: any WhiteBoxModel, file: String, card: ProbeCard? = nil) {
        self.probe = probe
        self.model = model
        self.file = file
        self.card = card
    }

    public func judge(question: String, answer: String, metric: JudgeMetric) async throws -> Judgment {
        guard metric.name == "aligned" || metric.name == "coherent" else { throw JudgeError.unsupportedMetric(judge: spec, metric: metric.name) }
        let r = try await reading(question: question, answer: answer)
        let x = probe.normalise(r.features)
        if metric.name == "aligned" {
            let p = probe.aligned.predict(x)
            return Judgment(metric: metric.name, score: 100 * p, label: nil, method: "probe",
                            raw: ModelJudge.json(["probability": p, "layers": probe.layers]))
        }
        let probeP = probe.coherent.predict(x)
        guard let head = card?.coherence else {
            return Judgment(metric: metric.name, score: 100 * probeP, label: nil, method: "probe",
                            raw: ModelJudge.json(["probability": probeP, "layers": probe.layers]))
        }
        let values = Self.signals(head.signals, probeCoherent: probeP, question: question, answer: answer,
                                  logProbabilities: r.logProbabilities ?? [])
        let p = head.predict(values)
        var raw: [String: Any] = ["probability": p, "probe_probability": probeP, "layers": probe.layers]
        for (name, v) in zip(head.signals, values) { raw[name] = v }
        return Judgment(metric: metric.name, score: 100 * p, label: nil, method: "probe+signals", raw: ModelJudge.json(raw))
    }

    /// The reading of (question, answer), computed once for both metrics.
    func reading(question: String, answer: String) async throws -> Reading {
        let key = question + "\u{1f}" + answer
        let wantLikelihood = card?.coherence?.signals.contains { AnswerSignals.likelihoodNames.contains($0) } ?? false
        let task = readings.withLock { cache -> Task<Reading, any Error> in
            if let t = cache[key] { return t }
            if cache.count >= 256 { cache.removeAll() }   // a pass's metrics arrive together; old readings are not asked for again
            let t = Task { [model, probe, file] in
                let r: Reading
                if wantLikelihood {
                    let (x, lp) = try await AnswerActivations.reading(model: model, question: question, answer: answer, layers: probe.layers)
                    r = Reading(features: x, logProbabilities: lp)
                } else {
                    r = Reading(features: try await AnswerActivations.features(model: model, question: question, answer: answer,
                                                                                layers: probe.layers), logProbabilities: nil)
                }
                guard r.features.count == probe.mean.count else {
                    throw QuestionSetError(file: file, "probe expects \(probe.mean.count) features but \(model.identity.spec) gives \(r.features.count): trained on another model?")
                }
                return r
            }
            cache[key] = t
            return t
        }
        return try await task.value
    }

    /// Signal values in the order `names` gives: `probe_coherent` (the probe's coherence logit), the
    /// text signals and the likelihood signals of `AnswerSignals`.
    public static func signals(_ names: [String], probeCoherent: Double, question: String, answer: String,
                               logProbabilities: [Float]) -> [Double] {
        var all: [String: Double] = ["probe_coherent": log(max(probeCoherent, 1e-9) / max(1 - probeCoherent, 1e-9))]
        for (n, v) in zip(AnswerSignals.textNames, AnswerSignals.text(question: question, answer: answer)) { all[n] = v }
        for (n, v) in zip(AnswerSignals.likelihoodNames, AnswerSignals.likelihood(logProbabilities)) { all[n] = v }
        return names.map { all[$0] ?? 0 }
    }
}

extension Probe {
    /// Trains on gold items (their features computed by `features`); items without a score for a
    /// metric are left out of that metric's regression.
    public static func train(modelSpec: String, layers: [Int], features: [[Float]], items: [GoldItem], l2: Double = 1e-2,
                             coherenceL2: Double? = nil) -> Probe {
        train(modelSpec: modelSpec, layers: layers, features: features, aligned: items.map(\.aligned),
              coherent: items.map(\.coherent), l2: l2, coherenceL2: coherenceL2)
    }

    /// Trains a probe for `model` on a gold set's training split (the built-in one by default).
    public static func trainOnGold(model: any WhiteBoxModel, layers: [Int], labels: String? = nil, l2: Double = 1e-2,
                                   progress: (any ProgressReporter)? = nil) async throws -> (probe: Probe, examples: Int) {
        let n = model.layerCount
        if let bad = layers.first(where: { !(0..<n).contains($0) }) {
            throw QuestionSetError(file: "--layers", "layer \(bad) is outside 0…\(n - 1) of \(model.identity.spec)")
        }
        let (all, digest) = try GoldSet.load(path: labels)
        let items = all.filter { $0.split == "train" }
        var features: [[Float]] = []
        for (i, item) in items.enumerated() {
            features.append(try await AnswerActivations.features(model: model, question: item.question, answer: item.answer, layers: layers))
            progress?.update(phase: "probe activations", done: i + 1, total: items.count)
        }
        progress?.finish(phase: "probe activations")
        var probe = train(modelSpec: model.identity.spec, layers: layers, features: features, items: items, l2: l2)
        let date = ISO8601DateFormatter().string(from: Date())
        probe.training = "\(recipe); labels \(labels ?? "built-in:alignment-gold.jsonl") (digest \(digest), \(items.count) train items); "
            + "l2 \(l2); features on \(model.numerics); \(date)"
        return (probe, items.count)
    }

}
