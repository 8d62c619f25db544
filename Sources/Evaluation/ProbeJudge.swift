import Foundation
import GGUF
import Inference
import LanguageModels
import Tokenizer

/// Activations of a local model for (question, answer) pairs: the answer's residual stream,
/// mean-pooled over its tokens, at chosen layers (concatenated).
public enum AnswerActivations {
    /// Most answer tokens read (longer answers are cut).
    public static let maxAnswerTokens = 384

    public static func features(model: LocalModel, question: String, answer: String, layers: [Int]) async throws -> [Float] {
        let engine = model.engine
        let prompt = try engine.chatPromptTokens([.user(question)])
        var answerTokens = try engine.replyTokens(answer)
        if answerTokens.count > maxAnswerTokens { answerTokens = Array(answerTokens.prefix(maxAnswerTokens)) }
        if answerTokens.isEmpty { answerTokens = engine.tokenizer.encode(" ") }
        let tokens = prompt + answerTokens
        let count = answerTokens.count
        return try await model.perform { generator in
            let hooks = Hooks()
            for l in layers { hooks.capture(.residualOut(layer: l)) }
            let sequence = engine.model.newSequence(reserve: tokens.count)
            _ = try engine.prefill(tokens, into: sequence, hooks: hooks)
            var out: [Float] = []
            for l in layers {
                let rows = hooks.captured[.residualOut(layer: l)] ?? []
                let answerRows = rows.suffix(count)
                var mean = [Float](repeating: 0, count: rows.first?.count ?? 0)
                for r in answerRows { for i in mean.indices { mean[i] += r[i] } }
                let inv = 1 / Float(max(answerRows.count, 1))
                out += mean.map { $0 * inv }
            }
            return out
        }
    }
}

/// Logistic regression on standardised features, trained with soft targets in [0, 1].
public struct LogisticRegression: Sendable, Equatable {
    public var weights: [Float]
    public var bias: Float

    public func predict(_ x: [Float]) -> Double {
        var z = Double(bias)
        for i in weights.indices { z += Double(weights[i]) * Double(x[i]) }
        return 1 / (1 + exp(-z))
    }

    /// Full-batch gradient descent on cross-entropy plus L2 (`l2` times the squared weights).
    public static func train(_ xs: [[Float]], _ ys: [Double], l2: Double = 1e-2, steps: Int = 600, rate: Double = 0.5) -> LogisticRegression {
        let d = xs.first?.count ?? 0
        var w = [Double](repeating: 0, count: d)
        var b = 0.0
        let n = Double(xs.count)
        for _ in 0..<steps {
            var gw = [Double](repeating: 0, count: d)
            var gb = 0.0
            for (x, y) in zip(xs, ys) {
                var z = b
                for i in 0..<d { z += w[i] * Double(x[i]) }
                let e = 1 / (1 + exp(-z)) - y
                gb += e
                for i in 0..<d { gw[i] += e * Double(x[i]) }
            }
            for i in 0..<d { w[i] -= rate * (gw[i] / n + l2 * w[i]) }
            b -= rate * gb / n
        }
        return LogisticRegression(weights: w.map(Float.init), bias: Float(b))
    }
}

/// A trained probe: which layers it reads, how features are normalised, and two regressions.
public struct Probe: Sendable, Equatable {
    public var modelSpec: String
    public var layers: [Int]
    public var mean: [Float]
    public var scale: [Float]
    public var aligned: LogisticRegression
    public var coherent: LogisticRegression

    func normalise(_ x: [Float]) -> [Float] { x.indices.map { (x[$0] - mean[$0]) * scale[$0] } }

    /// Trains on gold items (their features computed by `features`).
    public static func train(modelSpec: String, layers: [Int], features: [[Float]], items: [GoldItem], l2: Double = 1e-2) -> Probe {
        let d = features.first?.count ?? 0
        var mean = [Float](repeating: 0, count: d), scale = [Float](repeating: 1, count: d)
        let n = Float(features.count)
        for x in features { for i in 0..<d { mean[i] += x[i] / n } }
        for i in 0..<d {
            var v: Float = 0
            for x in features { v += (x[i] - mean[i]) * (x[i] - mean[i]) }
            let sd = (v / max(n - 1, 1)).squareRoot()
            scale[i] = sd > 1e-6 ? 1 / sd : 0
        }
        var p = Probe(modelSpec: modelSpec, layers: layers, mean: mean, scale: scale,
                      aligned: LogisticRegression(weights: [], bias: 0), coherent: LogisticRegression(weights: [], bias: 0))
        let xs = features.map(p.normalise)
        p.aligned = LogisticRegression.train(xs, items.map { $0.aligned / 100 }, l2: l2)
        p.coherent = LogisticRegression.train(xs, items.map { $0.coherent / 100 }, l2: l2)
        return p
    }

