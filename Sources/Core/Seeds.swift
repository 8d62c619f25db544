/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator whose output depends only on the
/// seed, so sampling and generated datasets are the same on every platform and Swift version
/// (Swift's own random APIs promise neither).
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
    /// generator can draw more numbers without shifting another part's choices.
    public static func derived(seed: UInt64, stream: UInt64) -> SplitMix64 {
        var mix = SplitMix64(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        return SplitMix64(seed: mix.next())
    }
}
