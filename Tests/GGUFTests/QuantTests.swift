import Foundation
import TestSupport
import Testing
import GGUF

/// Dequantizes whole blocks.
func dequantized(_ type: GGMLType, _ bytes: [UInt8]) -> [Float] {
    let count = bytes.count / type.typeSize * type.blockSize
    var out = [Float](repeating: .nan, count: count)
    bytes.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress!, $0.baseAddress!, count: count) }
    }
    return out
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }

/// Each dequantizer against blocks built byte by byte, with expected values computed per element
/// from the format description (plus a few worked by hand). Two blocks per type check the block stride.
@Suite("Dequantize against hand-built blocks")
struct DequantizeTests {
    @Test func f32() {
        #expect(dequantized(.f32, bytesOf([1.5, -2.25, 0, 1e-30])) == [1.5, -2.25, 0, 1e-30])
    }

    @Test func f16() {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3800]
        let y = dequantized(.f16, bits.flatMap(le16))
        #expect(y == [1, -2, 0.333251953125, 65504, 5.9604644775390625e-08, 0, .infinity, 0.5])
        #expect(y[5].sign == .minus)
    }

    @Test func bf16() {
        let bits: [UInt16] = [0x3F80, 0xC0A0, 0x3E20, 0x7F80, 0x0001, 0x4049]
        #expect(dequantized(.bf16, bits.flatMap(le16)) == [1, -5, 0.15625, .infinity, 0x1p-133, 3.140625])
    }

    // Q4_0: x = (nibble − 8)·d; byte j holds element j (low) and j+16 (high).
    @Test func q4_0() {
        func block(d: UInt16, dValue: Float) -> ([UInt8], [Float]) {
            let qs = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
            var y = [Float](repeating: 0, count: 32)
            for j in 0..<16 { y[j] = Float(j - 8) * dValue; y[j + 16] = Float(7 - j) * dValue }
            return (le16(d) + qs, y)
        }
        let (a, ya) = block(d: 0x3800, dValue: 0.5), (b, yb) = block(d: 0xC400, dValue: -4)
        let y = dequantized(.q4_0, a + b)
        #expect(y == ya + yb)
        #expect(y[0] == -4 && y[15] == 3.5 && y[16] == 3.5 && y[31] == -4 && y[32] == 32)
    }

    // Q4_1: x = nibble·d + m.
    @Test func q4_1() {
        func block(d: UInt16, dValue: Float, m: UInt16, mValue: Float) -> ([UInt8], [Float]) {
            let qs = (0..<16).map { UInt8($0) | UInt8((3 * $0) % 16) << 4 }
            var y = [Float](repeating: 0, count: 32)
            for j in 0..<16 { y[j] = Float(j) * dValue + mValue; y[j + 16] = Float((3 * j) % 16) * dValue + mValue }
            return (le16(d) + le16(m) + qs, y)
        }
        let (a, ya) = block(d: 0x3400, dValue: 0.25, m: 0xBC00, mValue: -1)
        let (b, yb) = block(d: 0x4200, dValue: 3, m: 0x4900, mValue: 10)
        let y = dequantized(.q4_1, a + b)
        #expect(y == ya + yb)
        #expect(y[5] == 0.25 && y[21] == 2.75 && y[33] == 13)
    }

    // Q5_0: x = (nibble | fifth bit << 4 − 16)·d; bit j of the 32-bit mask belongs to element j.
    @Test func q5_0() {
        func block(d: UInt16, dValue: Float, qh: UInt32) -> ([UInt8], [Float]) {
            let qs = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
            var y = [Float](repeating: 0, count: 32)
            for i in 0..<32 {
                let nibble = i < 16 ? i : 15 - (i - 16)
                let q = nibble + 16 * Int((qh >> UInt32(i)) & 1)
                y[i] = Float(q - 16) * dValue
            }
            return (le16(d) + le32(qh) + qs, y)
        }
        let (a, ya) = block(d: 0x4000, dValue: 2, qh: 0xA5A5_0F0F)
        let (b, yb) = block(d: 0x3C00, dValue: 1, qh: 0xFFFF_FFFF)
        let y = dequantized(.q5_0, a + b)
        #expect(y == ya + yb)
        #expect(y[0] == 0 && y[4] == -24 && y[16] == 30 && y[32 + 31] == 0)
    }

    // Q5_1: x = (nibble | fifth bit << 4)·d + m.
    @Test func q5_1() {
        func block(d: UInt16, dValue: Float, m: UInt16, mValue: Float, qh: UInt32) -> ([UInt8], [Float]) {
            let qs = (0..<16).map { UInt8((5 * $0) % 16) | UInt8($0) << 4 }
            var y = [Float](repeating: 0, count: 32)
            for i in 0..<32 {
                let nibble = i < 16 ? (5 * i) % 16 : i - 16
                let q = nibble + 16 * Int((qh >> UInt32(i)) & 1)
                y[i] = Float(q) * dValue + mValue
            }
            return (le16(d) + le16(m) + le32(qh) + qs, y)
        }
        let (a, ya) = block(d: 0x3000, dValue: 0.125, m: 0x3800, mValue: 0.5, qh: 0x1234_5678)
        let (b, yb) = block(d: 0x3C00, dValue: 1, m: 0xC000, mValue: -2, qh: 0x8000_0001)
        let y = dequantized(.q5_1, a + b)
        #expect(y == ya + yb)
        #expect(y[3] == 4.375 && y[19] == 0.875 && y[63] == 29)
    }

    // Q8_0 / Q8_1: x = q·d (Q8_1's second half is d·Σq, unused when dequantizing).
    @Test func q8_0_and_q8_1() {
        let qs = (0..<32).map { UInt8(bitPattern: Int8($0 * 8 - 128)) }
        let expect = (0..<32).map { Float($0 * 8 - 128) * 0.0625 }
        let y0 = dequantized(.q8_0, le16(0x2C00) + qs + le16(0xBC00) + qs)
        #expect(y0 == expect + expect.map { $0 / -0.0625 })
        #expect(y0[0] == -8 && y0[31] == 7.5)
        let y1 = dequantized(.q8_1, le16(0x2C00) + le16(0x7BFF) + qs)
        #expect(y1 == expect)
    }

    @Test func q8_K() {
        let qs = (0..<256).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 3)) }
        let bytes = le32(Float(0.5).bitPattern) + qs + [UInt8](repeating: 0xEE, count: 32)
        #expect(dequantized(.q8_K, bytes) == (0..<256).map { Float(Int8(truncatingIfNeeded: $0 * 3)) * 0.5 })
    }

    // Q4_K / Q5_K share the 12-byte packing of eight 6-bit scales (ls) and mins (lm).
    // ls = [1, 2, 3, 4, 63, 32, 17, 5], lm = [0, 1, 2, 3, 10, 63, 33, 7], packed by hand:
    //   bytes 0-3: ls[0-3] | (ls[4-7] >> 4) << 6  = 1|3<<6, 2|2<<6, 3|1<<6, 4|0<<6
    //   bytes 4-7: lm[0-3] | (lm[4-7] >> 4) << 6  = 0|0<<6, 1|3<<6, 2|2<<6, 3|0<<6
    //   bytes 8-11: ls[4-7] & 15 | (lm[4-7] & 15) << 4 = 0xAF, 0xF0, 0x11, 0x75
    static let ls: [Float] = [1, 2, 3, 4, 63, 32, 17, 5]
    static let lm: [Float] = [0, 1, 2, 3, 10, 63, 33, 7]
    static let packedScales: [UInt8] = [0xC1, 0x82, 0x43, 0x04, 0x00, 0xC1, 0x82, 0x03, 0xAF, 0xF0, 0x11, 0x75]

    // Q4_K: element i is in sub-block s = i/32; chunk c = i/64 keeps elements 64c..64c+31 in the low
    // nibbles and 64c+32..64c+63 in the high nibbles of bytes 32c..32c+31. x = d·ls[s]·q − dmin·lm[s].
    @Test func q4_K() {
        let qs = (0..<128).map { UInt8(truncatingIfNeeded: $0 * 7) }
        func block(d: UInt16, dValue: Float, dmin: UInt16, dminValue: Float) -> ([UInt8], [Float]) {
            let y = (0..<256).map { i -> Float in
                let s = i / 32, byte = qs[32 * (i / 64) + i % 32]
                let q = s % 2 == 0 ? byte & 15 : byte >> 4
                return dValue * Self.ls[s] * Float(q) - dminValue * Self.lm[s]
            }
            return (le16(d) + le16(dmin) + Self.packedScales + qs, y)
        }
        let (a, ya) = block(d: 0x3800, dValue: 0.5, dmin: 0x3400, dminValue: 0.25)
        let (b, yb) = block(d: 0x3C00, dValue: 1, dmin: 0x0000, dminValue: 0)
        let y = dequantized(.q4_K, a + b)
        #expect(y == ya + yb)
        // By hand: element 1 = 0.5·1·7 − 0; 32 = 0.5·2·0 − 0.25·1; 133 (byte 69 = 0xE3, low 3, sub-block 4)
        // = 0.5·63·3 − 0.25·10; 165 (high nibble 14, sub-block 5) = 0.5·32·14 − 0.25·63.
        #expect(y[0] == 0 && y[1] == 3.5 && y[32] == -0.25 && y[133] == 92 && y[165] == 208.25)
    }

    // Q5_K: as Q4_K plus a fifth bit: bit 2c (low half) or 2c+1 (high half) of qh[i % 32].
    @Test func q5_K() {
        let qs = (0..<128).map { UInt8(truncatingIfNeeded: $0 * 11) }
        let qh = (0..<32).map { UInt8(truncatingIfNeeded: $0 * 37) }
        func block(d: UInt16, dValue: Float, dmin: UInt16, dminValue: Float) -> ([UInt8], [Float]) {
            let y = (0..<256).map { i -> Float in
                let s = i / 32, byte = qs[32 * (i / 64) + i % 32]
                let low = s % 2 == 0 ? byte & 15 : byte >> 4
                let fifth = (qh[i % 32] >> UInt8(s)) & 1
                return dValue * Self.ls[s] * Float(Int(low) + 16 * Int(fifth)) - dminValue * Self.lm[s]
            }
            return (le16(d) + le16(dmin) + Self.packedScales + qh + qs, y)
        }
        let (a, ya) = block(d: 0x3800, dValue: 0.5, dmin: 0x3400, dminValue: 0.25)
        let (b, yb) = block(d: 0x4000, dValue: 2, dmin: 0x3C00, dminValue: 1)
        let y = dequantized(.q5_K, a + b)
        #expect(y == ya + yb)
        // By hand: element 67 (qs[35] = 0x81 → 1; qh[3] = 111, bit 2 set → 17; sub-block 2) = 0.5·3·17 − 0.25·2;
        // 200 (qs[104] = 0x78 → 8; qh[8] = 40, bit 6 clear; sub-block 6) = 0.5·17·8 − 0.25·33.
        #expect(y[67] == 25 && y[200] == 59.75 && y[232] == 15.75)
    }

    // Q6_K: element i = 128h + 32k + l: low 4 bits from ql[64h + l + 32(k & 1)] (low nibble if k < 2),
    // top 2 bits from qh[32h + l] at bit 2k; scale = scales[i / 16]; x = d·scale·(q − 32).
    @Test func q6_K() {
        let ql = (0..<128).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let qh = (0..<64).map { UInt8(truncatingIfNeeded: $0 * 29) }
        let scales: [Int8] = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 127, -128]
        func block(d: UInt16, dValue: Float) -> ([UInt8], [Float]) {
            let y = (0..<256).map { i -> Float in
                let h = i / 128, k = (i % 128) / 32, l = i % 32
                let lowByte = ql[64 * h + l + 32 * (k & 1)]
                let low = k < 2 ? lowByte & 15 : lowByte >> 4
                let high = (qh[32 * h + l] >> UInt8(2 * k)) & 3
                return dValue * Float(scales[i / 16]) * Float(Int(low | high << 4) - 32)
            }
            return (ql + qh + scales.map { UInt8(bitPattern: $0) } + le16(d), y)
        }
        let (a, ya) = block(d: 0x3800, dValue: 0.5)
        let (b, yb) = block(d: 0xB400, dValue: -0.25)
        let y = dequantized(.q6_K, a + b)
        #expect(y == ya + yb)
        // By hand: element 0 = 0.5·1·(0 − 32); 1 = 0.5·1·((13 | 1<<4) − 32);
        // 255 (ql[127] = 0x73 → 7, qh[63] = 35 → bits 6-7 = 0, scale −128) = 0.5·−128·(7 − 32).
        #expect(y[0] == -16 && y[1] == -1.5 && y[255] == 1600)
    }

    @Test func unsupportedTypesAreTypedErrors() throws {
        #expect(!Dequantize.isSupported(.q2_K) && !Dequantize.isSupported(.iq4_xs))
        for t in [GGMLType.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K] {
            #expect(Dequantize.isSupported(t))
        }
        #expect(throws: GGUFError.unsupportedType(.q3_K, operation: "dequantization")) {
            try Self.checkedRow(.q3_K, count: 256)
        }
        #expect(throws: GGUFError.invalidElementCount(count: 33, type: .q8_0)) { try Self.checkedRow(.q8_0, count: 33) }
        #expect(throws: GGUFError.invalidByteCount(count: 35, type: .q8_0)) { try Self.values(.q8_0, byteCount: 35) }
        #expect(try Self.values(.q8_0, byteCount: 68).count == 64)
        #expect(throws: GGUFError.unsupportedType(.iq2_xxs, operation: "quantization")) {
            try Quantize.bytes(.iq2_xxs, from: [Float](repeating: 0, count: 256))
        }
        // A file with an unsupported tensor type still opens; only dequantizing it fails.
        var w = GGUFWriter()
        try w.addTensor(name: "q2", dimensions: [256], type: .q2_K, data: [UInt8](repeating: 0, count: 84))
        let f = try GGUFFile(bytes: w.serialized())
        #expect(throws: GGUFError.unsupportedType(.q2_K, operation: "dequantization")) { try f.floats(for: f.tensors[0]) }
    }
}

