import CKernels
import GGUF
import Testing
import TestSupport

@Suite("Real model weights", .enabled(if: modelPresent, "model file not found at \(modelPath); set EMLAB_HOME"))
struct RealModelTests {
    /// y = W x for the model's own tensors, against GGUF's dequantizer times the quantized activation.
    func check(_ name: String, type: GGMLType, rowsToCheck: Range<Int>?) throws {
        let file = try GGUFFile(path: modelPath)
        let info = try #require(file.tensor(named: name))
        #expect(info.type == type)
        let cols = info.dimensions[0], allRows = info.dimensions[1]
        let rows = rowsToCheck ?? 0..<allRows
        let data = file.data(for: info)
        let wrow = type.byteCount(elements: cols)
        var rng = SplitMix64(seed: 42)
        let x = randomActivations(cols, rng: &rng)
        let xq = quantizeActivation(for: type, x)
        let xhat = referenceDequant(type.activation, xq, count: cols)
        var y = [Float](repeating: .nan, count: rows.count)
        xq.withUnsafeBytes { xp in
            y.withUnsafeMutableBufferPointer {
                ek_matvec(type.ek, data.baseAddress! + rows.lowerBound * wrow, Int32(rows.count), Int32(cols),
                          xp.baseAddress, $0.baseAddress)
            }
        }
        var w = [Float](repeating: 0, count: cols)
        var worst = 0.0
        for (k, r) in rows.enumerated() {
            w.withUnsafeMutableBufferPointer { Dequantize.row(type, data.baseAddress! + r * wrow, $0.baseAddress!, count: cols) }
            var exact = 0.0, mag = 0.0
            for i in 0..<cols { exact += Double(w[i]) * Double(xhat[i]); mag += abs(Double(w[i]) * Double(xhat[i])) }
            // Q4_1's min term uses the activation's f16 block sum: allow 2^-10 of the min contribution.
            let tol = 1e-5 * mag + (type == .q4_1 ? 1e-3 * mag : 0) + 1e-6
            worst = max(worst, abs(Double(y[k]) - exact) / (mag + 1e-30))
            if abs(Double(y[k]) - exact) > tol {
                Issue.record("\(name) row \(r): kernel \(y[k]) reference \(exact)")
                return
            }
        }
        print("\(name): worst |error| / sum|terms| = \(worst)")
    }

    @Test("blk.0.ffn_up.weight (Q4_1 576x1536)")
    func ffnUp() throws { try check("blk.0.ffn_up.weight", type: .q4_1, rowsToCheck: nil) }

    @Test("blk.0.ffn_down.weight (Q4_1 1536x576)")
    func ffnDown() throws { try check("blk.0.ffn_down.weight", type: .q4_1, rowsToCheck: nil) }

    @Test("token_embd.weight (Q8_0 576x49152), a slice of the output head")
    func head() throws { try check("token_embd.weight", type: .q8_0, rowsToCheck: 20000..<22003) }
}
