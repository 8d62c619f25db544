import Foundation

/// Seeds and random streams: the one place that says how every seeded number in emlab is derived.
/// Stored runs, cached responses and tests depend on these numbers bit for bit, so a rule here is
/// never changed in place; a new rule gets a new name.
///
/// The generator. `SplitMix64` (Steele, Lea, Flood 2014; Vigna's `splitmix64.c`, Java's
/// `SplittableRandom`): `state += 0x9E3779B97F4A7C15`, output = `finalise(state)` (the
/// `0xBF58476D1CE4E5B9` / `0x94D049BB133111EB` mixer). Its output depends only on the seed, so
/// sampling and generated datasets are the same on every platform and Swift version (Swift's own
/// random APIs promise neither). It is the only mixer in the project:
///
/// - Dataset sampling and generators: `SplitMix64(seed: seed)` (`ChatDataset.sample`, the
///   generators' main stream).
/// - A generator's side streams: `SplitMix64.derived(seed:stream:)` =
///   `SplitMix64(seed: SplitMix64(seed: seed ^ stream &* 0xD6E8FEB86659FD93).next())`, so one part
///   of a generator can draw more numbers without shifting another part's choices.
/// - Seeds combined from two values: `SplitMix64.mix(a, b)` = the first output of
///   `SplitMix64(seed: a ^ b)`. The eval runner's per-slot seed is
///   `mix(runSeed, FNV1a.hash("condition␟question␟paraphrase"))`; an ICL sweep's draw `d` samples its
///   examples with seed `mix(sweepSeed, d + 0x1C1)`.
/// - The sampler (`Inference.RandomStream`, xoshiro256**): its four state words are the first four
///   outputs of `SplitMix64(seed:)`. Sub-stream `i` of a seed (sample `i` of a prompt) starts from
///   `SplitMix64.samplerStreamSeed(seed:stream: i)` = `seed ^ (i + 1) &* 0xD1B54A32D192ED03`. This
///   differs from `derived(seed:stream:)` (another odd constant, `i + 1` rather than `i`, and no
///   mixing step, since the xoshiro seeding mixes it): both are kept, because each one's numbers
///   are stored (generated datasets on one side, sampled completions on the other).
///
/// (`0x9E3779B97F4A7C15` also appears in the tokenizer's merge table as a Fibonacci-hashing
/// multiplier: that is a hash-table slot, not a seed, and has nothing to do with these rules.)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-spread seed from two values: the first output of `SplitMix64(seed: a ^ b)`.
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var g = SplitMix64(seed: a ^ b)
        return g.next()
    }

    /// The seed of the sampler's sub-stream `stream` of `seed`: `seed ^ (stream + 1) &* 0xD1B54A32D192ED03`,
    /// unmixed (the sampler seeds xoshiro256** through `SplitMix64`, which mixes it). Not the same
    /// rule as `derived(seed:stream:)`; see the file's comment.
    public static func samplerStreamSeed(seed: UInt64, stream: UInt64) -> UInt64 {
        seed ^ ((stream &+ 1) &* 0xD1B5_4A32_D192_ED03)
    }

    /// A standard normal value from the next two outputs (Box–Muller: u1, u2 from the top 53 bits,
    /// u1 kept above 1e-300; √(−2 ln u1) · cos(2π u2)). SAE initial weights and random benchmark data.
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<n (n > 0), without modulo bias (rejection of the short last range).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "SplitMix64.below needs a positive bound")
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// A uniformly chosen element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A generator for an independent stream derived from this seed and a label, so one part of a
    /// generator can draw more numbers without shifting another part's choices:
    /// `SplitMix64(seed: SplitMix64(seed: seed ^ stream &* 0xD6E8FEB86659FD93).next())`.
    public static func derived(seed: UInt64, stream: UInt64) -> SplitMix64 {
        var mix = SplitMix64(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        return SplitMix64(seed: mix.next())
    }
}

/// FNV-1a (64-bit) of a string's UTF-8 bytes: the project's one string hash, for seeds derived from
/// names and for content digests. Its outputs are part of every stored seed; do not change it.
public enum FNV1a {
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
