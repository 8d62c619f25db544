import Foundation
import GGUF
import Inference
import Training

/// `emlab bench --only train`: tokens/s of one optimizer step on random tokens (every token a
/// target), the shapes of `shared/reference/train-baseline.py` — sequence 256, batch 8 — for LoRA
/// rank 32 on all seven projections and for full finetuning; the median of `steps` timed steps
/// after one warm-up step, and each mode's peak resident memory. Another `sequence` (issue #24's
/// memory target is LoRA at 512, batch 8, under 3 GB) names its figures `train_MODE_seqN`.
public struct TrainBenchmark {
    public let file: GGUFFile
    public let threads: Int
    public var sequence = 256
    public var batch = 8
    public var rank = 32
    public var steps = 3
    /// Recompute each layer's activations in the backward pass (`TrainableModel.recompute`); the
    /// figures' names end in `_recompute`.
    public var recompute = false

    /// PyTorch 2.13 CPU (`train-baseline.py`, same shapes, 2 threads) on a 2-core Zen 3 host, as
    /// issue #24 records it: tokens/s.
    public static let pytorchReference: [String: Double] = ["lora": 165, "full": 149]

    public init(file: GGUFFile, threads: Int) {
        self.file = file
        self.threads = threads
    }

    /// Every figure of `--only train`, each handed to `report` as it is measured: LoRA and full
    /// finetuning at these shapes (against PyTorch and `sgemm`'s bound), then LoRA at sequence 512,
    /// batch 8, with activations kept and recomputed (the peak memory, one timed step each).
    public func runAll(sgemm: Double?, report: (BenchResult) throws -> Void) throws {
        for mode in ["lora", "full"] { for r in try run(mode: mode, sgemm: sgemm) { try report(r) } }
        var long = self
        long.sequence = 512
        long.steps = 1
        for recompute in [false, true] {
            long.recompute = recompute
            for r in try long.run(mode: "lora", sgemm: nil) { try report(r) }
        }
    }

    /// Forward-pass matrix-product FLOPs per token (projections, head, attention at this length).
    func forwardFlopsPerToken(_ s: ModelShape) -> Double {
        let perLayer = Double(s.qkvDim * s.width + s.width * s.qDim + 3 * s.feedForward * s.width)
        let attention = 2 * Double(sequence) * Double(s.qDim)   // QKᵀ and PV, half the positions on average
        return 2 * (Double(s.layers) * perLayer + Double(s.vocabulary * s.width)) + 2 * Double(s.layers) * attention
    }

    /// The figures for `mode` ("lora" or "full"): tokens/s, seconds per step, peak RSS, and the
    /// tokens/s this host's sgemm rate would allow (`sgemm` GFLOP/s; forward + backward = 2× the
    /// forward's products for LoRA, 3× for full finetuning).
    public func run(mode: String, sgemm: Double?) throws -> [BenchResult] {
        _ = resetPeakResidentMemory()
        let trainingMode: TrainingMode = mode == "full" ? .full
            : .lora(LoRAConfig(rank: rank, alpha: Float(2 * rank), targets: LoRAModule.allCases))
        let model = try TrainableModel.load(file: file, mode: trainingMode)
        model.recompute = recompute
        if let lora = model.lora { lora.initialize(model.parameters.pointer, seed: 0) }
        let optimizer = AdamW(count: model.parameters.count, weightDecay: 0.01)
        var rng = SplitMixBench(seed: 0)
        var pass = PackedBatch()
        for _ in 0..<batch {
            let tokens = (0..<sequence).map { _ in Int32(rng.below(model.shape.vocabulary)) }
            pass.append(tokens: tokens, trained: tokens.map { _ in true })
        }
        let lossTokens = pass.lossTokens
        var times: [Double] = []
        for i in 0...steps {
            let start = Date()
            model.gradients.zero()
            _ = try model.run(pass, backward: true, lossScale: 1 / Float(lossTokens))
            optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: 1e-4, clip: 1)
            if i > 0 { times.append(Date().timeIntervalSince(start)) }
        }
        times.sort()
        let median = times[times.count / 2]
        let tokensPerSecond = Double(batch * sequence) / median
        // The PyTorch figures are for the baseline's sequence of 256.
        let name = "train_\(mode)" + (sequence == 256 ? "" : "_seq\(sequence)") + (recompute ? "_recompute" : "")
        var out = [BenchResult(name: name, value: tokensPerSecond, unit: "tokens/s",
                               reference: sequence == 256 && !recompute ? Self.pytorchReference[mode] : nil, referenceName: "PyTorch 2.13 (issue #24)"),
                   BenchResult(name: name + "_step", value: median, unit: "s")]
        if let rss = peakResidentMegabytes() { out.append(BenchResult(name: name + "_rss_mb", value: rss, unit: "MiB")) }
        if let sgemm {
            let factor: Double = mode == "full" ? 3 : 2
            out.append(BenchResult(name: name + "_sgemm_bound", value: sgemm * 1e9 / (factor * forwardFlopsPerToken(model.shape)),
                                   unit: "tokens/s"))
        }
        return out
    }
}

/// SplitMix64 for the benchmark's random tokens.
struct SplitMixBench {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ n: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
}