extension DequantizeTests {
    static func checkedRow(_ type: GGMLType, count: Int) throws(GGUFError) {
        let src = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
        let dst = UnsafeMutablePointer<Float>.allocate(capacity: 4096)
        defer { src.deallocate(); dst.deallocate() }
        src.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        try Dequantize.checkedRow(type, src, dst, count: count)
    }

    static func values(_ type: GGMLType, byteCount: Int) throws(GGUFError) -> [Float] {
        let src = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
        defer { src.deallocate() }
        src.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return try Dequantize.values(type, from: UnsafeRawBufferPointer(start: src, count: byteCount))
    }
}

/// Quantize → dequantize stays within each type's quantization error.
@Suite("Quantize round trips")
struct QuantizeRoundTripTests {
    static func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        // Blocks of varied scale and offset, a few outliers, some all-positive and all-zero blocks.
        return (0..<n).map { i in
            let block = i / 32
            if block % 11 == 10 { return 0 }
            let scale = Float([0.01, 0.3, 1, 7, 120][block % 5])
            let offset: Float = block % 3 == 0 ? scale * 1.5 : 0
            var v = Float.random(in: -scale...scale, using: &rng) + offset
            if rng.next() % 97 == 0 { v *= 4 }
            return v
        }
    }

    func roundTrip(_ type: GGMLType, _ x: [Float]) throws -> [Float] {
        let bytes = try Quantize.bytes(type, from: x)
        #expect(bytes.count == type.byteCount(elements: x.count))
        return dequantized(type, bytes)
    }

    /// Checks |x − y| ≤ bound(block) element-wise, one block of `size` at a time.
    func expectWithin(_ x: [Float], _ y: [Float], size: Int, _ type: GGMLType,
                      bound: (ArraySlice<Float>) -> Float) {
        #expect(x.count == y.count)
        var worst: Float = 0
        for start in stride(from: 0, to: x.count, by: size) {
            let block = x[start..<start + size]
            let b = bound(block)
            for i in start..<start + size {
                let err = abs(x[i] - y[i])
                worst = max(worst, err / max(b, .leastNormalMagnitude))
                if !(err <= b) {
                    Issue.record("\(type): element \(i) = \(x[i]) came back as \(y[i]), error \(err) > \(b)")
                    return
                }
            }
        }
        #expect(worst > 0.2, "\(type): errors suspiciously small (\(worst) of the bound); is the test exercising it?")
    }

    static func amax(_ b: ArraySlice<Float>) -> Float { b.map(abs).max()! }
    static func range(_ b: ArraySlice<Float>) -> (lo: Float, hi: Float) { (b.min()!, b.max()!) }

    @Test func plainTypes() throws {
        let x = Self.randomValues(1024, seed: 1)
        #expect(try roundTrip(.f32, x) == x)
        for (i, y) in try roundTrip(.f16, x).enumerated() { #expect(abs(y - x[i]) <= abs(x[i]) * 0x1p-11 + 0x1p-24) }
        for (i, y) in try roundTrip(.bf16, x).enumerated() { #expect(abs(y - x[i]) <= abs(x[i]) * 0x1p-8) }
        #expect(Quantize.bfloat16(1.00390625) == 0x3F80)   // halfway: ties to even
        #expect(Quantize.bfloat16(1.01171875) == 0x3F82)   // halfway above odd: rounds up
        #expect(Dequantize.bfloat16(Quantize.bfloat16(.nan)).isNaN)
    }

    @Test func q8_0() throws {
        let x = Self.randomValues(4096, seed: 2)
        // Rounding (d/2) plus the f16 rounding of d (≤ 127·d·2⁻¹¹).
        expectWithin(x, try roundTrip(.q8_0, x), size: 32, .q8_0) { 0.57 * Self.amax($0) / 127 }
        expectWithin(x, try roundTrip(.q8_1, x), size: 32, .q8_1) { 0.57 * Self.amax($0) / 127 }
        // Values on the grid of an f16-exact d come back exactly.
        let first: [Float] = (0..<32).map { (j: Int) -> Float in Float(j * 8 - 127) / 64 }
        let second: [Float] = (0..<32).map { (j: Int) -> Float in Float(127 - j) / 64 }
        let grid = first + second
        #expect(try roundTrip(.q8_0, grid) == grid)
    }

    /// Values exactly on a block's grid (including the extreme that fixes the scale) come back exactly,
    /// and Q4_0's codes equal a block written by hand.
    @Test func gridValuesRoundTripExactly() throws {
        let q4_0: [Float] = (0..<32).map { (i: Int) -> Float in Float(i % 16 - 8) * 0.5 }
        #expect(try roundTrip(.q4_0, q4_0) == q4_0)
        let handBlock: [UInt8] = le16(0x3800) + (0..<16).map { UInt8($0) | UInt8($0) << 4 }
        #expect(try Quantize.bytes(.q4_0, from: q4_0) == handBlock)
        let q4_1: [Float] = (0..<32).map { (i: Int) -> Float in Float((i * 7) % 16) * 0.25 - 1 }
        #expect(try roundTrip(.q4_1, q4_1) == q4_1)
        let q5_0: [Float] = (0..<32).map { (i: Int) -> Float in Float((i * 5) % 32 - 16) * 2 }
        #expect(try roundTrip(.q5_0, q5_0) == q5_0)
        let q5_1: [Float] = (0..<32).map { (i: Int) -> Float in Float((i * 3) % 32) * 0.125 + 0.5 }
        #expect(try roundTrip(.q5_1, q5_1) == q5_1)
    }

    @Test func q8_1_sumField() throws {
        let x = Self.randomValues(32, seed: 9).map { $0 + 2 }
        let bytes = try Quantize.bytes(.q8_1, from: x)
        let d = Dequantize.half(UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        let s = Dequantize.half(UInt16(bytes[2]) | UInt16(bytes[3]) << 8)
        let sum = bytes[4...].reduce(0) { $0 + Int(Int8(bitPattern: $1)) }
        #expect(abs(s - d * Float(sum)) <= abs(s) * 0x1p-9)
    }

    @Test func fourAndFiveBitTypes() throws {
        let x = Self.randomValues(4096, seed: 3)
        // Type-0: the extreme maps exactly; the opposite extreme may clamp by one step |d| = amax/8 (or /16).
        expectWithin(x, try roundTrip(.q4_0, x), size: 32, .q4_0) { 1.01 * Self.amax($0) / 8 }
        expectWithin(x, try roundTrip(.q5_0, x), size: 32, .q5_0) { 1.01 * Self.amax($0) / 16 }
        // Type-1: half a step of (max − min)/15 (or /31), plus the f16 rounding of d and m.
        expectWithin(x, try roundTrip(.q4_1, x), size: 32, .q4_1) { b in
            let (lo, hi) = Self.range(b)
            return 0.51 * (hi - lo) / 15 + (abs(lo) + (hi - lo)) * 0x1p-10
        }
        expectWithin(x, try roundTrip(.q5_1, x), size: 32, .q5_1) { b in
            let (lo, hi) = Self.range(b)
            return 0.52 * (hi - lo) / 31 + (abs(lo) + (hi - lo)) * 0x1p-10
        }
    }

    @Test func kQuants() throws {
        let x = Self.randomValues(256 * 16, seed: 4)
        // Super-block bounds: half of the largest sub-block step (6-bit scales rounded up add ≤ 1/63 of it),
        // plus half a step of the 6-bit min.
        func type1Bound(levels: Float) -> (ArraySlice<Float>) -> Float {
            { b in
                var maxStep: Float = 0, maxMin: Float = 0
                for s in stride(from: b.startIndex, to: b.endIndex, by: 32) {
                    let sub = b[s..<s + 32]
                    let lo = min(0, sub.min()!)
                    maxStep = max(maxStep, (sub.max()! - lo) / levels)
                    maxMin = max(maxMin, -lo)
                }
                return 0.5 * maxStep * (1 + 2.0 / 63) + 0.51 * maxMin / 63 + maxStep * 0x1p-9
            }
        }
        expectWithin(x, try roundTrip(.q4_K, x), size: 256, .q4_K, bound: type1Bound(levels: 15))
        expectWithin(x, try roundTrip(.q5_K, x), size: 256, .q5_K, bound: type1Bound(levels: 31))
        // Q6_K: a 16-element sub-block's step is its max/32 quantized against 128 levels of the largest:
        // at most one step (clamping at +31) plus 16 half-steps of the int8 scale's rounding.
        expectWithin(x, try roundTrip(.q6_K, x), size: 256, .q6_K) { 1.16 * Self.amax($0) / 32 }
        expectWithin(x, try roundTrip(.q8_K, x), size: 256, .q8_K) { 0.51 * Self.amax($0) / 127 }
        // And typical error is far below the worst case.
        let y = try roundTrip(.q6_K, x)
        let rms = (zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(x.count)).squareRoot()
        let rmsX = (x.map { $0 * $0 }.reduce(0, +) / Float(x.count)).squareRoot()
        #expect(rms < 0.02 * rmsX)
    }

    @Test func q8_K_groupSums() throws {
        let x = Self.randomValues(256, seed: 5)
        let b = try Quantize.bytes(.q8_K, from: x)
        for g in 0..<16 {
            let sum = (0..<16).reduce(0) { $0 + Int(Int8(bitPattern: b[4 + 16 * g + $1])) }
            #expect(Int(Int16(bitPattern: UInt16(b[260 + 2 * g]) | UInt16(b[261 + 2 * g]) << 8)) == sum)
        }
    }

    @Test func degenerateInputsDoNotTrap() throws {
        for type in GGMLType.allCases where Quantize.isSupported(type) {
            let n = type.blockSize == 1 ? 8 : type.blockSize * 2
            #expect(try roundTrip(type, [Float](repeating: 0, count: n)) == [Float](repeating: 0, count: n))
            var odd = [Float](repeating: 1, count: n)
            odd[0] = .nan; odd[1] = .infinity; odd[2] = -.infinity; odd[3] = .greatestFiniteMagnitude
            _ = try roundTrip(type, odd)
            let constant = [Float](repeating: -3, count: n)
            let back = try roundTrip(type, constant)
            for v in back { #expect(abs(v + 3) <= 3 * 0.07, "\(type): constant block came back as \(v)") }
        }
    }
}
