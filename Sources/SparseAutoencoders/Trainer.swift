import CBLAS
import CKernels
import Core
import Foundation
import Inference
import Training

/// How an SAE is trained. Defaults follow Gao et al.'s TopK recipe where it fits a CPU: k 32, AuxK
/// over the 256 most active dead latents at 1/32 weight, Adam (0.9, 0.999, ε 6.25e-10, no weight
/// decay), lr 2e-4; a latent is dead after `deadAfterTokens` vectors without firing (SAELens counts
/// 1,000 steps; the reference 10M tokens; emlab's corpora are smaller, so 100 batches).
public struct SAETrainingOptions: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case topk, relu }
    public var kind: Kind = .topk
    public var latents: Int
    public var k: Int = 32
    public var auxK: Int = 256
    public var auxCoefficient: Float = 1.0 / 32
    /// The L1 penalty's weight (ReLU SAEs), on latent activations with unit-norm decoder rows.
    public var l1Coefficient: Float = 1e-3
    public var learningRate: Float = 2e-4
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 6.25e-10
    public var batchSize: Int = 4096
    public var deadAfterTokens: Int = 409_600
    public var seed: UInt64 = 0

    public init(kind: Kind = .topk, latents: Int) {
        self.kind = kind
        self.latents = latents
    }

    public var architecture: SAEArchitecture { kind == .topk ? .topK(k: k) : .relu }
}

/// One step's figures.
public struct SAEStepMetrics: Sendable, Equatable {
    /// Fraction of variance unexplained: Σ‖x − x̂‖² over Σ‖x − mean‖² (the data's variance, measured
    /// once at the start).
    public var fvu: Double
    /// Mean number of latents active per vector.
    public var l0: Double
    /// Share of latents that fired on none of the last `deadAfterTokens` vectors.
    public var deadFraction: Double
    /// The AuxK term (TopK) or the L1 term (ReLU), before its coefficient.
    public var auxiliaryLoss: Double
    public var rows: Int
}

/// Trains a sparse autoencoder on batches of activation vectors: TopK with AuxK (the decoder product
/// is sparse, k of the latents per row, so the decoder and both gradients run through `ek_sae`'s
/// sparse kernels and only the encoder is a dense product), or ReLU with L1 (dense products).
///
/// Each step: loss = Σ‖x − x̂‖² / (B σ²) + aux; the decoder gradient's component along each decoder
/// row is removed, Adam steps, decoder rows are renormalised to unit length; latents that fired reset
/// their dead counters. Results do not depend on the thread count.
public final class SAETrainer: @unchecked Sendable {
    public let options: SAETrainingOptions
    public let sae: SparseAutoencoder
    /// σ²: the mean squared distance of a vector from the data's mean (normalises the loss).
    public let variance: Double
    public private(set) var step = 0
    /// Vectors seen since each latent last fired.
    public let tokensSinceFired: Floats
    private let m: [Floats], v: [Floats], grads: [Floats]
    private var dead: [UInt8]

    private var params: [Floats] { [sae.encoder, sae.encoderBias, sae.decoder, sae.decoderBias] }

    /// A new SAE for vectors of `width`: decoder rows random unit vectors (seeded), the encoder their
    /// transpose, `b_dec` the geometric median of `sample` (`[sampleRows, width]`), which also gives σ².
    public convenience init(options: SAETrainingOptions, width: Int, site: SAESite, sample: [Float], sampleRows: Int) {
        precondition(sampleRows > 0 && sample.count == sampleRows * width)
        let sae = SparseAutoencoder(width: width, latents: options.latents, architecture: options.architecture, site: site)
        var rng = SplitMix64(seed: options.seed)
        for i in 0..<(options.latents * width) { sae.decoder[i] = rng.nextGaussian() }
        eks_normalize_rows(sae.decoder.pointer, Int32(options.latents), Int32(width))
        sae.encoder.pointer.update(from: sae.decoder.pointer, count: options.latents * width)
        let median = Self.geometricMedian(sample, rows: sampleRows, width: width)
        for i in 0..<width { sae.decoderBias[i] = Float(median[i]) }
        self.init(options: options, sae: sae, variance: Self.variance(sample, rows: sampleRows, width: width))
    }

