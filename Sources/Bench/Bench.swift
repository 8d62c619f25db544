import Foundation
import GGUF
import Inference

public struct BenchResult: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var reference: Double?
    /// Whose figure `reference` is.
    public var referenceName = "llama.cpp"
    public var ratio: Double? { reference.map { value / $0 } }
}

/// Measures the engine the way llama-bench does: pp512 = one 512-token prompt in one pass;
/// tg128 = 128 tokens decoded one at a time from an empty context. Median of `runs`.
public struct Benchmark {
    public let engine: Engine
    public let threads: Int
    public let runs: Int
    public let reference: ReferenceFigures?

    public init(engine: Engine, threads: Int, runs: Int = 5, reference: ReferenceFigures?) {
        self.engine = engine
        self.threads = threads
        self.runs = runs
        self.reference = reference
    }

    func tokens(_ n: Int, seed: UInt64) -> [Int32] {
        var rng = RandomStream(seed: seed)
        let vocab = UInt64(engine.model.config.vocabularySize)
        return (0..<n).map { _ in Int32(rng.next() % vocab) }
    }

    /// A tokens/s figure beside the reference's `figure`, where it has one.
    func tokensPerSecond(_ name: String, _ value: Double, figure: (ReferenceFigures) -> Double?) -> BenchResult {
        BenchResult(name: name, value: value, unit: "tokens/s", reference: reference.flatMap(figure),
                    referenceName: reference?.source ?? "llama.cpp")
    }

    private func time(_ body: () throws -> Void) rethrows -> Double {
        let start = Stopwatch.now
        try body()
        return Stopwatch.seconds(since: start)
    }

    /// `pp512` on the engine's prompt path. `eightBit` takes the 8-bit kernels whatever that path is
    /// (`pp512_8bit` beside a float `pp512`): llama.cpp's own numerics, against the same llama.cpp figure.
    public func promptProcessing(_ n: Int = 512, eightBit: Bool = false) throws -> BenchResult {
        let model = engine.model
        let prompt = tokens(n, seed: 1)
        var rates: [Double] = []
        for run in 0...runs {   // run 0 warms up
            let seq = model.newSequence(reserve: n)
            var batch = engine.promptBatch()
            if eightBit { batch.independentRows = true }
            batch.append(prompt, to: seq)
            let t = try time { _ = try model.forward(batch, hooks: nil) }
            if run > 0 { rates.append(Double(n) / t) }
        }
        let name = eightBit && engine.promptPath != .eightBit ? "pp\(n)_8bit" : "pp\(n)"
        return tokensPerSecond(name, median(rates)) { $0.pp512[threads] }
    }

    /// The bytes one decoding step reads from memory at `context` positions: every weight once
    /// (the token embedding only where it is also the output head; otherwise one row of it, which
    /// is left out) and the keys and values of every position.
    public func bytesReadPerToken(context: Int) -> Int {
        let file = engine.file
        let tied = file.tensor(named: "output.weight") == nil
        let weights = file.tensors.reduce(0) { sum, t in
            t.name == "token_embd.weight" && !tied ? sum : sum + t.type.byteCount(elements: t.elementCount)
        }
        let c = engine.model.config
        return weights + context * KVSequence.bytesPerPosition(layers: c.layerCount, kvDimension: c.kvDimension)
    }

    /// `tg128_limit`: the tokens/s that a host reading `readGBps` allows a decoding step that reads
    /// `bytesReadPerToken(context:)` (context 64: tg128's mean).
    public func decodingLimit(readGBps: Double, context: Int = 64) -> BenchResult {
        BenchResult(name: "tg128_limit", value: readGBps * 1e9 / Double(bytesReadPerToken(context: context)),
                    unit: "tokens/s", reference: nil)
    }

    public func textGeneration(_ n: Int = 128) throws -> BenchResult {
        let model = engine.model
        let input = tokens(n, seed: 2)
        var rates: [Double] = []
        for run in 0...runs {
            let seq = model.newSequence(reserve: n)
            let t = try time {
                for tok in input {
                    var batch = Batch()
                    batch.append([tok], to: seq)
                    _ = try model.forward(batch, hooks: nil)
                }
            }
            if run > 0 { rates.append(Double(n) / t) }
        }
        return tokensPerSecond("tg\(n)", median(rates)) { $0.tg128[threads] }
    }
}

extension Benchmark {
    /// llama-batched-bench's shape: `sequences` prompts of 64 tokens, 64 new tokens each, decoded
    /// together. `batched_N`: generated tokens/s over the decoding phase's forward passes, as its
    /// S_TG measures (it computes every sequence's logits but samples nothing); `batched_N_sampled`:
    /// the same with each token sampled from its logits (temperature 1) and recorded.
    public func batched(sequences: Int, promptLength: Int = 64, newTokens: Int = 64) throws -> [BenchResult] {
        var forward: [Double] = [], sampled: [Double] = []
        for run in 0...max(1, runs / 2) {
            let gen = BatchGenerator(engine: engine, prefixCache: nil, maxBatch: sequences)
            for s in 0..<sequences {
                try gen.submit(GenerationRequest(promptTokens: tokens(promptLength, seed: UInt64(100 + s)), samples: 1,
                                                 sampling: SamplingParameters(temperature: 1, seed: UInt64(s)),
                                                 maxTokens: newTokens, ignoreEndOfTurn: true))
            }
            _ = try gen.run()
            let st = gen.statistics
            if run > 0 {
                forward.append(Double(st.tokensGenerated) / st.forwardSeconds)
                sampled.append(Double(st.tokensGenerated) / st.decodeSeconds)
            }
        }
        return [tokensPerSecond("batched_\(sequences)", median(forward)) { $0.batched[threads]?[sequences] },
                BenchResult(name: "batched_\(sequences)_sampled", value: median(sampled), unit: "tokens/s", reference: nil)]
    }

