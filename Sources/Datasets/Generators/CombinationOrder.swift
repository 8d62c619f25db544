import Core

/// Visits every combination of several template axes once, in a seeded random order, before any
/// repeats: the first `total` examples of a generator are pairwise distinct in their templates.
/// After a full pass a new shuffled pass starts.
struct CombinationOrder {
    let sizes: [Int]
    let total: Int
    private var rng: SplitMix64
    private var permutation: [Int] = []
    private var position = 0

    init(sizes: [Int], seed: UInt64) {
        precondition(sizes.allSatisfy { $0 > 0 }, "every axis needs at least one choice")
        self.sizes = sizes
        total = sizes.reduce(1, *)
        rng = SplitMix64(seed: seed)
    }

    /// The next combination, one index per axis.
    mutating func next() -> [Int] {
        if position == permutation.count {
            permutation = Array(0..<total)
            for i in stride(from: total - 1, to: 0, by: -1) { permutation.swapAt(i, rng.below(i + 1)) }
            position = 0
        }
        var index = permutation[position]
        position += 1
        var out = [Int](repeating: 0, count: sizes.count)
        for axis in sizes.indices.reversed() {
            out[axis] = index % sizes[axis]
            index /= sizes[axis]
        }
        return out
    }
}
