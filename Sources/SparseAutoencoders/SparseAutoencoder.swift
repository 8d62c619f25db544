import CKernels
import Foundation
import Inference
import Training

/// How an SAE turns encoder pre-activations into latent activations.
public enum SAEArchitecture: Sendable, Equatable, CustomStringConvertible {
    /// ReLU of the k largest pre-activations, the rest zero (Gao et al.; SAELens `topk`).
    case topK(k: Int)
    /// ReLU of every pre-activation, trained with an L1 penalty (SAELens `standard`).
    case relu
    /// A pre-activation passes where it exceeds its latent's threshold (SAELens `jumprelu`; loaded,
    /// not trained).
    case jumpReLU

    /// SAELens' name.
    public var saeLensName: String {
        switch self {
        case .topK: return "topk"
        case .relu: return "standard"
        case .jumpReLU: return "jumprelu"
        }
    }

    public var description: String {
        switch self {
        case .topK(let k): return "topk (k \(k))"
        case .relu: return "relu + L1"
        case .jumpReLU: return "jumprelu"
        }
    }
}

/// Where an SAE reads: the model, hook and layer it was trained on.
public struct SAESite: Sendable, Equatable, Codable {
    /// The model's spec or name (SAELens `metadata.model_name`).
    public var model: String
    /// SAELens' hook name, e.g. `blocks.12.hook_resid_post`.
    public var hookName: String
    /// Tokens per sequence the activations came from, at most (SAELens `context_size`).
    public var contextSize: Int
    /// Where the training activations came from (free text).
    public var dataset: String

    public init(model: String, hookName: String, contextSize: Int = 1024, dataset: String = "") {
        self.model = model
        self.hookName = hookName
        self.contextSize = contextSize
        self.dataset = dataset
    }

    /// `blocks.L.hook_resid_post` for a layer's residual output (TransformerLens' naming, which SAELens uses).
    public static func residualHook(layer: Int) -> String { "blocks.\(layer).hook_resid_post" }

    /// The layer and whether the hook reads the layer's input (`hook_resid_pre`) rather than its
    /// output; nil for a hook name that is not a residual stream one.
    public var residualLayer: (layer: Int, input: Bool)? {
        let parts = hookName.split(separator: ".")
        guard parts.count == 3, parts[0] == "blocks", let l = Int(parts[1]), l >= 0 else { return nil }
        switch parts[2] {
        case "hook_resid_post": return (l, false)
        case "hook_resid_pre": return (l, true)
        default: return nil
        }
    }
}

/// A sparse autoencoder over vectors of `width`: `z = σ(W_enc (x − b_dec) + b_enc)`,
/// `x̂ = W_dec z + b_dec`, with `latents` rows in `W_dec` (one direction per latent).
///
/// The encoder is stored by latent (`[latents, width]`, W_enc transposed), so that a latent's
/// encoder and decoder rows are both contiguous; SAELens' file holds it as `[width, latents]`.
public final class SparseAutoencoder: @unchecked Sendable {
    public let width: Int
    public let latents: Int
    public let architecture: SAEArchitecture
    public var site: SAESite
    /// Whether `b_dec` is subtracted before encoding (SAELens `apply_b_dec_to_input`).
    public var subtractDecoderBias: Bool
    public let encoder: Floats          // [latents, width]
    public let encoderBias: Floats      // [latents]
    public let decoder: Floats          // [latents, width]
    public let decoderBias: Floats      // [width]
    /// Per-latent thresholds of a JumpReLU SAE (nil otherwise).
    public let threshold: Floats?

    public init(width: Int, latents: Int, architecture: SAEArchitecture, site: SAESite, subtractDecoderBias: Bool = true) {
        precondition(width > 0 && latents > 0)
        self.width = width
        self.latents = latents
        self.architecture = architecture
        self.site = site
        self.subtractDecoderBias = subtractDecoderBias
        encoder = Floats(latents * width)
        encoderBias = Floats(latents)
        decoder = Floats(latents * width)
        decoderBias = Floats(width)
        if case .jumpReLU = architecture { threshold = Floats(latents) } else { threshold = nil }
    }

    public var k: Int? { if case .topK(let k) = architecture { return k } else { return nil } }

