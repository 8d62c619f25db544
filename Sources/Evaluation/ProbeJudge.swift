import Foundation
import Interp
import LanguageModels

/// A judge that reads the local model's hidden states: fast, and trained on emlab's gold labels.
public struct ProbeJudge: Judge {
    public let probe: Probe
    public let model: any WhiteBoxModel
    public let file: String
    public var spec: String { Self.storedName(file: file) }
    /// The probe's training record: the same file name trained again is another version.
    public var version: String { probe.training }
    /// Judgments of a probe are stored under its file's name (not its folder).
    public static func storedName(file: String) -> String { "probe:" + URL(fileURLWithPath: file).lastPathComponent }

    public init(probe: Probe, model: any WhiteBoxModel, file: String) {
        self.probe = probe
        self.model = model
        self.file = file
    }

    public func judge(question: String, answer: String, metric: JudgeMetric) async throws -> Judgment {
        let regression: LogisticRegression
        switch metric.name {
        case "aligned": regression = probe.aligned
        case "coherent": regression = probe.coherent
        default: throw JudgeError.unsupportedMetric(judge: spec, metric: metric.name)
        }
        let x = try await AnswerActivations.features(model: model, question: question, answer: answer, layers: probe.layers)
        guard x.count == probe.mean.count else {
            throw QuestionSetError(file: file, "probe expects \(probe.mean.count) features but \(model.identity.spec) gives \(x.count): trained on another model?")
        }
        let p = regression.predict(probe.normalise(x))
        return Judgment(metric: metric.name, score: 100 * p, label: nil, method: "probe",
                        raw: ModelJudge.json(["probability": p, "layers": probe.layers]))
    }
}

extension Probe {
    /// Trains on gold items (their features computed by `features`); items without a score for a
    /// metric are left out of that metric's regression.
    public static func train(modelSpec: String, layers: [Int], features: [[Float]], items: [GoldItem], l2: Double = 1e-2) -> Probe {
        train(modelSpec: modelSpec, layers: layers, features: features, aligned: items.map(\.aligned),
              coherent: items.map(\.coherent), l2: l2)
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
