import Core
import Foundation
import Inference
import SparseAutoencoders
import Training

/// `emlab bench --only sae`: activation vectors per second of one TopK SAE training step (encoder,
/// top-k, sparse decoder, loss, backward, decoder-norm projection, Adam, renormalisation), on the
/// shapes of `shared/reference/sae-baseline.py`: d_in 576, 32× expansion (18,432 latents), k 32,
/// batch 4,096, Gaussian inputs; the median of `steps` timed steps after two warm-up steps. As in
/// the baseline, no latent has been dead long enough for AuxK to run in these few steps.
public struct SAEBenchmark {
    public var width = 576
    public var expansion = 32
    public var k = 32
    public var batch = 4096
    public var steps = 5

    /// PyTorch 2.13 CPU (`sae-baseline.py`, same shapes, 2 threads) on a 2-core Zen 3 host, as issue
    /// #26 records it: vectors/s.
    public static let pytorchReference = 1060.0

    public init() {}

    public func run(threads: Int, baseline: Double?) -> [BenchResult] {
        Parallel.configure(threads: threads)
        var options = SAETrainingOptions(kind: .topk, latents: width * expansion)
        options.k = k
        options.batchSize = batch
        options.deadAfterTokens = Int.max / 2
        var rng = SplitMix64(seed: 0)
        let x = Floats(batch * width, zeroed: false)
        for i in 0..<(batch * width) { x[i] = rng.nextGaussian() }
        let sample = Array(UnsafeBufferPointer(start: x.pointer, count: min(batch, 1024) * width))
        let trainer = SAETrainer(options: options, width: width, site: SAESite(model: "random", hookName: SAESite.residualHook(layer: 0)),
                                 sample: sample, sampleRows: min(batch, 1024))
        var times: [Double] = []
        for i in 0..<(steps + 2) {
            let start = Date()
            trainer.train(x.pointer, rows: batch)
            if i >= 2 { times.append(Date().timeIntervalSince(start)) }
        }
        times.sort()
        let median = times[times.count / 2]
        let reference = baseline ?? Self.pytorchReference
        let name = baseline == nil ? "PyTorch 2.13, Zen 3 (issue #26)" : "PyTorch 2.13 on this host"
        return [BenchResult(name: "sae_topk", value: Double(batch) / median, unit: "vectors/s", reference: reference, referenceName: name),
                BenchResult(name: "sae_topk_step", value: median, unit: "s")]
    }
}