    /// A trainer around an existing SAE (a resumed checkpoint fills in the rest with `restore`).
    public init(options: SAETrainingOptions, sae: SparseAutoencoder, variance: Double) {
        precondition(variance > 0, "the data's variance is zero")
        self.options = options
        self.sae = sae
        self.variance = variance
        let sizes = [sae.latents * sae.width, sae.latents, sae.latents * sae.width, sae.width]
        m = sizes.map { Floats($0) }
        v = sizes.map { Floats($0) }
        grads = sizes.map { Floats($0) }
        tokensSinceFired = Floats(sae.latents)
        dead = [UInt8](repeating: 0, count: sae.latents)
    }

    public var deadCount: Int { dead.reduce(0) { $0 + Int($1) } }

    /// One optimizer step on `rows` vectors (`[rows, width]`).
    @discardableResult
    public func train(_ x: UnsafePointer<Float>, rows: Int) -> SAEStepMetrics {
        var fired = [UInt8](repeating: 0, count: sae.latents)
        let out = pass(x, rows: rows, gradients: true, fired: &fired)
        optimize(fired: fired, rows: rows)
        step += 1
        return SAEStepMetrics(fvu: out.fvu, l0: out.l0, deadFraction: Double(deadCount) / Double(sae.latents),
                              auxiliaryLoss: out.auxiliaryLoss, rows: rows)
    }

    /// The step's figures for `rows` vectors without changing anything (held-out data).
    public func measure(_ x: UnsafePointer<Float>, rows: Int) -> SAEStepMetrics {
        var fired = [UInt8](repeating: 0, count: sae.latents)
        return pass(x, rows: rows, gradients: false, fired: &fired)
    }

    /// The gradients of the last `pass(gradients: true)`: W_enc by latent, b_enc, W_dec, b_dec.
    var gradients: [Floats] { grads }

