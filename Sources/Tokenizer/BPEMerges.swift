/// Merge rules keyed by the ids of the pair: (left, right) → (rank, merged id). An open-addressing
/// table with a multiplicative hash: the lookup sits in the innermost BPE loop, where `Dictionary`'s
/// seeded hashing would dominate.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]   // rank << 32 | merged id
    private let shift: UInt64
    private(set) var count = 0

    static let empty: UInt64 = .max
    static let notFound: UInt64 = .max

    init(capacityFor n: Int) {
        var bits: UInt64 = 4
        while (1 << bits) < max(16, n * 2) { bits += 1 }
        keys = [UInt64](repeating: Self.empty, count: 1 << Int(bits))
        values = [UInt64](repeating: 0, count: 1 << Int(bits))
        shift = 64 - bits
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Adds a rule unless the pair already has one (the first, lowest rank wins, as in llama.cpp).
    mutating func insert(left: Int32, right: Int32, rank: UInt32, merged: Int32) {
        let k = Self.key(left, right)
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while keys[slot] != Self.empty {
            if keys[slot] == k { return }
            slot = (slot + 1) & mask
        }
        keys[slot] = k
        values[slot] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    /// A read-only view for the hot loop (no array bounds checks or reference counting per lookup).
    struct View {
        let keys: UnsafeBufferPointer<UInt64>
        let values: UnsafeBufferPointer<UInt64>
        let shift: UInt64

        /// `rank << 32 | merged id`, or `notFound`.
        @inline(__always)
        func lookup(_ left: Int32, _ right: Int32) -> UInt64 {
            let k = MergeTable.key(left, right)
            let mask = keys.count - 1
            var slot = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let stored = keys[slot]
                if stored == k { return values[slot] }
                if stored == MergeTable.empty { return MergeTable.notFound }
                slot = (slot + 1) & mask
            }
        }
    }

    func withView<R>(_ body: (View) -> R) -> R {
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in body(View(keys: k, values: v, shift: shift)) }
        }
    }
}

/// Reusable buffers for merging one piece at a time (one per `encode` call, so encoding is
/// thread-safe without locks).
struct BPEWorkspace {
    var ids: [Int32] = []
    var ranks: [UInt64] = []     // per adjacent pair: rank << 32 | merged id, or notFound
    var next: [Int32] = []
    var prev: [Int32] = []
    var heap: [UInt64] = []      // rank << 32 | left position

    /// Pieces up to this many bytes merge by rescanning all pairs (cheap for short words);
    /// longer ones use a heap so the cost stays n log n.
    static let linearLimit = 48

    /// Merges the initial symbols `ids[0..<n]` by rank (lowest first, leftmost on ties) and appends
    /// the resulting ids to `out`.
    mutating func merge(_ table: MergeTable.View, count n: Int, into out: inout [Int32], forceHeap: Bool = false) {
        if n == 1 {
            out.append(ids[0])
        } else if n <= Self.linearLimit && !forceHeap {
            mergeLinear(table, n, &out)
        } else {
            mergeHeap(table, n, &out)
        }
    }

    private mutating func mergeLinear(_ table: MergeTable.View, _ count: Int, _ out: inout [Int32]) {
        var n = count
        if ranks.count < n { ranks = [UInt64](repeating: 0, count: max(n, Self.linearLimit)) }
        ids.withUnsafeMutableBufferPointer { ids in
            ranks.withUnsafeMutableBufferPointer { ranks in
                for i in 0..<(n - 1) { ranks[i] = table.lookup(ids[i], ids[i + 1]) }
                while n > 1 {
                    // Ranks sit in the high half, so the smallest value is the best pair; `<` keeps the leftmost.
                    var best = 0
                    var bestValue = ranks[0]
                    for i in 1..<(n - 1) where ranks[i] < bestValue {
                        best = i
                        bestValue = ranks[i]
                    }
                    if bestValue == MergeTable.notFound { break }
                    ids[best] = Int32(bitPattern: UInt32(truncatingIfNeeded: bestValue))
                    // Remove symbol best+1 and the pair that started at it.
                    var i = best + 1
                    while i < n - 1 {
                        ids[i] = ids[i + 1]
                        ranks[i] = ranks[i + 1]
                        i += 1
                    }
                    n -= 1
                    if best > 0 { ranks[best - 1] = table.lookup(ids[best - 1], ids[best]) }
                    if best < n - 1 { ranks[best] = table.lookup(ids[best], ids[best + 1]) }
                }
            }
        }
        out.append(contentsOf: ids[0..<n])
    }

    private mutating func mergeHeap(_ table: MergeTable.View, _ n: Int, _ out: inout [Int32]) {
        if next.count < n {
            next = [Int32](repeating: 0, count: n)
            prev = [Int32](repeating: 0, count: n)
        }
        heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        for i in 0..<(n - 1) {
            let r = table.lookup(ids[i], ids[i + 1])
            if r != MergeTable.notFound { heapPush(r & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
        }
        while let top = heapPop() {
            let left = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            // Entries go stale when a neighbour merges; the pair now at `left` is merged only if it
            // is the rule this entry was made for (ranks identify rules uniquely).
            guard ids[left] >= 0 else { continue }
            let right = Int(next[left])
            guard right >= 0 else { continue }
            let r = table.lookup(ids[left], ids[right])
            guard r != MergeTable.notFound, r >> 32 == rank else { continue }
            ids[left] = Int32(bitPattern: UInt32(truncatingIfNeeded: r))
            ids[right] = -1
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            let before = Int(prev[left])
            if before >= 0 {
                let r2 = table.lookup(ids[before], ids[left])
                if r2 != MergeTable.notFound { heapPush(r2 & 0xFFFF_FFFF_0000_0000 | UInt64(before)) }
            }
            if after >= 0 {
                let r2 = table.lookup(ids[left], ids[Int(after)])
                if r2 != MergeTable.notFound { heapPush(r2 & 0xFFFF_FFFF_0000_0000 | UInt64(left)) }
            }
        }
        var i = 0
        while i >= 0 {
            out.append(ids[i])
            i = Int(next[i])
        }
    }

    private mutating func heapPush(_ v: UInt64) {
        heap.append(v)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent] <= v { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = v
    }

    private mutating func heapPop() -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        var i = 0
        let n = heap.count
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n && heap[child + 1] < heap[child] { child += 1 }
            if heap[child] >= last { break }
            heap[i] = heap[child]
            i = child
        }
        heap[i] = last
        return top
    }
}
