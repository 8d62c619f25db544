import Core
import Foundation
import LanguageModels

/// An SAE's reconstruction as an activation function: `x ↦ x̂` at the SAE's hook point, so that a
/// forward pass runs on what the SAE keeps of the residual stream.
public struct SAEReconstruction: ActivationFunction, @unchecked Sendable {
    public let sae: SparseAutoencoder
    public let identity: String

    /// `name` identifies the SAE in cache keys (its folder, or a digest).
    public init(_ sae: SparseAutoencoder, name: String) {
        self.sae = sae
        identity = "sae-reconstruction:\(name)"
    }

    public var width: Int { sae.width }

    public func apply(_ vector: UnsafeMutablePointer<Float>) {
        let x = Array(UnsafeBufferPointer(start: vector, count: sae.width))
        let xhat = sae.reconstruct(x, rows: 1)
        for i in 0..<sae.width { vector[i] = xhat[i] }
    }
}

/// The hook point an SAE reads in an emlab model: `blocks.L.hook_resid_post` is `resid_out.L`,
/// `blocks.L.hook_resid_pre` is `resid_in.L`; other hooks are not read.
extension SAESite {
    public var hookPoint: HookPoint? {
        guard let (layer, input) = residualLayer else { return nil }
        return input ? .residualIn(layer: layer) : .residualOut(layer: layer)
    }
}

/// What replacing the residual stream by an SAE's reconstruction costs the model: next-token
/// cross-entropy over answer tokens, with and without the replacement (teacher forcing).
public struct ReconstructionLoss: Sendable, Equatable {
    public var baseline: Double
    public var reconstructed: Double
    /// With the hook's vector replaced by b_dec alone (the SAE's mean), for scale.
    public var meanAblated: Double
    public var tokens: Int
    /// reconstructed − baseline, nats per token.
    public var increase: Double { reconstructed - baseline }
    /// Share of the mean-ablation loss the reconstruction recovers: 1 − (reconstructed − base) / (ablated − base).
    public var recovered: Double { meanAblated > baseline ? 1 - increase / (meanAblated - baseline) : .nan }

    /// Measures `transcripts` (messages, answer) on `model` at the SAE's hook point.
    public static func measure(sae: SparseAutoencoder, name: String, model: any WhiteBoxModel,
                               transcripts: [(messages: [ChatMessage], answer: String)], maxAnswerTokens: Int = 256) async throws -> ReconstructionLoss {
        guard let point = sae.site.hookPoint else {
            throw SAEFormatError(file: name, "hook \(sae.site.hookName) is not a residual stream hook emlab can replace (blocks.L.hook_resid_post or hook_resid_pre)")
        }
        guard point.layer < model.layerCount, sae.width == model.width else {
            throw SAEFormatError(file: name, "the SAE reads \(point) of width \(sae.width); \(model.identity.spec) has \(model.layerCount) layers of width \(model.width)")
        }
        let replace = [Intervention.replace(with: SAEReconstruction(sae, name: name), at: point)]
        let ablate = [Intervention.replace(with: ConstantVector(values: sae.decoderBias.array, identity: "sae-mean:\(name)"), at: point)]
        var base = 0.0, recon = 0.0, ablated = 0.0, count = 0
        for t in transcripts {
            let a = try await model.answerTokenLogProbabilities(messages: t.messages, answer: t.answer, interventions: [], maxAnswerTokens: maxAnswerTokens)
            let b = try await model.answerTokenLogProbabilities(messages: t.messages, answer: t.answer, interventions: replace, maxAnswerTokens: maxAnswerTokens)
            let c = try await model.answerTokenLogProbabilities(messages: t.messages, answer: t.answer, interventions: ablate, maxAnswerTokens: maxAnswerTokens)
            base -= a.reduce(0) { $0 + Double($1) }
            recon -= b.reduce(0) { $0 + Double($1) }
            ablated -= c.reduce(0) { $0 + Double($1) }
            count += a.count
        }
        guard count > 0 else { throw SAEFormatError(file: name, "no answer tokens to measure the reconstruction on") }
        return ReconstructionLoss(baseline: base / Double(count), reconstructed: recon / Double(count),
                                  meanAblated: ablated / Double(count), tokens: count)
    }
}

/// Replaces every vector by a constant one.
struct ConstantVector: ActivationFunction {
    let values: [Float]
    let identity: String
    var width: Int { values.count }
    func apply(_ vector: UnsafeMutablePointer<Float>) { for i in 0..<values.count { vector[i] = values[i] } }
}
