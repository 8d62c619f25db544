/// Scalar reference dequantizers: the plain, obviously-correct twins that fast kernels are tested against.
///
/// Block layouts follow ggml-common.h. Every multi-byte field is little-endian and read unaligned,
/// so `src` may point anywhere (e.g. into a mapped file).
public enum Dequantize {
    /// Types `row` implements.
    public static func isSupported(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .q4_K, .q5_K, .q6_K, .q8_K: true
        default: false
        }
    }

    /// Converts `count` elements of `type` at `src` to Float at `dst`.
    /// `count` must be a multiple of `type.blockSize` and `type` must satisfy `isSupported`
    /// (checked with preconditions; use `checkedRow` for input that is not known to be valid).
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0 && count % type.blockSize == 0,
                     "Dequantize.row: count \(count) is not a multiple of the \(type) block size \(type.blockSize)")
        let blocks = count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16: for i in 0..<count { dst[i] = half(u16(src, 2 * i)) }
        case .bf16: for i in 0..<count { dst[i] = bfloat16(u16(src, 2 * i)) }
        case .q4_0: for b in 0..<blocks { q4_0(src + b * 18, dst + b * 32) }
        case .q4_1: for b in 0..<blocks { q4_1(src + b * 20, dst + b * 32) }
        case .q5_0: for b in 0..<blocks { q5_0(src + b * 22, dst + b * 32) }
        case .q5_1: for b in 0..<blocks { q5_1(src + b * 24, dst + b * 32) }
        case .q8_0: for b in 0..<blocks { q8(src + b * 34, scale: half(u16(src + b * 34, 0)), quantsAt: 2, dst + b * 32, 32) }
        case .q8_1: for b in 0..<blocks { q8(src + b * 36, scale: half(u16(src + b * 36, 0)), quantsAt: 4, dst + b * 32, 32) }
        case .q8_K:
            for b in 0..<blocks {
                let p = src + b * 292
                q8(p, scale: Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))),
                   quantsAt: 4, dst + b * 256, 256)
            }
        case .q4_K: for b in 0..<blocks { q4_K(src + b * 144, dst + b * 256) }
        case .q5_K: for b in 0..<blocks { q5_K(src + b * 176, dst + b * 256) }
        case .q6_K: for b in 0..<blocks { q6_K(src + b * 210, dst + b * 256) }
        default: preconditionFailure("Dequantize.row: \(type) is not supported (check Dequantize.isSupported)")
        }
    }

    /// `row` with its requirements checked: an unsupported type or a bad count is a typed error.
    public static func checkedRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
                                  count: Int) throws(GGUFError) {
        guard isSupported(type) else { throw .unsupportedType(type, operation: "dequantization") }
        guard count >= 0 && count % type.blockSize == 0 else { throw .invalidElementCount(count: count, type: type) }
        row(type, src, dst, count: count)
    }

    /// Dequantizes raw bytes holding whole blocks of `type`.
    public static func values(_ type: GGMLType, from bytes: UnsafeRawBufferPointer) throws(GGUFError) -> [Float] {
        guard isSupported(type) else { throw .unsupportedType(type, operation: "dequantization") }
        guard bytes.count % type.typeSize == 0 else {
            throw .invalidByteCount(count: bytes.count, type: type)
        }
        let count = bytes.count / type.typeSize * type.blockSize
        guard count > 0, let src = bytes.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            row(type, src, buf.baseAddress!, count: count)
            initialized = count
        }
    }

    /// A whole tensor of `file`, dequantized.
    public static func tensor(_ info: GGUFTensorInfo, in file: GGUFFile) throws(GGUFError) -> [Float] {
        try values(info.type, from: file.data(for: info))
    }

    // MARK: Scalars

    /// IEEE half → Float (F16C with -mf16c).
    @inline(__always) public static func half(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// bfloat16 → Float: the upper 16 bits of a float.
    @inline(__always) public static func bfloat16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    // MARK: Blocks

    @inline(__always) static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    // Q4_0: d (f16), 16 bytes; byte j holds element j (low nibble) and j+16 (high). x = (q - 8)·d
    @inline(__always) static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0))
        for j in 0..<16 {
            let q = byte(p, 2 + j)
            y[j] = Float(Int(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int(q >> 4) - 8) * d
        }
    }

    // Q4_1: d, m (f16), 16 bytes as Q4_0. x = q·d + m
    @inline(__always) static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0)), m = half(u16(p, 2))
        for j in 0..<16 {
            let q = byte(p, 4 + j)
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    // Q5_0: d, 32-bit mask of fifth bits (bit j → element j), nibbles as Q4_0. x = (q - 16)·d
    @inline(__always) static func q5_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0))
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        for j in 0..<16 {
            let q = byte(p, 6 + j)
            let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(lo - 16) * d
            y[j + 16] = Float(hi - 16) * d
        }
    }

    // Q5_1: d, m, fifth-bit mask, nibbles. x = q·d + m
    @inline(__always) static func q5_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0)), m = half(u16(p, 2))
        let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        for j in 0..<16 {
            let q = byte(p, 8 + j)
            let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(lo) * d + m
            y[j + 16] = Float(hi) * d + m
        }
    }

    // Q8_0 / Q8_1 / Q8_K: a scale and int8 quants. x = q·d
    @inline(__always) static func q8(_ p: UnsafeRawPointer, scale d: Float, quantsAt offset: Int,
                                     _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for j in 0..<n { y[j] = Float(Int8(bitPattern: byte(p, offset + j))) * d }
    }

    /// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes of Q4_K / Q5_K:
    /// sub-blocks 0–3 use the low 6 bits of bytes j and j+4; sub-blocks 4–7 take their low 4 bits
    /// from byte j+4 and their top 2 bits from the spare high bits of bytes j-4 (scale) and j (min).
    @inline(__always) static func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (byte(s, j) & 63, byte(s, j + 4) & 63)
        }
        let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (scale, min)
    }

    // Q4_K: d, dmin (f16), 12 scale bytes, 128 nibble bytes. Four 64-element chunks; in chunk c,
    // byte 32c+l holds element 64c+l (low nibble, sub-block 2c) and 64c+32+l (high, sub-block 2c+1).
    // x = d·scale·q − dmin·min
    @inline(__always) static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0)), dmin = half(u16(p, 2))
        let scales = p + 4, qs = p + 16
        for c in 0..<4 {
            let (s0, m0) = scaleMinK4(2 * c, scales)
            let (s1, m1) = scaleMinK4(2 * c + 1, scales)
            let d0 = d * Float(s0), min0 = dmin * Float(m0)
            let d1 = d * Float(s1), min1 = dmin * Float(m1)
            let out = y + 64 * c
            for l in 0..<32 {
                let q = byte(qs, 32 * c + l)
                out[l] = d0 * Float(q & 0x0F) - min0
                out[l + 32] = d1 * Float(q >> 4) - min1
            }
        }
    }

    // Q5_K: as Q4_K plus 32 bytes of fifth bits (after the scales): byte l, bit 2c is the fifth bit
    // of element 64c+l, bit 2c+1 that of element 64c+32+l.
    @inline(__always) static func q5_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 0)), dmin = half(u16(p, 2))
        let scales = p + 4, qh = p + 16, qs = p + 48
        for c in 0..<4 {
            let (s0, m0) = scaleMinK4(2 * c, scales)
            let (s1, m1) = scaleMinK4(2 * c + 1, scales)
            let d0 = d * Float(s0), min0 = dmin * Float(m0)
            let d1 = d * Float(s1), min1 = dmin * Float(m1)
            let out = y + 64 * c
            for l in 0..<32 {
                let q = byte(qs, 32 * c + l), h = byte(qh, l)
                let lo = Int(q & 0x0F) | Int((h >> UInt8(2 * c)) & 1) << 4
                let hi = Int(q >> 4) | Int((h >> UInt8(2 * c + 1)) & 1) << 4
                out[l] = d0 * Float(lo) - min0
                out[l + 32] = d1 * Float(hi) - min1
            }
        }
    }

    // Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales (one per 16 elements), d.
    // Two 128-element halves; in half h, element 32k+l (k = 0..3) takes its low 4 bits from
    // ql[64h + l + 32(k&1)] (low nibble for k<2, high for k≥2) and its top 2 bits from qh[32h+l] bits 2k..2k+1.
    // x = d·scale·(q − 32)
    @inline(__always) static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(u16(p, 208))
        for h in 0..<2 {
            let ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h
            let out = y + 128 * h
            for l in 0..<32 {
                let s = l / 16
                let a = byte(ql, l), b = byte(ql, l + 32), hb = byte(qh, l)
                let q1 = Int((a & 0x0F) | ((hb >> 0) & 3) << 4) - 32
                let q2 = Int((b & 0x0F) | ((hb >> 2) & 3) << 4) - 32
                let q3 = Int((a >> 4) | ((hb >> 4) & 3) << 4) - 32
                let q4 = Int((b >> 4) | ((hb >> 6) & 3) << 4) - 32
                out[l] = d * Float(Int8(bitPattern: byte(sc, s))) * Float(q1)
                out[l + 32] = d * Float(Int8(bitPattern: byte(sc, s + 2))) * Float(q2)
                out[l + 64] = d * Float(Int8(bitPattern: byte(sc, s + 4))) * Float(q3)
                out[l + 96] = d * Float(Int8(bitPattern: byte(sc, s + 6))) * Float(q4)
            }
        }
    }
}
