/// Keys and values of one sequence, for every layer, stored as IEEE half floats (as llama.cpp's
/// default cache): half the memory and half the bytes attention reads per step, for a rounding of
/// 2⁻¹¹ relative, far below the 8-bit rounding of every product's activations.
///
/// A sequence may continue a `parent` (a shared prompt or prefix): positions below `parentLength`
/// are read from the parent, which is never written again; only the sequence's own positions are
/// stored here. Many samples of one prompt therefore share one copy of the prompt's cache.
public final class KVSequence: @unchecked Sendable {
    /// Positions are grouped in blocks of this many, starting at 0: prompts are computed one block
    /// at a time, attention products cover one block of keys each, and cached prefixes are reused
    /// in whole blocks. Because the grouping depends only on positions, a prompt's numbers depend
    /// only on its tokens — never on what was cached or batched beside it.
    public static let alignment = 256

    public let parent: KVSequence?
    /// Positions inherited from the parent chain.
    public let parentLength: Int
    /// Positions stored (inherited + own).
    public private(set) var length: Int

    let layers: Int
    let kvDim: Int
    private var ownCapacity: Int
    public typealias Element = Float16
    /// A contiguous run of positions of one layer: keys, values, count.
    typealias Segment = (keys: UnsafePointer<Element>, values: UnsafePointer<Element>, count: Int)

    // One allocation per layer for K and one for V: [ownCapacity × kvDim].
    private var keys: [UnsafeMutablePointer<Element>]
    private var values: [UnsafeMutablePointer<Element>]

    /// Bytes one position takes over all layers.
    public static func bytesPerPosition(layers: Int, kvDimension: Int) -> Int {
        2 * layers * kvDimension * MemoryLayout<Element>.stride
    }

    /// Bytes held by this sequence's own positions (not its parent's).
    public var ownBytes: Int { ownCapacity * Self.bytesPerPosition(layers: layers, kvDimension: kvDim) }

    public init(layers: Int, kvDimension: Int, parent: KVSequence? = nil, parentLength: Int? = nil,
                reserve: Int = 64) {
        self.layers = layers
        self.kvDim = kvDimension
        self.parent = parent
        let inherited = parentLength ?? parent?.length ?? 0
        precondition(inherited <= (parent?.length ?? 0), "parent holds fewer positions than requested")
        self.parentLength = inherited
        self.length = inherited
        self.ownCapacity = max(reserve, 1)
        keys = (0..<layers).map { _ in .allocate(capacity: max(reserve, 1) * kvDimension) }
        values = (0..<layers).map { _ in .allocate(capacity: max(reserve, 1) * kvDimension) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// A child that reads this sequence's positions `0..<length` and appends its own.
    public func fork(reserve: Int = 64) -> KVSequence {
        KVSequence(layers: layers, kvDimension: kvDim, parent: self, parentLength: length, reserve: reserve)
    }

    /// Makes room for positions up to `newLength` (exclusive) in this sequence's own storage.
    func ensureCapacity(_ newLength: Int) {
        let needed = newLength - parentLength
        guard needed > ownCapacity else { return }
        var cap = ownCapacity
        while cap < needed { cap *= 2 }
        let used = (length - parentLength) * kvDim
        for l in 0..<layers {
            let k = UnsafeMutablePointer<Element>.allocate(capacity: cap * kvDim)
            k.update(from: keys[l], count: used)
            keys[l].deallocate()
            keys[l] = k
            let v = UnsafeMutablePointer<Element>.allocate(capacity: cap * kvDim)
            v.update(from: values[l], count: used)
            values[l].deallocate()
            values[l] = v
        }
        ownCapacity = cap
    }

    /// Declares positions `0..<newLength` filled (after the forward pass wrote them).
    func commit(length newLength: Int) {
        precondition(newLength >= length)
        length = newLength
    }

    /// Drops own positions from `newLength` on (e.g. to re-run a suffix).
    public func truncate(to newLength: Int) {
        precondition(newLength >= parentLength && newLength <= length)
        length = newLength
    }

    /// Stores position `pos`'s key and value (kvDim floats each, rounded to half) for `layer`.
    func write(layer: Int, position pos: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let (k, v) = slot(layer: layer, position: pos)
        VectorMath.toHalf(key, k, count: kvDim)
        VectorMath.toHalf(value, v, count: kvDim)
    }

    /// Where position `pos`'s key and value live for `layer`, writing or reading.
    @inline(__always)
    func slot(layer: Int, position pos: Int) -> (key: UnsafeMutablePointer<Element>, value: UnsafeMutablePointer<Element>) {
        if pos >= parentLength {
            let off = (pos - parentLength) * kvDim
            return (keys[layer] + off, values[layer] + off)
        }
        return parent!.slot(layer: layer, position: pos)
    }

    /// Contiguous runs covering positions `0..<end` for `layer`, oldest first.
    func segments(layer: Int, end: Int, into out: inout [Segment]) {
        out.removeAll(keepingCapacity: true)
        appendSegments(layer: layer, end: end, into: &out)
    }

    private func appendSegments(layer: Int, end: Int, into out: inout [Segment]) {
        if parentLength > 0, let parent {
            parent.appendSegments(layer: layer, end: min(end, parentLength), into: &out)
        }
        let own = end - parentLength
        if own > 0 { out.append((UnsafePointer(keys[layer]), UnsafePointer(values[layer]), own)) }
    }
}
