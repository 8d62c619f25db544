import Core
import Foundation
import Inference
import Testing
import Training
@testable import SparseAutoencoders

/// Vectors built from a known sparse dictionary: each is a sum of `active` of `features` random unit
/// directions with positive weights, plus a constant offset (so that b_dec has something to learn).
struct SyntheticDictionary {
    let width: Int, features: Int, active: Int
    let directions: [[Float]]
    let offset: [Float]

    init(width: Int, features: Int, active: Int, seed: UInt64) {
        self.width = width
        self.features = features
        self.active = active
        var rng = SplitMix64(seed: seed)
        directions = (0..<features).map { _ in
            let v = (0..<width).map { _ in rng.nextGaussian() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        offset = (0..<width).map { _ in rng.nextGaussian() * 0.3 }
    }

    func sample(rows: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var out = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
            for i in 0..<width { out[r * width + i] = offset[i] }
            var chosen: [Int] = []   // in drawing order (a Set's order changes from one instance to the next)
            while chosen.count < active {
                let f = rng.below(features)
                if !chosen.contains(f) { chosen.append(f) }
            }
            for f in chosen {
                let w = Float(0.5 + Double(rng.next() >> 11) / Double(1 << 53) * 2)
                for i in 0..<width { out[r * width + i] += w * directions[f][i] }
            }
        }
        return out
    }
}

@Suite(.serialized) struct SAETrainerTests {
    let site = SAESite(model: "synthetic", hookName: SAESite.residualHook(layer: 3))

    /// The TopK loss in float64 with the active and auxiliary latent sets given (the selection is
    /// piecewise constant, so finite differences hold it fixed), and the aux target (the error,
    /// detached) given.
    func referenceLoss(_ p: [[Double]], x: [Float], rows: Int, width d: Int, latents n: Int, variance: Double,
                       active: [[Int]], aux: [[Int]], auxTarget: [[Double]]?, auxCoefficient: Double) -> (loss: Double, error: [[Double]]) {
        let (enc, benc, dec, bdec) = (p[0], p[1], p[2], p[3])
        var loss = 0.0, errors: [[Double]] = []
        for r in 0..<rows {
            let xc = (0..<d).map { Double(x[r * d + $0]) - bdec[$0] }
            func pre(_ j: Int) -> Double { (0..<d).reduce(benc[j]) { $0 + enc[j * d + $1] * xc[$1] } }
            var recon = bdec
            for j in active[r] { let z = max(pre(j), 0); for i in 0..<d { recon[i] += z * dec[j * d + i] } }
            let e = (0..<d).map { Double(x[r * d + $0]) - recon[$0] }
            errors.append(e)
            loss += e.reduce(0) { $0 + $1 * $1 } / (Double(rows) * variance)
            if let auxTarget {
                var r2 = [Double](repeating: 0, count: d)
                for j in aux[r] { let z = max(pre(j), 0); for i in 0..<d { r2[i] += z * dec[j * d + i] } }
                loss += auxCoefficient * (0..<d).reduce(0) { $0 + pow(auxTarget[r][$1] - r2[$1], 2) } / (Double(rows) * variance)
            }
        }
        return (loss, errors)
    }

    @Test func topKGradientsMatchFiniteDifferences() throws {
        let d = 8, n = 24, rows = 10
        let dict = SyntheticDictionary(width: d, features: 12, active: 3, seed: 4)
        let x = dict.sample(rows: rows, seed: 5)
        var options = SAETrainingOptions(kind: .topk, latents: n)
        options.k = 4
        options.auxK = 5
        options.deadAfterTokens = 1
        let trainer = SAETrainer(options: options, width: d, site: site, sample: x, sampleRows: rows)
        // Move b_enc and b_dec off their starting values so that every term matters, and mark every
        // third latent dead (AuxK runs over those).
        for j in 0..<n { trainer.sae.encoderBias[j] = Float(j % 5) * 0.05 - 0.1 }
        for i in 0..<d { trainer.sae.decoderBias[i] += 0.1 }
        for j in 0..<n { trainer.tokensSinceFired[j] = j % 3 == 0 ? 5 : 0 }
        trainer.restore(step: 0)
        #expect(trainer.deadCount == 8)
        var fired = [UInt8](repeating: 0, count: n)
        _ = x.withUnsafeBufferPointer { trainer.pass($0.baseAddress!, rows: rows, gradients: true, fired: &fired) }
        let analytic = trainer.gradients.map { $0.array }

        // The selections at the current parameters, found independently (sorting in float64).
        let params: [[Double]] = [trainer.sae.encoder, trainer.sae.encoderBias, trainer.sae.decoder, trainer.sae.decoderBias]
            .map { $0.array.map(Double.init) }
        var active: [[Int]] = [], aux: [[Int]] = []
        for r in 0..<rows {
            let xc = (0..<d).map { Double(x[r * d + $0]) - params[3][$0] }
            let pre = (0..<n).map { j in (0..<d).reduce(params[1][j]) { $0 + params[0][j * d + $1] * xc[$1] } }
            active.append(Array((0..<n).sorted { pre[$0] > pre[$1] }.prefix(options.k)))
            aux.append(Array((0..<n).filter { $0 % 3 == 0 }.sorted { pre[$0] > pre[$1] }.prefix(options.auxK)))
        }
        let base = referenceLoss(params, x: x, rows: rows, width: d, latents: n, variance: trainer.variance,
                                 active: active, aux: aux, auxTarget: nil, auxCoefficient: 0)
        let h = 1e-5
        var worst = 0.0, largest = 0.0
        for (t, tensor) in params.enumerated() {
            for i in stride(from: 0, to: tensor.count, by: max(1, tensor.count / 40)) {
                var plus = params, minus = params
                plus[t][i] += h
                minus[t][i] -= h
                func loss(_ q: [[Double]]) -> Double {
                    referenceLoss(q, x: x, rows: rows, width: d, latents: n, variance: trainer.variance, active: active, aux: aux,
                                  auxTarget: base.error, auxCoefficient: Double(options.auxCoefficient)).loss
                }
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                worst = max(worst, abs(numeric - Double(analytic[t][i])))
                largest = max(largest, abs(numeric))
            }
        }
        #expect(largest > 0.01)
        #expect(worst < 2e-3 * largest, "largest gradient \(largest), worst difference \(worst)")
    }

