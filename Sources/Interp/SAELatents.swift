import Core
import Foundation
import LanguageModels
import SparseAutoencoders

/// `sae:FOLDER#LATENT`: one SAE latent's decoder direction (its row of W_dec, unit length) at the
/// SAE's layer, wherever a vector file is taken (`--steer sae:F#LATENT*COEF`, `steer sweep --vector`,
/// monitors). Adding `c ·` the direction is what the persona-features paper steered with.
public struct SAELatentReference: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "sae:"
    public var folder: String
    public var latent: Int

    public init(folder: String, latent: Int) {
        self.folder = folder
        self.latent = latent
    }

    /// nil when `text` does not start with `sae:`.
    public init?(parsing text: String) throws {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let body = text.dropFirst(Self.prefix.count)
        guard let hash = body.lastIndex(of: "#"), let j = Int(body[body.index(after: hash)...]), j >= 0, hash > body.startIndex else {
            throw InterventionSpecError("'\(text)': write sae:FOLDER#LATENT, e.g. sae:saes/qwen-l12#1234")
        }
        self.init(folder: String(body[..<hash]), latent: j)
    }

    public var description: String { "\(Self.prefix)\(folder)#\(latent)" }

    /// The decoder row as a one-layer vector file (hook and layer from the SAE's hook name).
    public func load() throws -> LayerVectors {
        let sae: SparseAutoencoder
        do { sae = try SAELensFormat.load(folder) } catch let e as SAEFormatError {
            throw VectorFileError(file: e.file, e.message)
        }
        guard let (layer, input) = sae.site.residualLayer else {
            throw VectorFileError(file: folder, field: "metadata.hook_name",
                                  "'\(sae.site.hookName)' is not a residual stream hook (blocks.L.hook_resid_post or hook_resid_pre)")
        }
        guard latent < sae.latents else {
            throw VectorFileError(file: folder, field: "latent", "latent \(latent) is outside 0…\(sae.latents - 1)")
        }
        var row = sae.decoderRow(latent)
        let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { row = row.map { $0 / norm } }
        var v = LayerVectors(vectors: [row], layers: [layer], hook: input ? .residualIn : .residualOut,
                             metadata: ["emlab.method": "sae-latent", "emlab.sae": folder, "emlab.latent": "\(latent)",
                                        "emlab.model": sae.site.model])
        v.path = description
        v.sha256 = try? FileDigest.sha256(path: (folder as NSString).appendingPathComponent(SAELensFormat.weightsFile))
        v.latent = SAELatent(sae: sae, index: latent, point: input ? .residualIn(layer: layer) : .residualOut(layer: layer))
        return v
    }
}

/// An SAE latent as a reading of activations: its activation at each token (TopK or ReLU of the
/// encoder), averaged over the answer's tokens.
public struct SAELatent: Sendable {
    public var sae: SparseAutoencoder
    public var index: Int
    public var point: HookPoint

    /// The latent's mean activation over `item`'s answer tokens (with `before`, at the prompt's last
    /// token), read by teacher forcing.
    public func reading(_ item: ActivationItem, before: Bool, model: any WhiteBoxModel, maxAnswerTokens: Int?) async throws -> Double {
        let (rows, z) = try await sae.encodeTranscript(messages: item.messages, answer: item.answer ?? "", at: point, model: model,
                                                       maxAnswerTokens: maxAnswerTokens, promptLast: before)
        guard rows > 0 else { return 0 }
        var sum = 0.0
        for r in 0..<rows { sum += Double(z[r * sae.latents + index]) }
        return sum / Double(rows)
    }
}

extension SparseAutoencoder {
    /// The latent activations (`[rows, latents]`) of a transcript read at `point` by teacher forcing
    /// under `interventions`: one row per answer token, or with `promptLast` the prompt's last token alone.
    func encodeTranscript(messages: [ChatMessage], answer: String, at point: HookPoint, model: any WhiteBoxModel,
                          interventions: [Intervention] = [], maxAnswerTokens: Int?, promptLast: Bool = false) async throws -> (rows: Int, z: [Float]) {
        let recorded = try await model.activations(messages: messages, answer: answer, captures: [ActivationCapture(point, pooling: .everyPosition)],
                                                   interventions: interventions, maxAnswerTokens: maxAnswerTokens)
        let vectors = recorded.first?.vectors ?? []
        let promptLength = try model.promptTokenCount(messages)
        let rows = promptLast ? Array(vectors.prefix(promptLength).suffix(1)) : Array(vectors.dropFirst(promptLength))
        return (rows.count, rows.isEmpty ? [] : encode(rows.flatMap { $0 }, rows: rows.count))
    }
}

extension LayerVectors {
    /// What a monitor or a dataset screen reads for one transcript at `layer`: for an SAE latent, its
    /// activation averaged over the answer's tokens (with `before`, at the prompt's last token); else
    /// the answer-mean (prompt-last) activation projected on the unit vector.
    public func reading(_ item: ActivationItem, layer: Int, before: Bool, model: any WhiteBoxModel, maxAnswerTokens: Int?) async throws -> Double {
        if let latent { return try await latent.reading(item, before: before, model: model, maxAnswerTokens: maxAnswerTokens) }
        let collection = ActivationCollection(hook: hook, layers: [layer], pooling: before ? .lastPromptToken : .answerMean, maxAnswerTokens: maxAnswerTokens)
        let recorded = try await collection.read(item, model: model)
        return Directions.projection(recorded[0].vectors[0], onto: try vector(layer: layer))
    }
}
