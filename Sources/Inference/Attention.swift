import Foundation

/// Grouped-query attention of a batch of query rows against their sequences' KV caches.
///
/// Row `r` (position `p` in sequence `s`) attends to positions `max(0, p-window+1)...p` of `s`,
/// reading shared parent positions in place (keys and values are half floats, widened as read).
/// Work is split over (row, KV head) pairs.
final class Attention: @unchecked Sendable {
    private var scratch: [FloatBuffer] = []
    /// Keys and values of a prompt run widened to float for the matrix products.
    private let wideKeys = FloatBuffer(), wideValues = FloatBuffer()
    private var segments: [[KVSequence.Segment]] = []

    struct Shape {
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var scale: Float
        /// Attend only to the last `window` positions (sliding-window layers); nil = all.
        var window: Int?

        /// The first position a query at `position` attends to.
        func firstKey(position: Int) -> Int { window.map { max(0, position - $0 + 1) } ?? 0 }
    }

    /// Rows of one sequence at consecutive positions, from this many on, use matrix products.
    var gemmMinRun = 8

    /// q: [T × heads × headDim]; out: same shape.
    func run(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows t: Int,
             sequences: [KVSequence], positions: [Int], layer: Int, shape: Shape, independentRows: Bool = false) {
        // Split the batch into runs: consecutive rows continuing the same sequence.
        var perRow: [Int] = []
        var r = 0
        while r < t {
            var end = r + 1
            while end < t, sequences[end] === sequences[r], positions[end] == positions[end - 1] + 1 { end += 1 }
            if end - r >= gemmMinRun && !independentRows {
                runGEMM(q: q, out: out, rows: r..<end, sequence: sequences[r], firstPosition: positions[r],
                        layer: layer, shape: shape)
            } else {
                perRow.append(contentsOf: r..<end)
            }
            r = end
        }
        if !perRow.isEmpty {
            runRows(q: q, out: out, rows: perRow, sequences: sequences, positions: positions, layer: layer, shape: shape)
        }
    }

    /// A run of `rows` at positions p0, p0+1, … of one sequence: per head, S = QKᵀ, masked softmax, O = SV.
    private func runGEMM(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Range<Int>,
                         sequence: KVSequence, firstPosition p0: Int, layer: Int, shape: Shape) {
        let n = rows.count, ctx = p0 + n
        let hd = shape.headDim, qDim = shape.heads * hd, kvDim = shape.kvHeads * hd
        let group = shape.heads / shape.kvHeads
        if segments.isEmpty { segments.append([]) }
        sequence.segments(layer: layer, end: ctx, into: &segments[0])
        // Key blocks wholly before the first row's window are never read: widen from the first
        // block any row needs.
        let base = shape.firstKey(position: p0) / Attention.keyBlock * Attention.keyBlock
        let keys = wideKeys.reserve((ctx - base) * kvDim), values = wideValues.reserve((ctx - base) * kvDim)
        var segStart = 0
        for (k, v, count) in segments[0] {
            let lo = max(base, segStart), hi = segStart + count
            if lo < hi {
                VectorMath.toFloat(k + (lo - segStart) * kvDim, keys + (lo - base) * kvDim, count: (hi - lo) * kvDim)
                VectorMath.toFloat(v + (lo - segStart) * kvDim, values + (lo - base) * kvDim, count: (hi - lo) * kvDim)
            }
            segStart = hi
        }
        // One thread: OpenBLAS's results for a head must not depend on which pool thread ran it,
        // and 8-bit activation rounding downstream would magnify any last-bit difference.
        if scratch.isEmpty { scratch.append(FloatBuffer()) }
        let scores = scratch[0].reserve(n * ctx)
        let qBase = q + rows.lowerBound * qDim, oBase = out + rows.lowerBound * qDim
        for h in 0..<shape.heads {
            Attention.headGEMM(q: qBase + h * hd, out: oBase + h * hd, rows: n, firstPosition: p0,
                               keys: keys, values: values, base: base, kvOffset: (h / group) * hd, qDim: qDim, kvDim: kvDim,
                               shape: shape, scores: scores)
        }
    }

    /// Key positions per matrix product: blocks start at multiples of this absolute position, so
    /// a row's scores are computed by the same calls whether its prefix was shared or not.
    static let keyBlock = KVSequence.alignment