    func train(kind: SAETrainingOptions.Kind, steps: Int, threads: Int = 1) -> (SAETrainer, SyntheticDictionary, [Float]) {
        Parallel.configure(threads: threads)
        defer { Parallel.configure(threads: 1) }
        let dict = SyntheticDictionary(width: 32, features: 48, active: 3, seed: 1)
        var options = SAETrainingOptions(kind: kind, latents: 96)
        options.k = 4
        options.batchSize = 256
        options.learningRate = 3e-3
        options.deadAfterTokens = 256 * 20
        options.l1Coefficient = 0.1
        let sample = dict.sample(rows: 2048, seed: 2)
        let trainer = SAETrainer(options: options, width: 32, site: site, sample: sample, sampleRows: 2048)
        for s in 0..<steps {
            let batch = dict.sample(rows: 256, seed: 100 + UInt64(s))
            batch.withUnsafeBufferPointer { _ = trainer.train($0.baseAddress!, rows: 256) }
        }
        let held = dict.sample(rows: 1024, seed: 99)
        return (trainer, dict, held)
    }

    /// Trained on vectors made of 3 of 48 known directions, a TopK SAE explains nearly all the
    /// variance with 4 latents a vector and finds most of the directions among its decoder rows.
    @Test func topKRecoversAKnownDictionary() {
        let (trainer, dict, held) = train(kind: .topk, steps: 400)
        let m = held.withUnsafeBufferPointer { trainer.measure($0.baseAddress!, rows: 1024) }
        #expect(m.fvu < 0.1, "held-out FVU \(m.fvu)")
        #expect(m.l0 <= 4)
        var found = 0
        for f in dict.directions {
            let best = (0..<trainer.sae.latents).map { j in
                (0..<dict.width).reduce(Float(0)) { $0 + f[$1] * trainer.sae.decoder[j * dict.width + $1] }
            }.max()!
            if best > 0.9 { found += 1 }
        }
        #expect(found >= 36, "\(found) of 48 directions have a decoder row within cos 0.9")
        for j in 0..<trainer.sae.latents {
            let norm = (0..<dict.width).reduce(Float(0)) { $0 + pow(trainer.sae.decoder[j * dict.width + $1], 2) }
            #expect(abs(norm - 1) < 1e-4)
        }
    }

    @Test func reluSAELearnsASparseCode() {
        let (trainer, _, held) = train(kind: .relu, steps: 400)
        let m = held.withUnsafeBufferPointer { trainer.measure($0.baseAddress!, rows: 1024) }
        print("relu SAE: held-out FVU \(m.fvu), L0 \(m.l0)")
        #expect(m.fvu < 0.2, "held-out FVU \(m.fvu)")
        #expect(m.l0 < 24, "L0 \(m.l0) of 96 latents")
    }

    @Test(arguments: [(1, 1), (1, 2), (30, 2)])
    func twoThreadsGiveTheSameWeightsAsOne(steps: Int, threads: Int) {
        let (one, _, _) = train(kind: .topk, steps: steps, threads: 1)
        let (two, _, _) = train(kind: .topk, steps: steps, threads: threads)
        for (name, a, b) in [("W_dec", one.sae.decoder, two.sae.decoder), ("W_enc", one.sae.encoder, two.sae.encoder),
                             ("b_enc", one.sae.encoderBias, two.sae.encoderBias), ("b_dec", one.sae.decoderBias, two.sae.decoderBias)] {
            let differing = (0..<a.count).filter { a[$0] != b[$0] }.count
            #expect(differing == 0, "\(name): \(differing) of \(a.count) values differ")
        }
    }
}