    /// The loss's figures, and with `gradients` its gradients (in `grads`; the decoder's before the
    /// unit-norm projection); `fired` marks the latents active on some row.
    func pass(_ x: UnsafePointer<Float>, rows: Int, gradients update: Bool, fired: inout [UInt8]) -> SAEStepMetrics {
        let d = sae.width, n = sae.latents
        let chunk = SparseAutoencoder.chunkRows(latents: n)
        let centered = Floats(chunk * d, zeroed: false), pre = Floats(chunk * n, zeroed: false)
        let recon = Floats(chunk * d, zeroed: false)
        let scale = Float(2 / (Double(rows) * variance))
        if update { for g in grads { g.zero() } }
        var errorSum = 0.0, auxSum = 0.0, active = 0
        let deadNow = deadCount
        let k = options.k, kAux = min(options.auxK, deadNow)
        var idx = [Int32](repeating: 0, count: chunk * k), val = [Float](repeating: 0, count: chunk * k)
        var dz = [Float](repeating: 0, count: chunk * k)
        var idx2 = [Int32](repeating: 0, count: chunk * max(kAux, 1)), val2 = [Float](repeating: 0, count: chunk * max(kAux, 1))
        var dz2 = [Float](repeating: 0, count: chunk * max(kAux, 1))
        let auxRecon = Floats(chunk * d, zeroed: false)
        var r0 = 0
        while r0 < rows {
            let b = min(chunk, rows - r0)
            let xs = x + r0 * d
            sae.preActivations(xs, rows: b, centered: centered.pointer, pre: pre.pointer)
            switch options.kind {
            case .topk:
                eks_topk_rows(pre.pointer, Int32(b), Int32(n), Int32(n), Int32(k), nil, &idx, &val)
                if kAux > 0 { eks_topk_rows(pre.pointer, Int32(b), Int32(n), Int32(n), Int32(kAux), dead, &idx2, &val2) }
                for i in 0..<(b * k) { val[i] = max(val[i], 0); if val[i] > 0 { fired[Int(idx[i])] = 1; active += 1 } }
                for i in 0..<(b * kAux) { val2[i] = max(val2[i], 0) }
                eks_sparse_decode(idx, val, Int32(b), Int32(k), sae.decoder.pointer, Int32(d), sae.decoderBias.pointer, recon.pointer)
            case .relu:
                for i in 0..<(b * n) {
                    if pre[i] > 0 { fired[i % n] = 1; active += 1; auxSum += Double(pre[i]) } else { pre[i] = 0 }
                }
                for r in 0..<b { (recon.pointer + r * d).update(from: sae.decoderBias.pointer, count: d) }
                GEMM.parallel(transA: false, transB: false, m: b, n: d, k: n, a: pre.pointer, lda: n, b: sae.decoder.pointer, ldb: d,
                              beta: 1, c: recon.pointer, ldc: d)
            }
            // recon ← e = x − x̂.
            for i in 0..<(b * d) {
                let e = xs[i] - recon[i]
                recon[i] = e
                errorSum += Double(e) * Double(e)
            }
            if options.kind == .topk && kAux > 0 {
                // The dead latents reconstruct the (detached) error: aux error = e − Σ val2 · W_dec.
                eks_sparse_decode(idx2, val2, Int32(b), Int32(kAux), sae.decoder.pointer, Int32(d), nil, auxRecon.pointer)
                for i in 0..<(b * d) {
                    let a = recon[i] - auxRecon[i]
                    auxRecon[i] = a
                    auxSum += Double(a) * Double(a)
                }
            }
            guard update else { r0 += b; continue }
            // recon ← dL/dx̂ = −scale · e;  b_dec's gradient from the decoder.
            for i in 0..<(b * d) { recon[i] *= -scale }
            let gDecB = grads[3].pointer
            for r in 0..<b { for i in 0..<d { gDecB[i] += recon[r * d + i] } }
            switch options.kind {
            case .topk:
                eks_sparse_dot(idx, Int32(b), Int32(k), sae.decoder.pointer, Int32(d), recon.pointer, &dz)
                for i in 0..<(b * k) where !(val[i] > 0) { dz[i] = 0 }
                eks_scatter_rows(idx, val, Int32(b), Int32(k), recon.pointer, Int32(d), grads[2].pointer, nil, Int32(n))
                eks_scatter_rows(idx, dz, Int32(b), Int32(k), centered.pointer, Int32(d), grads[0].pointer, grads[1].pointer, Int32(n))
                if kAux > 0 {
                    let auxScale = -options.auxCoefficient * scale
                    for i in 0..<(b * d) { auxRecon[i] *= auxScale }
                    eks_sparse_dot(idx2, Int32(b), Int32(kAux), sae.decoder.pointer, Int32(d), auxRecon.pointer, &dz2)
                    for i in 0..<(b * kAux) where !(val2[i] > 0) { dz2[i] = 0 }
                    eks_scatter_rows(idx2, val2, Int32(b), Int32(kAux), auxRecon.pointer, Int32(d), grads[2].pointer, nil, Int32(n))
                    eks_scatter_rows(idx2, dz2, Int32(b), Int32(kAux), centered.pointer, Int32(d), grads[0].pointer, grads[1].pointer, Int32(n))
                }
            case .relu:
                // dL/dz = dL/dx̂ · W_decᵀ + λ/B where z > 0; W_dec's gradient zᵀ · dL/dx̂.
                GEMM.parallel(transA: true, transB: false, m: n, n: d, k: b, a: pre.pointer, lda: n, b: recon.pointer, ldb: d,
                              beta: 1, c: grads[2].pointer, ldc: d)
                let dZ = Floats(b * n, zeroed: false)
                GEMM.parallel(transA: false, transB: true, m: b, n: n, k: d, a: recon.pointer, lda: d, b: sae.decoder.pointer, ldb: d,
                              c: dZ.pointer, ldc: n)
                let l1 = options.l1Coefficient / Float(rows)
                let gEncB = grads[1].pointer
                for r in 0..<b {
                    for j in 0..<n {
                        let i = r * n + j
                        if pre[i] > 0 { dZ[i] += l1; gEncB[j] += dZ[i] } else { dZ[i] = 0 }
                    }
                }
                GEMM.parallel(transA: true, transB: false, m: n, n: d, k: b, a: dZ.pointer, lda: n, b: centered.pointer, ldb: d,
                              beta: 1, c: grads[0].pointer, ldc: d)
            }
            r0 += b
        }
        if update && sae.subtractDecoderBias {
            // x − b_dec feeds the encoder: b_dec's gradient gains −W_encᵀ · (b_enc's gradient).
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(d), -1, sae.encoder.pointer, Int32(d),
                        grads[1].pointer, 1, 1, grads[3].pointer, 1)
        }
        let aux: Double
        switch options.kind {
        case .topk: aux = kAux > 0 ? auxSum / (Double(rows) * variance) : 0
        case .relu: aux = auxSum / Double(rows)
        }
        return SAEStepMetrics(fvu: errorSum / (Double(rows) * variance), l0: Double(active) / Double(rows),
                              deadFraction: Double(deadCount) / Double(n), auxiliaryLoss: aux, rows: rows)
    }

    private func optimize(fired: [UInt8], rows: Int) {
        let d = sae.width, n = sae.latents
        eks_remove_parallel(grads[2].pointer, sae.decoder.pointer, Int32(n), Int32(d))
        let t = Float(step + 1)
        let c1 = 1 - powf(options.beta1, t), c2 = 1 - powf(options.beta2, t)
        for (i, p) in params.enumerated() {
            eks_adam(p.pointer, grads[i].pointer, m[i].pointer, v[i].pointer, p.count, options.learningRate, options.beta1,
                     options.beta2, options.epsilon, c1, c2)
        }
        eks_normalize_rows(sae.decoder.pointer, Int32(n), Int32(d))
        for j in 0..<n {
            tokensSinceFired[j] = fired[j] != 0 ? 0 : tokensSinceFired[j] + Float(rows)
            dead[j] = tokensSinceFired[j] >= Float(options.deadAfterTokens) ? 1 : 0
        }
    }

    // MARK: State

    /// Every tensor of the training state by name (parameters, Adam moments, dead counters).
    public var stateTensors: [(name: String, value: Floats)] {
        let names = ["W_enc_rows", "b_enc", "W_dec", "b_dec"]
        return zip(names, params).map { ($0, $1) } + zip(names, m).map { ("m." + $0, $1) } + zip(names, v).map { ("v." + $0, $1) }
            + [("tokens_since_fired", tokensSinceFired)]
    }

    /// Restores the step count and recomputes the dead mask after `stateTensors` were filled in.
    public func restore(step: Int) {
        self.step = step
        for j in 0..<sae.latents { dead[j] = tokensSinceFired[j] >= Float(options.deadAfterTokens) ? 1 : 0 }
    }

    // MARK: Initialisation

    /// σ² = mean ‖x − mean(x)‖² (float64).
    static func variance(_ x: [Float], rows: Int, width: Int) -> Double {
        var mean = [Double](repeating: 0, count: width)
        for r in 0..<rows { for i in 0..<width { mean[i] += Double(x[r * width + i]) } }
        for i in 0..<width { mean[i] /= Double(rows) }
        var s = 0.0
        for r in 0..<rows { for i in 0..<width { let e = Double(x[r * width + i]) - mean[i]; s += e * e } }
        return s / Double(rows)
    }

    /// The geometric median (Weiszfeld's iteration from the mean, float64).
    static func geometricMedian(_ x: [Float], rows: Int, width: Int, iterations: Int = 100) -> [Double] {
        var y = [Double](repeating: 0, count: width)
        for r in 0..<rows { for i in 0..<width { y[i] += Double(x[r * width + i]) / Double(rows) } }
        for _ in 0..<iterations {
            var num = [Double](repeating: 0, count: width), den = 0.0
            for r in 0..<rows {
                var dist = 0.0
                for i in 0..<width { let e = Double(x[r * width + i]) - y[i]; dist += e * e }
                let w = 1 / max(dist.squareRoot(), 1e-12)
                den += w
                for i in 0..<width { num[i] += w * Double(x[r * width + i]) }
            }
            var moved = 0.0
            for i in 0..<width { let next = num[i] / den; moved = max(moved, abs(next - y[i])); y[i] = next }
            if moved < 1e-7 { break }
        }
        return y
    }
}
