import Core

/// Keeps computed prompts' KV caches so that later prompts starting with the same tokens reuse them.
///
/// Keyed by token ids and by the interventions that changed them (`variant`: a prompt computed
/// under steering has other keys and values than the same tokens computed plain). A lookup finds
/// the cached sequence sharing the longest prefix with the new prompt, and the new prompt forks it
/// at that length (shared read-only positions, no copy). A
/// prompt met before token for token is served whole, with the logits of its last position kept
/// beside it (they are what computing it again would give), so it costs nothing.
/// Bounded by `budgetBytes` (KV memory and kept logits) with least-recently-used eviction; an evicted sequence
/// that live sequences still extend stays alive until they finish.
public final class PrefixCache: @unchecked Sendable {
    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        /// Prompt tokens served from the cache instead of being computed.
        public var reusedTokens = 0
        public var evictions = 0
    }

    private struct Entry {
        let tokens: [Int32]
        let variant: [Intervention]
        let sequence: KVSequence
        let logits: [Float]
        var lastUse: UInt64
    }

    public var budgetBytes: Int
    /// Reused prefixes are cut to a multiple of this (the engine's prompt chunk), so that the rest
    /// of the prompt is computed in the same chunks as it would be from scratch: reuse never
    /// changes the numbers.
    public let alignment = KVSequence.alignment
    public private(set) var statistics = Statistics()
    private var entries: [Entry] = []
    private var clock: UInt64 = 0

    public init(budgetBytes: Int = 1 << 30) { self.budgetBytes = budgetBytes }

    public var count: Int { entries.count }

    /// Bytes of KV memory held by cached sequences and their parents (each counted once), and of
    /// the kept logits.
    public var bytes: Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for e in entries {
            total += e.logits.count * MemoryLayout<Float>.size
            var s: KVSequence? = e.sequence
            while let cur = s, seen.insert(ObjectIdentifier(cur)).inserted {
                total += cur.ownBytes
                s = cur.parent
            }
        }
        return total
    }

    /// The cached prompt equal to `tokens` (computed under `variant`) and its last position's logits,
    /// if there is one.
    public func exact(_ tokens: [Int32], variant: [Intervention] = []) -> (sequence: KVSequence, logits: [Float])? {
        guard let i = entries.firstIndex(where: { $0.tokens == tokens && $0.variant == variant }) else { return nil }
        use(i, reusing: tokens.count)
        return (entries[i].sequence, entries[i].logits)
    }

    /// The cached sequence (computed under `variant`) sharing the longest prefix with `tokens`, and
    /// that prefix's length: a multiple of `alignment`, at most `tokens.count - 1` (the caller still
    /// computes the last prompt token's logits) and at most `limit`.
    public func lookup(_ tokens: [Int32], variant: [Intervention] = [], limit: Int = .max) -> (sequence: KVSequence, length: Int)? {
        var best: Int? = nil
        var bestLength = 0
        let limit = min(tokens.count - 1, limit)
        for (i, e) in entries.enumerated() where e.variant == variant {
            let n = min(limit, e.tokens.count)
            var k = 0
            while k < n && e.tokens[k] == tokens[k] { k += 1 }
            k -= k % alignment
            if k > bestLength { bestLength = k; best = i }
        }
        guard let best, bestLength > 0 else {
            statistics.misses += 1
            return nil
        }
        use(best, reusing: bestLength)
        return (entries[best].sequence, bestLength)
    }

    private func use(_ i: Int, reusing n: Int) {
        clock += 1
        entries[i].lastUse = clock
        statistics.hits += 1
        statistics.reusedTokens += n
    }

    /// Remembers `sequence`, whose positions hold `tokens` computed under `variant`, and `logits`,
    /// those of its last position; evicts old entries beyond the budget.
    public func insert(_ tokens: [Int32], _ sequence: KVSequence, logits: [Float], variant: [Intervention] = []) {
        precondition(sequence.length == tokens.count, "sequence must hold exactly the tokens")
        clock += 1
        if let i = entries.firstIndex(where: { $0.tokens == tokens && $0.variant == variant }) {
            entries[i].lastUse = clock
            return
        }
        entries.append(Entry(tokens: tokens, variant: variant, sequence: sequence, logits: logits, lastUse: clock))
        while bytes > budgetBytes, let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            entries.remove(at: oldest)
            statistics.evictions += 1
        }
    }

    public func removeAll() { entries.removeAll() }
}
