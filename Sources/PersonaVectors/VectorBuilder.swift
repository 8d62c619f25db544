import Core
import Foundation
import Interp
import LanguageModels

/// Not enough answers on one side to take a mean difference (the message says which and why).
public struct PersonaVectorError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The model file behind a local model's identity (`PATH (N bytes)`) and its sha256.
public enum ModelFile {
    public static func path(of identity: ModelIdentity) -> String? {
        guard let r = identity.resolved.range(of: " (", options: .backwards) else { return nil }
        let path = String(identity.resolved[..<r.lowerBound])
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Metadata naming the model: spec, resolved file, its sha256 (files only), and the adapters
    /// applied (none: emlab applies none yet).
    public static func metadata(_ model: any WhiteBoxModel) -> [String: String] {
        var m = ["emlab.model": model.identity.spec, "emlab.model_resolved": model.identity.resolved, "emlab.adapters": "none",
                 "emlab.numerics": model.numerics]
        if let p = path(of: model.identity), let d = try? FileDigest.sha256(path: p) { m["emlab.model_sha256"] = d }
        return m
    }
}

/// Mean-difference vectors between two groups of transcripts (answers that show a trait and answers
/// that do not), at every layer, with each layer's held-out separation.
///
/// Each transcript is read once (teacher forcing) with the answer-mean of the hook point captured at
/// every layer; a layer's vector is mean(positive) − mean(negative) in float64. Its separation is
/// `Directions.separation`: Cohen's d and AUROC of the projections on held-out answers (two folds).
public struct VectorBuilder: Sendable {
    public var hook: HookKind
    /// Longer answers are cut to this many tokens.
    public var maxAnswerTokens: Int?

    public init(hook: HookKind = .residualOut, maxAnswerTokens: Int? = 512) {
        self.hook = hook
        self.maxAnswerTokens = maxAnswerTokens
    }

    public struct LayerFigures: Sendable, Equatable {
        public var layer: Int
        /// The vector's length.
        public var norm: Double
        public var separation: Directions.Separation
    }

    public struct Result: Sendable {
        public var vectors: LayerVectors
        public var figures: [LayerFigures]
        public var positives: Int
        public var negatives: Int
    }

    /// Each item's answer-mean at every layer (row l: layer l).
    public func read(_ items: [ActivationItem], model: any WhiteBoxModel, phase: String = "activations",
                     progress: (@Sendable (String, Int, Int) -> Void)? = nil) async throws -> [[[Float]]] {
        let collection = ActivationCollection(hook: hook, layers: Array(0..<model.layerCount), pooling: .answerMean,
                                              maxAnswerTokens: maxAnswerTokens)
        var out: [[[Float]]] = []
        for (i, item) in items.enumerated() {
            out.append(try await collection.read(item, model: model).map { $0.vectors[0] })
            progress?(phase, i + 1, items.count)
        }
        return out
    }

    public func build(model: any WhiteBoxModel, positives: [ActivationItem], negatives: [ActivationItem],
                      metadata: [String: String] = [:], progress: (@Sendable (String, Int, Int) -> Void)? = nil) async throws -> Result {
        guard !positives.isEmpty, !negatives.isEmpty else {
            throw PersonaVectorError("a mean difference needs answers on both sides: \(positives.count) positive, \(negatives.count) negative")
        }
        let p = try await read(positives, model: model, phase: "positive activations", progress: progress)
        let n = try await read(negatives, model: model, phase: "negative activations", progress: progress)
        return try build(model: model, positive: p, negative: n, metadata: metadata)
    }

    /// From activations already read: `positive[i][l]` is item i's vector at layer l.
    public func build(model: any WhiteBoxModel, positive: [[[Float]]], negative: [[[Float]]],
                      metadata: [String: String] = [:]) throws -> Result {
        let layers = model.layerCount
        var vectors: [[Float]] = [], figures: [LayerFigures] = []
        for l in 0..<layers {
            let a = positive.map { $0[l] }, b = negative.map { $0[l] }
            guard let v = Directions.meanDifference(a, b) else {
                throw PersonaVectorError("a mean difference needs answers on both sides: \(a.count) positive, \(b.count) negative")
            }
            vectors.append(v)
            figures.append(LayerFigures(layer: l, norm: Directions.norm(v), separation: Directions.separation(a, b)))
        }
        var meta = ModelFile.metadata(model)
        meta["emlab.positives"] = "\(positive.count)"
        meta["emlab.negatives"] = "\(negative.count)"
        meta["emlab.pooling"] = Pooling.answerMean.rawValue
        meta["emlab.separation"] = "held-out Cohen's d and AUROC of projections (2 folds)"
        meta["emlab.created"] = ISO8601DateFormatter().string(from: Date())
        for (k, v) in metadata { meta[k] = v }
        let result = LayerVectors(vectors: vectors, layers: Array(0..<layers), hook: hook,
                                  separation: figures.map { Float($0.separation.cohensD ?? .nan) },
                                  auroc: figures.map { Float($0.separation.auroc ?? .nan) }, metadata: meta)
        return Result(vectors: result, figures: figures, positives: positive.count, negatives: negative.count)
    }
}
