import Foundation
import Inference
import Testing
import TestSupport

struct SamplingTests {
    func logits(_ values: [Float]) -> [Float] { values }

    @Test func greedyPicksArgmax() {
        var s = Sampler(.greedy)
        let l: [Float] = [0.1, 3, -1, 2.9]
        #expect(l.withUnsafeBufferPointer { s.sample($0) } == 1)
    }

    /// The sampler's generator as it was before its SplitMix seeding moved to Core (values printed
    /// by the former inline mixer): sampled completions are stored with their seeds.
    @Test func randomStreamOutputsAreUnchanged() {
        var r = RandomStream(seed: 5)
        #expect([r.next(), r.next(), r.next(), r.next()] == [0x49d5_5178_ca54_cf69, 0x9a22_115a_4d26_24dc, 0xa648_b1cc_f0bb_bbae, 0xd251_1e20_de93_3bc5])
        var s = RandomStream(seed: 5, stream: 3)
        #expect([s.next(), s.next(), s.next(), s.next()] == [0x9516_4966_48c2_d1e2, 0xdf97_a664_bc15_903e, 0x239e_1e5c_11bc_f662, 0x382f_ea33_7814_6208])
    }

    @Test func sameSeedSameDraws() {
        let l: [Float] = (0..<100).map { Float($0 % 7) * 0.3 }
        func draws(_ seed: UInt64) -> [Int32] {
            var s = Sampler(SamplingParameters(temperature: 1, seed: seed))
            return (0..<200).map { _ in l.withUnsafeBufferPointer { s.sample($0) } }
        }
        #expect(draws(7) == draws(7))
        #expect(draws(7) != draws(8))
    }

    /// Empirical frequencies follow softmax(logits / T).
    @Test func frequenciesFollowSoftmax() {
        let l: [Float] = [1, 2, 0, 1.5]
        let t: Float = 0.8
        let e = l.map { exp($0 / t) }
        let z = e.reduce(0, +)
        var s = Sampler(SamplingParameters(temperature: t, seed: 42))
        var counts = [Int](repeating: 0, count: 4)
        let n = 40_000
        for _ in 0..<n { counts[Int(l.withUnsafeBufferPointer { s.sample($0) })] += 1 }
        for i in 0..<4 {
            #expect(abs(Float(counts[i]) / Float(n) - e[i] / z) < 0.01)
        }
    }

    @Test func topKTopPMinPRestrictTheSupport() {
        let l: [Float] = [5, 4, 3, 2, 1, 0]
        func support(_ p: SamplingParameters) -> Set<Int32> {
            var s = Sampler(p)
            return Set((0..<3000).map { _ in l.withUnsafeBufferPointer { s.sample($0) } })
        }
        #expect(support(SamplingParameters(temperature: 1, topK: 2, seed: 1)) == [0, 1])
        // p = softmax: 0.636, 0.234, 0.086, ... → top-p 0.8 keeps the first two.
        #expect(support(SamplingParameters(temperature: 1, topP: 0.8, seed: 1)) == [0, 1])
        // min-p 0.2: keeps tokens with p ≥ 0.2·0.636 = 0.127 → first two.
        #expect(support(SamplingParameters(temperature: 1, minP: 0.2, seed: 1)) == [0, 1])
        #expect(support(SamplingParameters(temperature: 1, seed: 1)).count == 6)
    }

    @Test func independentStreams() {
        var a = RandomStream(seed: 5, stream: 0), b = RandomStream(seed: 5, stream: 1)
        #expect((0..<8).map { _ in a.next() } != (0..<8).map { _ in b.next() })
    }
}
