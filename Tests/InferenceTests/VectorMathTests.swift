import Foundation
@testable import Inference
import Testing

/// The eight-lane math against double precision, and its independence from lane and position.
struct VectorMathTests {
    /// Relative error of e^x over [-87, 88], dense near 0 where the GLUs and softmax live.
    @Test func expIsWithinTwoUlp() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let v = VectorMath.exp(VectorMath.Vec(repeating: x))
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(v[0]) - exact) / exact)
            x += abs(x) < 4 ? 0.0009765625 : 0.0371
        }
        #expect(worst < 2.5e-7, "largest relative error \(worst)")
        // Clamped ends: no infinities or zeros from the bit trick.
        let ends = VectorMath.exp(VectorMath.Vec(-200, -88, 89, 200, 0, 1, -1, .leastNormalMagnitude))
        #expect(ends[0] > 0 && ends[0] < 1e-37 && ends[1] > 0)
        #expect(ends[2].isFinite && ends[3].isFinite && ends[3] > 2e38)
        #expect(ends[4] == 1 && abs(ends[5] - 2.7182817) < 3e-7 && abs(ends[6] - 0.36787945) < 1e-7)
    }

    @Test func gluActivationsMatchDoublePrecision() {
        let n = 1003   // not a multiple of 8: the tail takes the same path
        let gate = (0..<n).map { Float($0 - 500) * 0.023 }, up = (0..<n).map { Float($0 % 7) - 3.1 }
        var silu = gate, gelu = gate
        silu.withUnsafeMutableBufferPointer { VectorMath.siluProduct($0.baseAddress!, up, count: n) }
        gelu.withUnsafeMutableBufferPointer { VectorMath.geluProduct($0.baseAddress!, up, count: n) }
        for i in 0..<n {
            let g = Double(gate[i]), u = Double(up[i])
            let s = g / (1 + Foundation.exp(-g)) * u
            let e = 0.5 * g * (1 + tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))) * u
            #expect(abs(Double(silu[i]) - s) <= 1e-6 * max(1, abs(s)), "silu at \(g)")
            #expect(abs(Double(gelu[i]) - e) <= 1e-6 * max(1, abs(e)), "gelu at \(g)")
        }
    }

    @Test func valueDoesNotDependOnPosition() {
        // The same input at every offset and in the tail gives the same bits.
        let values: [Float] = [-3.7, 0.25, 11.5, -0.001, 5.5, -20, 1e-4, 2.2, 7.75]
        var reference: [Float] = []
        for v in values {
            var one = [v]
            one.withUnsafeMutableBufferPointer { VectorMath.siluProduct($0.baseAddress!, [1], count: 1) }
            reference.append(one[0])
        }
        for offset in 0..<9 {
            var buffer = [Float](repeating: 0.5, count: offset) + values
            let count = buffer.count, ones = [Float](repeating: 1, count: count)
            buffer.withUnsafeMutableBufferPointer { VectorMath.siluProduct($0.baseAddress!, ones, count: count) }
            #expect(Array(buffer[offset...]) == reference, "offset \(offset)")
        }
    }

    @Test func softmaxAndMaximum() {
        for n in [1, 7, 8, 9, 100, 257] {
            var x = (0..<n).map { Float(($0 * 37) % 19) * 0.7 - 4 }
            let m = x.withUnsafeBufferPointer { VectorMath.maximum($0.baseAddress!, count: n) }
            #expect(m == x.max()!)
            let exact = x.map { Foundation.exp(Double($0 - m)) }
            let z = exact.reduce(0, +)
            x.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: n) }
            #expect(abs(x.reduce(0, +) - 1) < 1e-5)
            for i in 0..<n { #expect(abs(Double(x[i]) - exact[i] / z) < 1e-6) }
        }
    }

    @Test func sumOfSquares() {
        for n in [0, 1, 7, 8, 9, 16, 23, 24, 640, 643] {
            let x = (0..<n).map { Float(($0 * 53) % 29) * 0.37 - 5 }
            let s = x.withUnsafeBufferPointer { VectorMath.sumOfSquares($0.baseAddress!, count: n) }
            let exact = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(Double(s) - exact) <= 1e-6 * max(exact, 1), "n \(n): \(s) vs \(exact)")
        }
    }
}