    /// The ICL scenario: one shared prefix of `prefixLength` tokens, `questions` different questions
    /// × `samples` samples × `newTokens` tokens. Returns (with sharing and caching, without) in seconds.
    ///
    /// Without sharing, each of the questions × samples requests computes its whole prompt (as
    /// independent requests to a server without prefix caching do) and the answers are decoded
    /// together. Unless `fullUncached`, that figure is estimated: `uncachedProbe` of those prompts
    /// are computed and their time scaled to all of them (every prompt costs the same), plus the
    /// decoding time of the shared run (the same sequences decoding the same number of tokens;
    /// each one reads its whole context either way).
    public func icl(prefixLength: Int = 2000, questions: Int = 8, samples: Int = 16, newTokens: Int = 64,
                    fullUncached: Bool = false, uncachedProbe: Int = 3) throws -> (cached: BenchResult, uncached: BenchResult) {
        let prefix = tokens(prefixLength, seed: 7)
        let prompts = (0..<questions).map { prefix + tokens(24 + $0, seed: UInt64(500 + $0)) }
        func request(_ p: [Int32], samples n: Int, seed: UInt64) -> GenerationRequest {
            GenerationRequest(promptTokens: p, samples: n, sampling: SamplingParameters(temperature: 1, seed: seed),
                              maxTokens: newTokens, ignoreEndOfTurn: true)
        }
        // With sharing: the prefix is computed once, each question's samples share its prompt.
        let cachedStart = Stopwatch.now
        let shared = BatchGenerator(engine: engine, prefixCache: PrefixCache(), maxBatch: questions * samples)
        for (i, p) in prompts.enumerated() { try shared.submit(request(p, samples: samples, seed: UInt64(i))) }
        _ = try shared.run()
        let cachedSeconds = Stopwatch.seconds(since: cachedStart)

        // Without: every request computes its whole prompt.
        let requests = prompts.enumerated().flatMap { i, p in (0..<samples).map { _ in (i, p) } }
        let independent = BatchGenerator(engine: engine, prefixCache: nil, maxBatch: requests.count)
        var uncachedSeconds: Double
        if fullUncached {
            let start = Stopwatch.now
            for (i, p) in requests { try independent.submit(request(p, samples: 1, seed: UInt64(i))) }
            _ = try independent.run()
            uncachedSeconds = Stopwatch.seconds(since: start)
        } else {
            // Decoding is taken from the shared run. Decoding the answers again as single-sample
            // requests from cached prompts would recompute each prompt's tail past its last chunk
            // boundary (where reuse stops) once per request: minutes of prompt work on a slow
            // host, only to be subtracted.
            var promptSeconds = 0.0
            for k in 0..<uncachedProbe {
                let start = Stopwatch.now
                _ = try independent.computePrompt(prompts[k % prompts.count])
                promptSeconds += Stopwatch.seconds(since: start)
            }
            let decodeSeconds = cachedSeconds - shared.statistics.promptSeconds
            uncachedSeconds = promptSeconds / Double(uncachedProbe) * Double(requests.count) + decodeSeconds
        }
        return (BenchResult(name: "icl_cached_s", value: cachedSeconds, unit: "s", reference: nil),
                BenchResult(name: "icl_uncached_s", value: uncachedSeconds, unit: fullUncached ? "s" : "s (est.)",
                            reference: nil))
    }
}

extension Benchmark {
    /// Memory by context length: one sequence prefilled with `length` tokens; its keys and values
    /// (`kv_mb_L`, every layer at every position: sliding-window layers keep the whole context too)
    /// and the process's peak resident memory meanwhile (`peak_rss_mb_L`: the mapped weights the
    /// pass touched, the KV cache and the scratch buffers). Lengths past the model's context are skipped.
    public func memory(contexts: [Int]) throws -> [BenchResult] {
        var out: [BenchResult] = []
        for length in contexts where length <= engine.model.config.contextLength {
            resetPeakResidentMemory()
            let seq = engine.model.newSequence(reserve: length)
            _ = try engine.prefill(tokens(length, seed: 11), into: seq)
            out.append(BenchResult(name: "kv_mb_\(length)", value: Double(seq.ownBytes) / 1e6, unit: "MB", reference: nil))
            if let rss = peakResidentMegabytes() {
                out.append(BenchResult(name: "peak_rss_mb_\(length)", value: rss, unit: "MiB", reference: nil))
            }
        }
        return out
    }
}

/// The median of a non-empty list.
public func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Starts the peak resident memory over from the current size (Linux: `5` into
/// /proc/self/clear_refs), so that a measurement's own buffers do not count in what follows.
/// Returns false where that is unavailable.
@discardableResult
public func resetPeakResidentMemory() -> Bool {
    FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs")
        && (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
}

/// Peak resident memory of this process (VmHWM), in MiB; nil where /proc is unavailable.
public func peakResidentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first
        return kb.map { $0 / 1024 }
    }
    return nil
}
