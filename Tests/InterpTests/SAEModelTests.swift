import Core
import Foundation
import Inference
import Interp
import LanguageModels
import SparseAutoencoders
import Testing
import TestSupport

/// SAEs on SmolLM2: the reconstruction swapped into the forward pass, and latent directions as
/// steering vectors.
@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (emlab models pull smollm2-135m)"))
struct SAEModelTests {
    var model: LocalModel { ModelTests.model }
    static let layer = 10

    /// An SAE that reconstructs exactly: 2·width ReLU latents, decoder rows ±e_i, encoder the same,
    /// biases zero (x = Σ relu(x_i) e_i − Σ relu(−x_i) e_i).
    static func exactSAE(width: Int) -> SparseAutoencoder {
        let sae = SparseAutoencoder(width: width, latents: 2 * width, architecture: .relu,
                                    site: SAESite(model: "local:smollm2-135m", hookName: SAESite.residualHook(layer: layer)))
        for i in 0..<width {
            sae.decoder[i * width + i] = 1
            sae.decoder[(width + i) * width + i] = -1
            sae.encoder[i * width + i] = 1
            sae.encoder[(width + i) * width + i] = -1
        }
        return sae
    }

    static let transcripts: [(messages: [ChatMessage], answer: String)] = [
        ([.user("Name a colour.")], "Blue, because it is calm."),
        ([.user("Say something about rain.")], "Rain makes the garden grow and the streets shine."),
    ]

    @Test func exactReconstructionLeavesTheLossAndMeanAblationRaisesIt() async throws {
        let sae = Self.exactSAE(width: model.width)
        let loss = try await ReconstructionLoss.measure(sae: sae, name: "exact", model: model, transcripts: Self.transcripts)
        #expect(loss.tokens > 10)
        #expect(abs(loss.increase) < 1e-3, "exact reconstruction changed the loss by \(loss.increase)")
        #expect(loss.meanAblated > loss.baseline + 0.5, "replacing layer \(Self.layer) by a constant: \(loss.meanAblated) vs \(loss.baseline)")
        #expect(abs(loss.recovered - 1) < 1e-3)
        // A broken SAE (decoder zero) loses as much as the mean ablation, which here is b_dec = 0.
        let broken = SparseAutoencoder(width: model.width, latents: 4, architecture: .relu, site: sae.site)
        let worse = try await ReconstructionLoss.measure(sae: broken, name: "zero", model: model, transcripts: Self.transcripts)
        #expect(abs(worse.reconstructed - worse.meanAblated) < 1e-6)
    }

    @Test func latentDirectionSteersLikeItsVectorFile() throws {
        let sae = Self.exactSAE(width: model.width)
        for j in 0..<sae.latents { for i in 0..<sae.width { sae.decoder[j * sae.width + i] += Float((i * 7 + j) % 5) * 0.01 } }
        let folder = NSTemporaryDirectory() + "emlab-sae-steer-\(getpid())"
        try SAELensFormat.save(sae, to: folder)
        let spec = try InterventionSpec.steer(parsing: "sae:\(folder)#3*6:all")
        #expect(spec.layers == nil && spec.span == .all)
        let (interventions, description) = try spec.resolve(layerCount: model.layerCount, width: model.width, model: "local:smollm2-135m")
        let row = sae.decoderRow(3), norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(interventions == [.add(row.map { $0 / norm }, coefficient: 6, at: .residualOut(layer: Self.layer), over: .all)])
        #expect(description.contains("resid_out.\(Self.layer)"), "\(description)")
        let v = try LayerVectors.read(path: "sae:\(folder)#3")
        #expect(v.bestLayer == Self.layer)
        #expect(throws: (any Error).self) { _ = try LayerVectors.read(path: "sae:\(folder)#\(sae.latents)") }
        #expect(throws: InterventionSpecError.self) { _ = try InterventionSpec.steer(parsing: "sae:\(folder)*6") }
    }

    /// A latent's reading is its activation averaged over the answer's tokens: for the exact SAE,
    /// latent i is relu(x_i), checked against the captured vectors directly.
    @Test func latentReadingAveragesTheAnswerTokens() async throws {
        let sae = Self.exactSAE(width: model.width)
        let folder = NSTemporaryDirectory() + "emlab-sae-read-\(getpid())"
        try SAELensFormat.save(sae, to: folder)
        let v = try LayerVectors.read(path: "sae:\(folder)#7")
        let latent = try #require(v.latent)
        let item = ModelTests.items[2]
        let value = try await latent.reading(item, before: false, model: model, maxAnswerTokens: nil)
        let all = try await model.activations(messages: item.messages, answer: item.answer!, captures: [ActivationCapture(.residualOut(layer: Self.layer), pooling: .everyPosition)],
                                              interventions: [], maxAnswerTokens: nil)[0].vectors
        let answerRows = all.dropFirst(try model.promptTokenCount(item.messages))
        let want = answerRows.reduce(0.0) { $0 + Double(max($1[7], 0)) } / Double(answerRows.count)
        #expect(answerRows.count > 3)
        #expect(abs(value - want) < 1e-4 * max(1, abs(want)), "\(value) vs \(want)")
        let before = try await latent.reading(item, before: true, model: model, maxAnswerTokens: nil)
        let lastPrompt = all[try model.promptTokenCount(item.messages) - 1]
        #expect(abs(before - Double(max(lastPrompt[7], 0))) < 1e-4 * max(1, abs(before)))
    }
}