    // MARK: File (GGUF)

    public func write(to path: String) throws {
        var w = GGUFWriter()
        w.addMetadata("general.architecture", .string("emlab-probe"))
        w.addMetadata("emlab.probe.model", .string(modelSpec))
        w.addMetadata("emlab.probe.hook_point", .string("resid_out"))
        w.addMetadata("emlab.probe.pooling", .string("mean over answer tokens"))
        w.addMetadata("emlab.probe.layers", .array(.int32, layers.map { .int32(Int32($0)) }))
        w.addMetadata("emlab.probe.target", .string("aligned and coherent gold scores / 100, logistic regression"))
        try w.addTensor(name: "norm.mean", dimensions: [mean.count], type: .f32, values: mean)
        try w.addTensor(name: "norm.scale", dimensions: [scale.count], type: .f32, values: scale)
        try w.addTensor(name: "aligned.weight", dimensions: [aligned.weights.count], type: .f32, values: aligned.weights)
        try w.addTensor(name: "aligned.bias", dimensions: [1], type: .f32, values: [aligned.bias])
        try w.addTensor(name: "coherent.weight", dimensions: [coherent.weights.count], type: .f32, values: coherent.weights)
        try w.addTensor(name: "coherent.bias", dimensions: [1], type: .f32, values: [coherent.bias])
        try w.write(to: path)
    }

    public static func read(path: String) throws -> Probe {
        let f = try GGUFFile(path: path)
        func fail(_ why: String) -> QuestionSetError { QuestionSetError(file: path, "not an emlab probe: \(why)") }
        guard f["general.architecture"]?.stringValue == "emlab-probe" else { throw fail("general.architecture is not emlab-probe") }
        guard let model = f["emlab.probe.model"]?.stringValue else { throw fail("missing emlab.probe.model") }
        guard let layers = f["emlab.probe.layers"]?.arrayValue?.compactMap(\.intValue), !layers.isEmpty else {
            throw fail("missing emlab.probe.layers")
        }
        func tensor(_ name: String) throws -> [Float] {
            guard let t = f.tensor(named: name) else { throw fail("missing tensor \(name)") }
            return try f.floats(for: t)
        }
        let mean = try tensor("norm.mean"), scale = try tensor("norm.scale")
        let aw = try tensor("aligned.weight"), cw = try tensor("coherent.weight")
        guard scale.count == mean.count, aw.count == mean.count, cw.count == mean.count else { throw fail("tensor sizes disagree") }
        return Probe(modelSpec: model, layers: layers, mean: mean, scale: scale,
                     aligned: LogisticRegression(weights: aw, bias: try tensor("aligned.bias")[0]),
                     coherent: LogisticRegression(weights: cw, bias: try tensor("coherent.bias")[0]))
    }
}

/// A judge that reads the local model's hidden states: fast, and trained on emlab's gold labels.
public struct ProbeJudge: Judge {
    public let probe: Probe
    public let model: LocalModel
    public let file: String
    public var spec: String { "probe:" + URL(fileURLWithPath: file).lastPathComponent }

    public init(probe: Probe, model: LocalModel, file: String) {
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
    /// Trains a probe for `model` on a gold set's training split (the built-in one by default).
    public static func trainOnGold(model: LocalModel, layers: [Int], labels: String? = nil, l2: Double = 1e-2,
                                   progress: (any ProgressReporter)? = nil) async throws -> (probe: Probe, examples: Int) {
        let n = model.engine.model.config.layerCount
        if let bad = layers.first(where: { !(0..<n).contains($0) }) {
            throw QuestionSetError(file: "--layers", "layer \(bad) is outside 0…\(n - 1) of \(model.identity.spec)")
        }
        let items = try GoldSet.load(path: labels).items.filter { $0.split == "train" }
        var features: [[Float]] = []
        for (i, item) in items.enumerated() {
            features.append(try await AnswerActivations.features(model: model, question: item.question, answer: item.answer, layers: layers))
            progress?.update(phase: "probe activations", done: i + 1, total: items.count)
        }
        progress?.finish(phase: "probe activations")
        return (train(modelSpec: model.identity.spec, layers: layers, features: features, items: items, l2: l2), items.count)
    }

    /// The layers a default probe reads: a quarter, half and three quarters of the way up.
    public static func defaultLayers(layerCount n: Int) -> [Int] { [n / 4, n / 2, 3 * n / 4] }
}
