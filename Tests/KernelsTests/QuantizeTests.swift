import CKernels
import GGUF
import Testing
import TestSupport

@Suite("Activation quantizers")
struct QuantizeTests {
    static let formats: [GGMLType] = [.q8_0, .q8_1, .q8_K]

    func quantize(_ t: GGMLType, _ x: [Float], reference: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: t.byteCount(elements: x.count))
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBytes { o in
                let n = Int32(x.count)
                switch (t, reference) {
                case (.q8_0, false): ek_quantize_row_q8_0(xp.baseAddress, o.baseAddress, n)
                case (.q8_0, true): ek_quantize_row_q8_0_ref(xp.baseAddress, o.baseAddress, n)
                case (.q8_1, false): ek_quantize_row_q8_1(xp.baseAddress, o.baseAddress, n)
                case (.q8_1, true): ek_quantize_row_q8_1_ref(xp.baseAddress, o.baseAddress, n)
                case (.q8_K, false): ek_quantize_row_q8_K(xp.baseAddress, o.baseAddress, n)
                default: ek_quantize_row_q8_K_ref(xp.baseAddress, o.baseAddress, n)
                }
            }
        }
        return out
    }

    @Test("AVX2 output is bit-identical to the scalar twin", arguments: formats)
    func simdMatchesTwin(t: GGMLType) {
        var rng = SplitMix64(seed: 11)
        for n in [256, 512, 1536, 2816] {
            var x = randomActivations(n, rng: &rng)
            for i in 0..<32 { x[i] = 0 }  // an all-zero block (d = 0) where the block is 32 wide
            if t == .q8_K { for i in 0..<256 { x[i] = 0 } }
            #expect(quantize(t, x, reference: false) == quantize(t, x, reference: true), "\(t) n=\(n)")
        }
    }

    @Test("quantized values reconstruct the input within half a step", arguments: formats)
    func reconstruction(t: GGMLType) {
        var rng = SplitMix64(seed: 12)
        let n = 1024
        let x = randomActivations(n, rng: &rng).map { $0 * 3 }
        let q = quantize(t, x, reference: false)
        let xr = referenceDequant(t, q, count: n)  // GGUF's reading of the blocks we wrote
        let bs = t.blockSize
        for blk in 0..<(n / bs) {
            let o = blk * t.typeSize
            let amax = x[(blk * bs)..<((blk + 1) * bs)].map(abs).max()!
            let d = amax / 127
            let qsAt = t == .q8_1 ? 4 : t == .q8_K ? 4 : 2
            var sum = 0
            for j in 0..<bs {
                let qv = Int(Int8(bitPattern: q[o + qsAt + j]))
                #expect(abs(qv) <= 127)
                sum += qv
                // |x - dq| <= d/2, plus the f16 rounding of d (Q8_0/Q8_1) times |q| <= 127
                let tol = d * 0.5 + (t == .q8_K ? 0 : d * 127 * 0x1p-11) + 1e-7
                if abs(xr[blk * bs + j] - x[blk * bs + j]) > tol {
                    Issue.record("\(t) block \(blk) elem \(j): \(x[blk * bs + j]) -> \(xr[blk * bs + j])")
                    return
                }
            }
            if t == .q8_1 {
                // s = d * sum(q), stored as f16
                let s = fromHalf(q.get16(at: o + 2))
                #expect(abs(s - d * Float(sum)) <= abs(d * Float(sum)) * 0x1p-11 + 1e-6)
            }
            if t == .q8_K {
                for g in 0..<16 {
                    var gs = 0
                    for j in 0..<16 { gs += Int(Int8(bitPattern: q[o + 4 + 16 * g + j])) }
                    let stored = Int(Int16(bitPattern: q.get16(at: o + 4 + 256 + 2 * g)))
                    #expect(stored == gs, "bsum \(g)")
                }
                #expect(Float(bitPattern: UInt32(q[o]) | UInt32(q[o + 1]) << 8 | UInt32(q[o + 2]) << 16 | UInt32(q[o + 3]) << 24) == d)
            }
        }
    }
}
