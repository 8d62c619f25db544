import CKernels
import GGUF
import Testing
import TestSupport

@Suite("Dot products")
struct DotTests {
    struct Case: CustomStringConvertible {
        let type: GGMLType, n: Int
        var description: String { "\(type) n=\(n)" }
    }
    static let cases: [Case] = weightTypes.flatMap { t -> [Case] in
        let sizes = t.isKQuant ? [256, 512, 1536, 2816] : t.blockSize == 1 ? [8, 77, 576, 1536] : [32, 96, 576, 1536, 4128]
        return sizes.map { Case(type: t, n: $0) }
    }

    @Test("SIMD dot vs its scalar twin (bit-exact for quants) and vs dequantized f32 math", arguments: cases)
    func dot(c: Case) {
        let t = c.type, n = c.n, at = t.activation
        var rng = SplitMix64(seed: UInt64(n) &* 31 &+ UInt64(t.rawValue))
        let rows = 7
        let x = randomActivations(n, rng: &rng)
        let xq = quantizeActivation(for: t, x)
        // What the kernel multiplies by: the activation as its quantized blocks say (GGUF's reading).
        let xhat = at == .f32 ? x : referenceDequant(at, xq, count: n)
        for _ in 0..<rows {
            let wq = randomRow(t, count: n, rng: &rng)
            let w = referenceDequant(t, wq, count: n)
            let (fast, twin) = wq.withUnsafeBytes { wp in
                xq.withUnsafeBytes { xp in
                    (ekDot(t, n, wp.baseAddress!, xp.baseAddress!), ekDot(t, n, wp.baseAddress!, xp.baseAddress!, reference: true))
                }
            }
            var exactHat = 0.0, absHat = 0.0, exactX = 0.0
            for i in 0..<n {
                exactHat += Double(w[i]) * Double(xhat[i])
                absHat += abs(Double(w[i]) * Double(xhat[i]))
                exactX += Double(w[i]) * Double(x[i])
            }
            // Float summation: a few roundings per block, summed over the blocks.
            let blocks = Double(n / max(t.blockSize, 8))
            let floatTol = max(1e-5, (blocks + 16) * 3e-7) * absHat + 1e-6
            // Q4_1/Q5_1 use the activation's stored s = f16(d*sum q) in place of d*sum q.
            var sTerm = 0.0
            // Activation quantization: |x - xhat| <= d/2 + 127*d*2^-11 per element.
            var quantTol = 0.0
            if at != .f32 {
                let bs = at.blockSize
                for blk in 0..<(n / bs) {
                    let o = blk * at.typeSize
                    let d = at == .q8_K
                        ? Double(Float(bitPattern: UInt32(xq[o]) | UInt32(xq[o + 1]) << 8 | UInt32(xq[o + 2]) << 16 | UInt32(xq[o + 3]) << 24))
                        : Double(fromHalf(xq.get16(at: o)))
                    var wabs = 0.0
                    for j in 0..<bs { wabs += abs(Double(w[blk * bs + j])) }
                    quantTol += wabs * d * 0.57
                    if at == .q8_1 {
                        var qsum = 0
                        for j in 0..<32 { qsum += Int(Int8(bitPattern: xq[o + 4 + j])) }
                        let s = Double(fromHalf(xq.get16(at: o + 2)))
                        let m = Double(fromHalf(wq.get16(at: blk * t.typeSize + 2)))
                        sTerm += abs(m) * abs(s - d * Double(qsum))
                    }
                }
            }
            if t.isQuantized {
                // Quantized dots follow the twin's canonical arithmetic exactly.
                #expect(fast.bitPattern == twin.bitPattern, "\(c): simd \(fast) vs twin \(twin)")
            } else {
                #expect(abs(Double(fast) - Double(twin)) <= floatTol, "\(c): simd \(fast) vs twin \(twin)")
            }
            #expect(abs(Double(fast) - exactHat) <= floatTol + sTerm * 1.01, "\(c): simd \(fast) vs dequantized \(exactHat)")
            #expect(abs(Double(fast) - exactX) <= floatTol + sTerm * 1.01 + quantTol, "\(c): simd \(fast) vs f32 \(exactX)")
        }
    }

    @Test("a dot that ignored any part of the block would be caught")
    func sensitivity() {
        // One Q4_1 block with only a min term: w = m = 0.25 for all 32 elements, x = 1 -> 8.
        var w = [UInt8](repeating: 0, count: 20)
        w.put16(half(1), at: 0)
        w.put16(half(0.25), at: 2)
        let xq = quantizeActivation(for: .q4_1, [Float](repeating: 1, count: 32))
        let r = w.withUnsafeBytes { wp in xq.withUnsafeBytes { ekDot(.q4_1, 32, wp.baseAddress!, $0.baseAddress!) } }
        #expect(abs(r - 8) < 1e-2)
        // Q6_K: the -32 offset. All quants 0 (value -32), scale 1, d = 1/64, x = 1 -> 256 * -0.5 = -128.
        var k = [UInt8](repeating: 0, count: 210)
        for i in 0..<16 { k[192 + i] = 1 }
        k.put16(half(1.0 / 64), at: 208)
        let xk = quantizeActivation(for: .q6_K, [Float](repeating: 1, count: 256))
        let r6 = k.withUnsafeBytes { wp in xk.withUnsafeBytes { ekDot(.q6_K, 256, wp.baseAddress!, $0.baseAddress!) } }
        #expect(abs(r6 + 128) < 1e-3)
    }
}