    /// One head over keys and values `[(ctx − base) × kvDim]` (positions base..<ctx, contiguous;
    /// `base` a multiple of `keyBlock` at or before every row's window), in blocks of `keyBlock`
    /// positions. Scores are indexed by absolute position.
    private static func headGEMM(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows n: Int,
                                 firstPosition p0: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                 base: Int, kvOffset: Int, qDim: Int, kvDim: Int, shape: Shape,
                                 scores: UnsafeMutablePointer<Float>) {
        let ctx = p0 + n, hd = shape.headDim
        let blocks = stride(from: base, to: ctx, by: keyBlock).map { ($0, min(keyBlock, ctx - $0)) }
        for (start, count) in blocks {
            BLAS.gemmABt(m: n, n: count, k: hd, a: q, lda: qDim, b: keys + (start - base) * kvDim + kvOffset, ldb: kvDim,
                         c: scores + start, ldc: ctx, alpha: shape.scale)
        }
        // Causal (and sliding-window) mask, then softmax per row.
        for i in 0..<n {
            let pos = p0 + i
            maskedSoftmax(scores + i * ctx, count: ctx, first: shape.firstKey(position: pos), last: pos)
        }
        for (start, count) in blocks {
            BLAS.gemmAB(m: n, n: hd, k: count, a: scores + start, lda: ctx, b: values + (start - base) * kvDim + kvOffset,
                        ldb: kvDim, c: out, ldc: qDim, beta: start == base ? 0 : 1)
        }
    }

