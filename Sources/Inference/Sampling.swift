import Core
import Foundation

/// How the next token is chosen. `temperature == 0` is greedy.
public struct SamplingParameters: Sendable, Codable, Equatable {
    public var temperature: Float = 1
    public var topK: Int = 0          // 0 = off
    public var topP: Float = 1        // 1 = off
    public var minP: Float = 0        // 0 = off
    public var seed: UInt64 = 0

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)
}

/// A small, fast, seedable generator (xoshiro256**), seeded through SplitMix64.
public struct RandomStream: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// The state is the first four outputs of `SplitMix64(seed:)` (the rules are in Core's Seeds.swift).
    public init(seed: UInt64) {
        var g = SplitMix64(seed: seed)
        s = (g.next(), g.next(), g.next(), g.next())
    }

    /// An independent stream for sub-stream `index` (e.g. sample i of a prompt).
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: SplitMix64.samplerStreamSeed(seed: seed, stream: index))
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) * 0x1p-24 }
}

/// Chooses tokens from logits. Owns its random stream and scratch, so each sequence has one.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: RandomStream
    private var candidates: [(id: Int32, p: Float)] = []
    private var weights: [Float] = []

    public init(_ parameters: SamplingParameters, stream: UInt64 = 0) {
        self.parameters = parameters
        self.rng = RandomStream(seed: parameters.seed, stream: stream)
    }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        let p = parameters
        if p.temperature <= 0 || p.topK == 1 { return Sampler.argmax(logits) }
        let n = logits.count
        guard n > 0, let base = logits.baseAddress else { return 0 }
        if weights.count < n { weights = [Float](repeating: 0, count: n) }
        // Unnormalised probabilities e^{(l − max)/T}, and their total.
        let total = weights.withUnsafeMutableBufferPointer { w in
            VectorMath.expShifted(base, w.baseAddress!, count: n, shift: VectorMath.maximum(base, count: n),
                                  scale: 1 / p.temperature)
        }
        let filtered = p.topK > 0 || p.topP < 1 || p.minP > 0
        if !filtered {
            var r = rng.nextUnit() * total
            let drawn: Int? = weights.withUnsafeBufferPointer { w in
                for i in 0..<n {
                    r -= w[i]
                    if r < 0 { return i }
                }
                return nil
            }
            return Int32(drawn ?? Int(Sampler.argmax(logits)))
        }
        // Filters need the candidates in order of probability. Tokens below 1e-7 of the top one are
        // left out when top-p or min-p is set: together they weigh under vocabulary × 1e-7 of the
        // top token, so top-p up to 0.995 keeps exactly the same set.
        candidates.removeAll(keepingCapacity: true)
        let floor = (p.minP > 0 ? max(p.minP, 1e-7) : 1e-7)
        let keepAll = p.topP >= 1 && p.minP == 0
        for i in 0..<n where keepAll || weights[i] >= floor { candidates.append((Int32(i), weights[i])) }
        candidates.sort { $0.p > $1.p || ($0.p == $1.p && $0.id < $1.id) }
        if p.topK > 0 && p.topK < candidates.count { candidates.removeSubrange(p.topK...) }
        if p.topP < 1 {
            // The mass of the whole distribution, not only of the kept candidates.
            var cumulative: Float = 0
            for (i, c) in candidates.enumerated() {
                cumulative += c.p
                if cumulative >= p.topP * total {
                    candidates.removeSubrange((i + 1)...)
                    break
                }
            }
        }
        let kept = candidates.reduce(0) { $0 + $1.p }
        var r = rng.nextUnit() * kept
        for c in candidates {
            r -= c.p
            if r < 0 { return c.id }
        }
        return candidates.last!.id
    }
}