    /// Rows encoded per chunk, so that the pre-activations of a chunk stay small (chunk × latents floats).
    static func chunkRows(latents: Int) -> Int { max(16, min(1024, (1 << 22) / max(latents, 1))) }

    /// Encoder pre-activations of `rows` vectors `x` into `pre` (`[rows, latents]`): `(x − b_dec) W_encᵀ + b_enc`.
    /// `centered` receives `x − b_dec` (`[rows, width]`).
    func preActivations(_ x: UnsafePointer<Float>, rows: Int, centered: UnsafeMutablePointer<Float>, pre: UnsafeMutablePointer<Float>) {
        let d = width
        for r in 0..<rows {
            for i in 0..<d { centered[r * d + i] = x[r * d + i] - (subtractDecoderBias ? decoderBias[i] : 0) }
        }
        GEMM.parallel(transA: false, transB: true, m: rows, n: latents, k: d, a: centered, lda: d,
                      b: encoder.pointer, ldb: d, c: pre, ldc: latents)
        for r in 0..<rows {
            let row = pre + r * latents
            for j in 0..<latents { row[j] += encoderBias[j] }
        }
    }

    /// Applies the activation function to pre-activations in place (dense `[rows, latents]`).
    func activate(_ pre: UnsafeMutablePointer<Float>, rows: Int) {
        switch architecture {
        case .relu:
            for i in 0..<(rows * latents) where !(pre[i] > 0) { pre[i] = 0 }
        case .jumpReLU:
            let t = threshold!.pointer
            for r in 0..<rows { for j in 0..<latents where !(pre[r * latents + j] > t[j]) { pre[r * latents + j] = 0 } }
        case .topK(let k):
            var idx = [Int32](repeating: 0, count: rows * k), val = [Float](repeating: 0, count: rows * k)
            eks_topk_rows(pre, Int32(rows), Int32(latents), Int32(latents), Int32(k), nil, &idx, &val)
            for r in 0..<rows {
                let row = pre + r * latents
                row.update(repeating: 0, count: latents)
                for s in 0..<k where idx[r * k + s] >= 0 { row[Int(idx[r * k + s])] = max(val[r * k + s], 0) }
            }
        }
    }

    /// Latent activations of `rows` vectors (`x`: `[rows, width]`), dense: `[rows, latents]`.
    public func encode(_ x: [Float], rows: Int) -> [Float] {
        precondition(x.count == rows * width, "encode: \(x.count) values are not \(rows) rows of \(width)")
        var out = [Float](repeating: 0, count: rows * latents)
        let chunk = min(Self.chunkRows(latents: latents), max(rows, 1))   // one row per position in a forward pass
        let centered = Floats(chunk * width, zeroed: false)
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { o in
                var r0 = 0
                while r0 < rows {
                    let n = min(chunk, rows - r0)
                    preActivations(xs.baseAddress! + r0 * width, rows: n, centered: centered.pointer, pre: o.baseAddress! + r0 * latents)
                    activate(o.baseAddress! + r0 * latents, rows: n)
                    r0 += n
                }
            }
        }
        return out
    }

    /// `x̂ = z W_dec + b_dec` for dense latent activations `z` (`[rows, latents]`).
    public func decode(_ z: [Float], rows: Int) -> [Float] {
        precondition(z.count == rows * latents)
        var out = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows { for i in 0..<width { out[r * width + i] = decoderBias[i] } }
        z.withUnsafeBufferPointer { zs in
            out.withUnsafeMutableBufferPointer { o in
                GEMM.parallel(transA: false, transB: false, m: rows, n: width, k: latents, a: zs.baseAddress!, lda: latents,
                              b: decoder.pointer, ldb: width, beta: 1, c: o.baseAddress!, ldc: width)
            }
        }
        return out
    }

    /// The reconstruction of `rows` vectors.
    public func reconstruct(_ x: [Float], rows: Int) -> [Float] { decode(encode(x, rows: rows), rows: rows) }

    /// Latent `j`'s decoder direction (its row of `W_dec`).
    public func decoderRow(_ j: Int) -> [Float] {
        precondition(j >= 0 && j < latents)
        return Array(UnsafeBufferPointer(start: decoder.pointer + j * width, count: width))
    }
}
