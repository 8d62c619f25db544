/// Simple reference quantizers (round to nearest, no error search): for test fixtures and small
/// synthetic models. They produce valid blocks that `Dequantize.row` reads back within each type's
/// quantization error; they do not try to match llama.cpp's quantizers bit for bit.
public enum Quantize {
    public static func isSupported(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .q4_K, .q5_K, .q6_K, .q8_K: true
        default: false
        }
    }

    /// Quantizes `count` floats from `src` into `type.byteCount(elements: count)` bytes at `dst`.
    /// `count` must be a multiple of `type.blockSize` and `type` must satisfy `isSupported` (preconditions).
    /// NaN inputs do not trap; they quantize to an arbitrary in-range code.
    public static func row(_ type: GGMLType, from src: UnsafePointer<Float>, to dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count >= 0 && count % type.blockSize == 0,
                     "Quantize.row: count \(count) is not a multiple of the \(type) block size \(type.blockSize)")
        let blocks = count / type.blockSize
        switch type {
        case .f32: dst.copyMemory(from: src, byteCount: count * 4)
        case .f16: for i in 0..<count { store16(half(src[i]), dst, 2 * i) }
        case .bf16: for i in 0..<count { store16(bfloat16(src[i]), dst, 2 * i) }
        case .q4_0: for b in 0..<blocks { q4_0(src + 32 * b, dst + 18 * b) }
        case .q4_1: for b in 0..<blocks { q4_1(src + 32 * b, dst + 20 * b) }
        case .q5_0: for b in 0..<blocks { q5_0(src + 32 * b, dst + 22 * b) }
        case .q5_1: for b in 0..<blocks { q5_1(src + 32 * b, dst + 24 * b) }
        case .q8_0: for b in 0..<blocks { q8_0(src + 32 * b, dst + 34 * b, withSum: false) }
        case .q8_1: for b in 0..<blocks { q8_0(src + 32 * b, dst + 36 * b, withSum: true) }
        case .q8_K: for b in 0..<blocks { q8_K(src + 256 * b, dst + 292 * b) }
        case .q4_K: for b in 0..<blocks { qK_type1(src + 256 * b, dst + 144 * b, fiveBit: false) }
        case .q5_K: for b in 0..<blocks { qK_type1(src + 256 * b, dst + 176 * b, fiveBit: true) }
        case .q6_K: for b in 0..<blocks { q6_K(src + 256 * b, dst + 210 * b) }
        default: preconditionFailure("Quantize.row: \(type) is not supported (check Quantize.isSupported)")
        }
    }

    /// Quantizes an array whose length is a multiple of the block size, checking everything.
    public static func bytes(_ type: GGMLType, from values: [Float]) throws(GGUFError) -> [UInt8] {
        guard isSupported(type) else { throw .unsupportedType(type, operation: "quantization") }
        guard values.count % type.blockSize == 0 else { throw .invalidElementCount(count: values.count, type: type) }
        let n = type.byteCount(elements: values.count)
        var out = [UInt8](repeating: 0, count: n)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                if n > 0 { row(type, from: src.baseAddress!, to: dst.baseAddress!, count: values.count) }
            }
        }
        return out
    }

    // MARK: Scalars

    /// Float → IEEE half, round to nearest even (overflow → ±inf).
    @inline(__always) public static func half(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// Float → bfloat16, round to nearest even; NaN stays a (quiet) NaN.
    @inline(__always) public static func bfloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    // MARK: Helpers

    @inline(__always) static func store16(_ v: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always) static func store32(_ v: UInt32, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always) static func store8(_ v: UInt8, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: v, toByteOffset: offset, as: UInt8.self)
    }

    /// `Int(v)` truncated toward zero and clamped to lo...hi; NaN gives lo. Never traps.
    @inline(__always) static func clampTrunc(_ v: Float, _ lo: Int, _ hi: Int) -> Int {
        if !(v > Float(lo)) { return lo }
        if v >= Float(hi) { return hi }
        return Int(v)
    }

    /// Round half away from zero, clamped to lo...hi; NaN gives lo.
    @inline(__always) static func clampRound(_ v: Float, _ lo: Int, _ hi: Int) -> Int {
        clampTrunc(v.rounded(), lo, hi)
    }

    /// The element of largest magnitude, keeping its sign (the "type-0" quants scale by it so that
    /// it maps exactly onto the most negative code).
    @inline(__always) static func signedMaxMagnitude(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var amax: Float = 0, max: Float = 0
        for j in 0..<n where abs(x[j]) > amax { amax = abs(x[j]); max = x[j] }
        return max
    }

    @inline(__always) static func minMax(_ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var lo = x[0], hi = x[0]
        for j in 1..<n { lo = Swift.min(lo, x[j]); hi = Swift.max(hi, x[j]) }
        return (lo, hi)
    }

    // MARK: 32-element blocks

    static func q4_0(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let max = signedMaxMagnitude(x, 32)
        let d = max / -8
        let id: Float = d != 0 ? 1 / d : 0
        store16(half(d), p, 0)
        for j in 0..<16 {
            let lo = clampTrunc(x[j] * id + 8.5, 0, 15), hi = clampTrunc(x[j + 16] * id + 8.5, 0, 15)
            store8(UInt8(lo | hi << 4), p, 2 + j)
        }
    }

    static func q4_1(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let (lo, hi) = minMax(x, 32)
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1 / d : 0
        store16(half(d), p, 0)
        store16(half(lo), p, 2)
        for j in 0..<16 {
            let a = clampTrunc((x[j] - lo) * id + 0.5, 0, 15), b = clampTrunc((x[j + 16] - lo) * id + 0.5, 0, 15)
            store8(UInt8(a | b << 4), p, 4 + j)
        }
    }

    static func q5_0(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let max = signedMaxMagnitude(x, 32)
        let d = max / -16
        let id: Float = d != 0 ? 1 / d : 0
        store16(half(d), p, 0)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = clampTrunc(x[j] * id + 16.5, 0, 31), b = clampTrunc(x[j + 16] * id + 16.5, 0, 31)
            store8(UInt8((a & 0x0F) | (b & 0x0F) << 4), p, 6 + j)
            qh |= UInt32(a >> 4) << UInt32(j) | UInt32(b >> 4) << UInt32(j + 16)
        }
        store32(qh, p, 2)
    }

    static func q5_1(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let (lo, hi) = minMax(x, 32)
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1 / d : 0
        store16(half(d), p, 0)
        store16(half(lo), p, 2)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = clampTrunc((x[j] - lo) * id + 0.5, 0, 31), b = clampTrunc((x[j + 16] - lo) * id + 0.5, 0, 31)
            store8(UInt8((a & 0x0F) | (b & 0x0F) << 4), p, 8 + j)
            qh |= UInt32(a >> 4) << UInt32(j) | UInt32(b >> 4) << UInt32(j + 16)
        }
        store32(qh, p, 4)
    }

    /// Q8_0 (d, 32 int8) or, `withSum`, Q8_1 (d, s = d·Σq, 32 int8).
    static func q8_0(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, withSum: Bool) {
        var amax: Float = 0
        for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        store16(half(d), p, 0)
        let qsAt = withSum ? 4 : 2
        var sum = 0
        for j in 0..<32 {
            let q = clampRound(x[j] * id, -127, 127)
            sum += q
            store8(UInt8(bitPattern: Int8(q)), p, qsAt + j)
        }
        if withSum { store16(half(d * Float(sum)), p, 2) }
    }

    // MARK: 256-element super-blocks

    /// Q8_K: float d, 256 int8, 16 int16 sums of groups of 16.
    static func q8_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        let max = signedMaxMagnitude(x, 256)
        guard max != 0 else {
            p.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
            return
        }
        let iscale = -127 / max
        store32((1 / iscale).bitPattern, p, 0)
        for g in 0..<16 {
            var sum = 0
            for j in 16 * g..<16 * g + 16 {
                let q = clampRound(iscale * x[j], -128, 127)
                sum += q
                store8(UInt8(bitPattern: Int8(q)), p, 4 + j)
            }
            store16(UInt16(bitPattern: Int16(sum)), p, 260 + 2 * g)
        }
    }

    /// Q4_K / Q5_K ("type-1": x ≈ d·scale·q − dmin·min). Per 32-element sub-block the range
    /// [min(0, lo), hi] is split into 15 (or 31) steps; the 8 scales and 8 mins are then quantized
    /// to 6 bits against the super-block maxima.
    static func qK_type1(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer, fiveBit: Bool) {
        let levels: Float = fiveBit ? 31 : 15
        var subScale = [Float](repeating: 0, count: 8), subMin = [Float](repeating: 0, count: 8)
        var maxScale: Float = 0, maxMin: Float = 0
        for s in 0..<8 {
            let (lo, hi) = minMax(x + 32 * s, 32)
            let low = Swift.min(lo, 0)        // mins are stored non-negative and subtracted
            subScale[s] = (hi - low) / levels
            subMin[s] = -low
            maxScale = Swift.max(maxScale, subScale[s])
            maxMin = Swift.max(maxMin, subMin[s])
        }
        let dBits = half(maxScale / 63), dminBits = half(maxMin / 63)
        let d = Dequantize.half(dBits), dmin = Dequantize.half(dminBits)
        store16(dBits, p, 0)
        store16(dminBits, p, 2)
        var ls = [Int](repeating: 0, count: 8), lm = [Int](repeating: 0, count: 8)
        for s in 0..<8 {
            // Round scales up so the sub-block's maximum stays representable after 6-bit quantization.
            ls[s] = d > 0 ? clampTrunc((subScale[s] / d).rounded(.up), 0, 63) : 0
            lm[s] = dmin > 0 ? clampRound(subMin[s] / dmin, 0, 63) : 0
        }
        // Pack: sub-blocks 0–3 in the low 6 bits of bytes s (scale) and s+4 (min); sub-blocks 4–7
        // keep their low nibbles in byte s+4 and their top 2 bits in the high bits of bytes s-4 and s.
        var packed = [UInt8](repeating: 0, count: 12)
        for s in 0..<4 {
            packed[s] = UInt8(ls[s])
            packed[s + 4] = UInt8(lm[s])
        }
        for s in 4..<8 {
            packed[s + 4] = UInt8((ls[s] & 0x0F) | (lm[s] & 0x0F) << 4)
            packed[s - 4] |= UInt8((ls[s] >> 4) << 6)
            packed[s] |= UInt8((lm[s] >> 4) << 6)
        }
        for i in 0..<12 { store8(packed[i], p, 4 + i) }

        let qsAt = fiveBit ? 48 : 16
        var qh = [UInt8](repeating: 0, count: 32)
        for c in 0..<4 {
            var q = [Int](repeating: 0, count: 64)
            for half in 0..<2 {
                let s = 2 * c + half
                let scale = d * Float(ls[s]), min = dmin * Float(lm[s])
                let inv: Float = scale != 0 ? 1 / scale : 0
                for l in 0..<32 {
                    q[32 * half + l] = clampRound((x[64 * c + 32 * half + l] + min) * inv, 0, Int(levels))
                }
            }
            for l in 0..<32 {
                store8(UInt8((q[l] & 0x0F) | (q[l + 32] & 0x0F) << 4), p, qsAt + 32 * c + l)
                if fiveBit { qh[l] |= UInt8((q[l] >> 4) << (2 * c) | (q[l + 32] >> 4) << (2 * c + 1)) }
            }
        }
        if fiveBit { for l in 0..<32 { store8(qh[l], p, 16 + l) } }
    }

    /// Q6_K ("type-0": x ≈ d·scale·(q − 32)): 16 sub-blocks of 16 with int8 scales against one f16 d.
    static func q6_K(_ x: UnsafePointer<Float>, _ p: UnsafeMutableRawPointer) {
        var subScale = [Float](repeating: 0, count: 16)
        var maxScale: Float = 0, amax: Float = 0
        for s in 0..<16 {
            subScale[s] = signedMaxMagnitude(x + 16 * s, 16) / -32
            if abs(subScale[s]) > amax { amax = abs(subScale[s]); maxScale = subScale[s] }
        }
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
        guard maxScale != 0 else { return }   // all zero: d = 0, codes irrelevant
        let iscale = -128 / maxScale
        let dBits = half(1 / iscale)
        let d = Dequantize.half(dBits)
        store16(dBits, p, 208)
        var codes = [Int](repeating: 32, count: 256)
        for s in 0..<16 {
            let sc = clampRound(iscale * subScale[s], -128, 127)
            store8(UInt8(bitPattern: Int8(sc)), p, 192 + s)
            let scale = d * Float(sc)
            guard scale != 0 else { continue }
            for j in 16 * s..<16 * s + 16 { codes[j] = clampRound(x[j] / scale, -32, 31) + 32 }
        }
        // Element 128h + 32k + l: low nibble of ql[64h + l + 32(k&1)] (k<2) or its high nibble (k≥2);
        // top two bits in qh[32h + l] at bit 2k.
        for h in 0..<2 {
            for l in 0..<32 {
                let q0 = codes[128 * h + l], q1 = codes[128 * h + 32 + l]
                let q2 = codes[128 * h + 64 + l], q3 = codes[128 * h + 96 + l]
                store8(UInt8((q0 & 0x0F) | (q2 & 0x0F) << 4), p, 64 * h + l)
                store8(UInt8((q1 & 0x0F) | (q3 & 0x0F) << 4), p, 64 * h + 32 + l)
                store8(UInt8((q0 >> 4) | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6), p, 128 + 32 * h + l)
            }
        }
    }
}