    /// Softmax of `row[first...last]` in place; the other entries of the `count` become 0.
    private static func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, count: Int, first: Int, last: Int) {
        VectorMath.softmax(row + first, count: last - first + 1)
        for j in 0..<first { row[j] = 0 }
        for j in (last + 1)..<max(last + 1, count) { row[j] = 0 }
    }

    /// Rows one by one (decoding): work split over (row, KV head) pairs on the pool. The query heads
    /// that share a KV head go through the same matrix products, one block of keys at a time.
    private func runRows(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: [Int],
                         sequences: [KVSequence], positions: [Int], layer: Int, shape: Shape) {
        let t = rows.count
        if segments.count < t { segments.append(contentsOf: repeatElement([], count: t - segments.count)) }
        var longest = 0
        for (i, r) in rows.enumerated() {
            sequences[r].segments(layer: layer, end: positions[r] + 1, into: &segments[i])
            longest = max(longest, positions[r] + 1)
        }
        let group = shape.heads / shape.kvHeads
        let threads = Parallel.threadCount
        while scratch.count < threads { scratch.append(FloatBuffer()) }
        let wideAt = group * longest
        for b in scratch { b.reserve(wideAt + Attention.wideCount(headDim: shape.headDim, keys: longest)) }

        let items = t * shape.kvHeads
        let hd = shape.headDim
        let kvDim = shape.kvHeads * hd
        let qDim = shape.heads * hd
        segments.withUnsafeBufferPointer { segs in
            scratch.withUnsafeBufferPointer { scr in
                Parallel.run { ith, nth in
                    let scores = scr[ith].pointer
                    var item = items * ith / nth
                    let end = items * (ith + 1) / nth
                    while item < end {
                        let i = item / shape.kvHeads, g = item % shape.kvHeads
                        let r = rows[i]
                        let pos = positions[r]
                        let first = shape.firstKey(position: pos)
                        Attention.headGroup(q: q + r * qDim + g * group * hd, out: out + r * qDim + g * group * hd,
                                            heads: group, position: pos, first: first, segments: segs[i],
                                            kvOffset: g * hd, kvDim: kvDim, headDim: hd, scale: shape.scale,
                                            scores: scores, wide: scores + wideAt)
                        item += 1
                    }
                }
            }
        }
    }

    /// One query position: `heads` query heads (contiguous in `q`) against one KV head, keys
    /// `first...position`, read segment by segment where they lie. Plain eight-lane loops: at a
    /// few heads and a few hundred keys, a BLAS call costs more in packing than the arithmetic.
    /// Keys are taken in position order whatever the segments, so a row's numbers do not depend
    /// on whether its prefix was shared or on the batch it is in. Keys and values are widened
    /// into `wide` (`wideCount` floats) once for all the heads that read them.
    private static func headGroup(q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, heads: Int,
                                  position pos: Int, first: Int,
                                  segments: [KVSequence.Segment],
                                  kvOffset: Int, kvDim: Int, headDim hd: Int, scale: Float,
                                  scores: UnsafeMutablePointer<Float>, wide: UnsafeMutablePointer<Float>) {
        let ctx = pos + 1, n = ctx - first
        // S = QKᵀ · scale, row h at scores + h·n, eight keys at a time.
        var segStart = 0
        for (keys, _, count) in segments {
            let lo = max(first, segStart), hi = min(ctx, segStart + count)
            var j = lo
            while j < hi {
                let m = min(8, hi - j)
                let key = keys + (j - segStart) * kvDim + kvOffset
                for i in 0..<m { VectorMath.toFloat(key + i * kvDim, wide + i * hd, count: hd) }
                for h in 0..<heads {
                    let s = dots(q + h * hd, wide, stride: hd, keys: m, count: hd) * scale
                    if m == 8 { VectorMath.store(s, scores + h * n + j - first) }
                    else { VectorMath.storeTail(s, scores + h * n + j - first, m) }
                }
                j += m
            }
            segStart += count
        }
        for h in 0..<heads { VectorMath.softmax(scores + h * n, count: n) }
        // O = SV, 32 dimensions (8 at the tail) of every value at a time, then of each head in
        // registers.
        var c = 0
        while c < hd {
            let width = c + 32 <= hd ? 32 : 8
            segStart = 0
            for (_, values, count) in segments {
                let lo = max(first, segStart), hi = min(ctx, segStart + count)
                for j in lo..<max(lo, hi) {
                    VectorMath.toFloat(values + (j - segStart) * kvDim + kvOffset + c, wide + (j - first) * width, count: width)
                }
                segStart += count
            }
            for h in 0..<heads {
                let p = scores + h * n
                var a0 = VectorMath.Vec(), a1 = a0, a2 = a0, a3 = a0
                for j in 0..<n {
                    let v = UnsafePointer(wide + j * width), w = VectorMath.Vec(repeating: p[j])
                    a0 += w * VectorMath.load(v)
                    if width == 32 {
                        a1 += w * VectorMath.load(v + 8)
                        a2 += w * VectorMath.load(v + 16)
                        a3 += w * VectorMath.load(v + 24)
                    }
                }
                let o = out + h * hd + c
                VectorMath.store(a0, o)
                if width == 32 {
                    VectorMath.store(a1, o + 8)
                    VectorMath.store(a2, o + 16)
                    VectorMath.store(a3, o + 24)
                }
            }
            c += width
        }
    }

    /// Floats `headGroup` widens at once: eight keys, or 32 dimensions of every value.
    static func wideCount(headDim hd: Int, keys: Int) -> Int { max(8 * hd, 32 * keys) }

    /// The dot products of `q` with `keys` (≤ 8) rows `stride` apart, `count` (a multiple of 8)
    /// floats each, in lanes 0..<keys. Each product is summed by the same operations whichever
    /// lane it has, so a key's score does not depend on how keys were grouped.
    @inline(__always)
    private static func dots(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, stride: Int, keys m: Int,
                             count: Int) -> VectorMath.Vec {
        // Padding lanes repeat the last key.
        let k1 = k + min(1, m - 1) * stride, k2 = k + min(2, m - 1) * stride, k3 = k + min(3, m - 1) * stride
        let k4 = k + min(4, m - 1) * stride, k5 = k + min(5, m - 1) * stride, k6 = k + min(6, m - 1) * stride
        let k7 = k + min(7, m - 1) * stride
        var a0 = VectorMath.Vec(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        var c = 0
        while c < count {
            let x = VectorMath.load(q + c)
            a0 += x * VectorMath.load(k + c)
            a1 += x * VectorMath.load(k1 + c)
            a2 += x * VectorMath.load(k2 + c)
            a3 += x * VectorMath.load(k3 + c)
            a4 += x * VectorMath.load(k4 + c)
            a5 += x * VectorMath.load(k5 + c)
            a6 += x * VectorMath.load(k6 + c)
            a7 += x * VectorMath.load(k7 + c)
            c += 8
        }
        // Transpose-sum: halves, then even/odd lanes twice; lane i ends with the sum of a_i.
        typealias V = VectorMath.Vec
        let t0 = V(lowHalf: a0.lowHalf + a0.highHalf, highHalf: a1.lowHalf + a1.highHalf)
        let t1 = V(lowHalf: a2.lowHalf + a2.highHalf, highHalf: a3.lowHalf + a3.highHalf)
        let t2 = V(lowHalf: a4.lowHalf + a4.highHalf, highHalf: a5.lowHalf + a5.highHalf)
        let t3 = V(lowHalf: a6.lowHalf + a6.highHalf, highHalf: a7.lowHalf + a7.highHalf)
        let u0 = V(lowHalf: t0.evenHalf + t0.oddHalf, highHalf: t1.evenHalf + t1.oddHalf)
        let u1 = V(lowHalf: t2.evenHalf + t2.oddHalf, highHalf: t3.evenHalf + t3.oddHalf)
        return V(lowHalf: u0.evenHalf + u0.oddHalf, highHalf: u1.evenHalf + u1.oddHalf)
    }
}
