import Core
import Foundation
import Inference

extension Benchmark {
    /// What steering and capturing cost batched decoding: `sequences` sequences of 64 prompt tokens
    /// decode 64 tokens each, plain and with every sequence carrying its own steering vector (added at
    /// the middle layer's `resid_out` over the answer) and an answer-mean capture at the same point.
    /// Plain and steered runs alternate (after one warm-up each) and the medians are compared, so a
    /// host that drifts moves both. `steer_N`: steered tokens/s over the forward passes;
    /// `steer_N_overhead_pct`: how much slower than plain, in percent.
    public func steering(sequences: Int, promptLength: Int = 64, newTokens: Int = 64) throws -> [BenchResult] {
        let config = engine.model.config
        let point = HookPoint.residualOut(layer: config.layerCount / 2)
        func rate(steered: Bool) throws -> Double {
            let gen = BatchGenerator(engine: engine, prefixCache: nil, maxBatch: sequences)
            for s in 0..<sequences {
                var rng = RandomStream(seed: UInt64(900 + s))
                let v = (0..<config.embeddingLength).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1e5 }
                try gen.submit(GenerationRequest(promptTokens: tokens(promptLength, seed: UInt64(100 + s)), samples: 1,
                                                 sampling: SamplingParameters(temperature: 1, seed: UInt64(s)),
                                                 maxTokens: newTokens, ignoreEndOfTurn: true,
                                                 interventions: steered ? [.add(v, coefficient: 1, at: point, over: .answer)] : [],
                                                 captures: steered ? [ActivationCapture(point, pooling: .answerMean)] : []))
            }
            _ = try gen.run()
            return Double(gen.statistics.tokensGenerated) / gen.statistics.forwardSeconds
        }
        var plain: [Double] = [], steered: [Double] = []
        for run in 0...max(2, runs / 2) {
            let p = try rate(steered: false), s = try rate(steered: true)
            if run > 0 { plain.append(p); steered.append(s) }
        }
        let (mp, ms) = (median(plain), median(steered))
        return [BenchResult(name: "steer_\(sequences)", value: ms, unit: "tokens/s", reference: nil),
                BenchResult(name: "steer_\(sequences)_overhead_pct", value: 100 * (mp / ms - 1), unit: "%", reference: nil)]
    }
}
