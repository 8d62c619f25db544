import CKernels
import GGUF
import Testing
import TestSupport

@Suite("Row dequantization")
struct DequantTests {
    /// Equal bits, or at most one ulp apart (a fused vs unfused multiply-add in the reference).
    func sameWithinUlp(_ a: Float, _ b: Float) -> Bool {
        a.bitPattern == b.bitPattern || abs(a - b) <= b.ulp
    }

    @Test("fast and scalar dequantizers match GGUF's Dequantize.row", arguments: dequantTypes)
    func matchesGGUF(type: GGMLType) {
        var rng = SplitMix64(seed: 100 + UInt64(type.rawValue))
        let sizes = type.isKQuant ? [256, 768, 2816] : type.blockSize == 1 ? [1, 7, 64, 577] : [32, 96, 576, 1568]
        for n in sizes {
            for _ in 0..<3 {
                let row = randomRow(type, count: n, rng: &rng)
                let want = referenceDequant(type, row, count: n)
                let fast = ekDequant(type, row, count: n)
                let twin = ekDequant(type, row, count: n, reference: true)
                var bad = 0, exact = 0
                for i in 0..<n {
                    if !sameWithinUlp(fast[i], want[i]) || !sameWithinUlp(twin[i], want[i]) {
                        if bad == 0 { Issue.record("\(type) n=\(n) elem \(i): fast \(fast[i]) twin \(twin[i]) GGUF \(want[i])") }
                        bad += 1
                    }
                    if fast[i].bitPattern == want[i].bitPattern { exact += 1 }
                }
                #expect(bad == 0)
                // The scalar twin and the AVX2 code evaluate the same operations: bit-identical.
                #expect(fast.map(\.bitPattern) == twin.map(\.bitPattern), "\(type) n=\(n)")
                #expect(exact * 100 >= n * 99, "\(type): only \(exact)/\(n) bit-exact")
            }
        }
    }

    @Test("hand-computed Q4_1 and Q6_K values")
    func handComputed() {
        // Q4_1: d = 0.5, m = -1, qs[j] = (j+1) low | (15-j) high  ->  elem j = 0.5*(j+1 & 15) - 1, elem j+16 = 0.5*(15-j) - 1
        var b = [UInt8](repeating: 0, count: 20)
        b.put16(half(0.5), at: 0)
        b.put16(half(-1), at: 2)
        for j in 0..<16 { b[4 + j] = UInt8((j + 1) & 15) | UInt8(15 - j) << 4 }
        let v = ekDequant(.q4_1, b, count: 32)
        for j in 0..<16 {
            #expect(v[j] == 0.5 * Float((j + 1) & 15) - 1)
            #expect(v[j + 16] == 0.5 * Float(15 - j) - 1)
        }
        // Q6_K: all quants 32 (value 0) except element 70 (third quarter of the first half: ql[6] high
        // nibble, qh[6] bits 4-5), scales 2, d = 0.25.  q = 0x3F -> 31 -> 0.25 * 2 * 31 = 15.5
        var k = [UInt8](repeating: 0, count: 210)
        for i in 0..<64 { k[128 + i] = 0b1010_1010 }  // every 2-bit high part = 2 -> q = 32 with ql = 0
        for i in 0..<16 { k[192 + i] = 2 }
        k.put16(half(0.25), at: 208)
        k[6] = 0xF0           // high nibble of ql[6] = 15 (element 64 + 6)
        k[128 + 6] = 0b1011_1010  // bits 4-5 = 3 for element 70; others stay 2
        let w = ekDequant(.q6_K, k, count: 256)
        for i in 0..<256 { #expect(w[i] == (i == 70 ? 15.5 : 0), "elem \(i)") }
    }
}
