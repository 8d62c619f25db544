import Foundation

/// Element-wise pieces shared by architectures. Plain pointer loops: the optimizer vectorizes them.
enum Ops {
    /// out = x / rms(x) * weight, for `rows` rows of `n` (rows split over the pool).
    static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        rows: Int, n: Int, eps: Float) {
        Parallel.forRange(rows) { range in rmsNormRows(x, weight, out, rows: range, n: n, eps: eps) }
    }

    private static func rmsNormRows(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                    _ out: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int, eps: Float) {
        for r in rows {
            let xr = x + r * n, o = out + r * n
            let scale = 1 / (VectorMath.sumOfSquares(xr, count: n) / Float(n) + eps).squareRoot()
            for i in 0..<n { o[i] = xr[i] * scale * weight[i] }
        }
    }

    /// x += y over `count` floats.
    static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// gate = silu(gate) * up over `rows` rows of `n` floats (rows split over the pool).
    static func swiGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, rows: Int, n: Int) {
        Parallel.forRange(rows) { range in
            for r in range { VectorMath.siluProduct(gate + r * n, up + r * n, count: n) }
        }
    }

    /// gate = gelu(gate) * up over `rows` rows of `n` floats, GELU in its tanh form
    /// 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))) (GeGLU, as Gemma uses).
    static func geGLU(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, rows: Int, n: Int) {
        Parallel.forRange(rows) { range in
            for r in range { VectorMath.geluProduct(gate + r * n, up + r * n, count: n) }
        }
    }

    /// x *= s over `count` floats.
    static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        for i in 0..<count { x[i] *= s }
    }

    /// Rotates pairs (x[i], x[i + ropeDims/2]) of each head by pos·θᵢ, θᵢ = base^(-2i/dims) — the
    /// "NeoX" convention (Gemma, Qwen, GPT-NeoX GGUF files, whose Q/K rows are not permuted).
    static func ropeHalves(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDims: Int,
                           position: Float, invFreq: UnsafePointer<Float>) {
        let half = ropeDims / 2
        for i in 0..<half {
            let angle = position * invFreq[i]
            let c = cos(angle), s = sin(angle)
            for h in 0..<heads {
                let v = x + h * headDim
                let a = v[i], b = v[i + half]
                v[i] = a * c - b * s
                v[i + half] = a * s + b * c
            }
        }
    }

    /// Rotates pairs (x[2i], x[2i+1]) of each head by pos·θᵢ, θᵢ = base^(-2i/dims) — the pair
    /// convention of llama-architecture GGUF files, whose Q/K rows were permuted for it.
    static func ropeAdjacentPairs(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDims: Int,
                                  position: Int, invFreq: UnsafePointer<Float>) {
        let p = Float(position)
        for i in 0..<(ropeDims / 2) {
            let angle = p * invFreq[i]
            let c = cos(angle), s = sin(angle)
            for h in 0..<heads {
                let v = x + h * headDim + 2 * i
                let a = v[0], b = v[1]
                v[0] = a * c - b * s
                v[1] = a * s + b * c
            }
        }
    }

    /// θᵢ = base^(-2i/dims) for i in 0..<dims/2.
    static func ropeInverseFrequencies(base: Float, dims: Int) -> [Float] {
        (0..<(dims / 2)).map { i in Float(pow(Double(base), -2 * Double(i) / Double(dims))) }
    }
}
