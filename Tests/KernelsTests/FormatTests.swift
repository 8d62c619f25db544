import CKernels
import GGUF
import Testing
import TestSupport

@Suite("Formats and conversions")
struct FormatTests {
    @Test("block and row sizes agree with GGUF's type table", arguments: dequantTypes)
    func sizes(type: GGMLType) {
        #expect(ek_type_supported(type.ek) == 1)
        #expect(Int(ek_block_size(type.ek)) == type.blockSize)
        #expect(Int(ek_type_size(type.ek)) == type.typeSize)
        #expect(Int(ek_row_size(type.ek, 1536)) == type.byteCount(elements: 1536))
    }

    @Test("block struct sizes match ggml")
    func structSizes() {
        #expect(MemoryLayout<ek_block_q4_0>.size == 18)
        #expect(MemoryLayout<ek_block_q4_1>.size == 20)
        #expect(MemoryLayout<ek_block_q5_0>.size == 22)
        #expect(MemoryLayout<ek_block_q5_1>.size == 24)
        #expect(MemoryLayout<ek_block_q8_0>.size == 34)
        #expect(MemoryLayout<ek_block_q8_1>.size == 36)
        #expect(MemoryLayout<ek_block_q4_K>.size == 144)
        #expect(MemoryLayout<ek_block_q5_K>.size == 176)
        #expect(MemoryLayout<ek_block_q6_K>.size == 210)
        #expect(MemoryLayout<ek_block_q8_K>.size == 292)
    }

    @Test("activation formats")
    func activationTypes() {
        let expected: [GGMLType: GGMLType] = [
            .f32: .f32, .f16: .f32, .bf16: .f32, .q4_0: .q8_0, .q5_0: .q8_0, .q8_0: .q8_0,
            .q4_1: .q8_1, .q5_1: .q8_1, .q4_K: .q8_K, .q5_K: .q8_K, .q6_K: .q8_K,
        ]
        for (w, a) in expected { #expect(ek_activation_type(w.ek) == a.ek, "\(w)") }
        for t: GGMLType in [.q2_K, .q3_K, .iq4_nl, .q8_K, .q8_1] { #expect(ek_activation_type(t.ek) == -1, "\(t)") }
        #expect(ek_type_supported(GGMLType.q2_K.ek) == 0)
        #expect(ek_row_size(GGMLType.q2_K.ek, 256) == 0)
    }

    @Test("half -> float: F16C, bit-twiddling twin and Swift's Float16 agree on all 65536 halves")
    func halfToFloat() {
        for h in 0...UInt16.max {
            let want = Float(Float16(bitPattern: h))
            let a = ek_fp16_to_fp32(h), b = ek_fp16_to_fp32_soft(h)
            if want.isNaN {
                #expect(a.isNaN && b.isNaN)
                #expect(a.bitPattern == b.bitPattern, "NaN payload of \(h)")
            } else if a.bitPattern != want.bitPattern || b.bitPattern != want.bitPattern {
                Issue.record("half \(h): F16C \(a), soft \(b), Swift \(want)")
                return
            }
        }
    }

    @Test("float -> half rounds to nearest even like F16C and Swift's Float16")
    func floatToHalf() {
        var rng = SplitMix64(seed: 7)
        var cases: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 65536, 1e-8, 2.9802322e-8, 2.9802326e-8,
                              5.9604645e-8, 6.1035156e-5, 6.1035152e-5, .infinity, -.infinity, .ulpOfOne,
                              1.00048828125, 1.00146484375, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for _ in 0..<200_000 {
            // random bit patterns concentrated on the half range (exponents 2^-26 ... 2^17)
            let e = UInt32.random(in: 101...144, using: &rng), m = UInt32.random(in: 0..<(1 << 23), using: &rng)
            cases.append(Float(bitPattern: (UInt32.random(in: 0...1, using: &rng) << 31) | (e << 23) | m))
        }
        for f in cases {
            let want = Float16(f).bitPattern
            let a = ek_fp32_to_fp16(f), b = ek_fp32_to_fp16_soft(f)
            if a != want || b != want {
                Issue.record("\(f) (bits \(f.bitPattern)): F16C \(a), soft \(b), Swift \(want)")
                return
            }
        }
        #expect(ek_fp32_to_fp16_soft(.nan) & 0x7E00 == 0x7E00)
        #expect(ek_bf16_to_fp32(0x3F80) == 1.0)
        #expect(ek_bf16_to_fp32(0xC0A0) == -5.0)
    }
}
