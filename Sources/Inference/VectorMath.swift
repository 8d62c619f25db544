#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Eight-lane float math for the element-wise steps of a forward pass and of sampling, where the
/// C library's scalar `expf`/`tanhf` calls cost more than the products around them.
///
/// Every function gives the same value for an element whichever lane or position it is in (tails
/// go through the same eight-lane code), so results never depend on how work was split.
enum VectorMath {
    typealias Vec = SIMD8<Float>

    /// e^x to about 2 ulp (Cephes' polynomial after reduction by ln 2). Inputs are clamped to
    /// [-87.3, 88.4]: below gives the smallest normal float instead of 0, above about 2.4e38.
    @inline(__always)
    static func exp(_ input: Vec) -> Vec {
        var x = input
        x.replace(with: Vec(repeating: -87.33654), where: x .< -87.33654)
        x.replace(with: Vec(repeating: 88.37626), where: x .> 88.37626)
        // k = round(x / ln 2), through the 1.5·2²³ trick: the float's low bits hold k.
        let shifted = x * 1.44269504088896341 + 12_582_912.0
        let k = shifted - 12_582_912.0
        let r = x - k * 0.693359375 + k * 2.12194440e-4   // x - k·ln 2 in two parts
        var p = Vec(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let kInt = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((kInt &+ 127) &<< 23, to: Vec.self)
    }

    /// x·σ(x).
    @inline(__always)
    static func silu(_ x: Vec) -> Vec { x / (1 + exp(-x)) }

    /// GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with
    /// 1 + tanh(u) = 2 − 2/(e^{2u} + 1).
    @inline(__always)
    static func geluTanh(_ x: Vec) -> Vec {
        let u = 0.7978845608028654 * (x + 0.044715 * x * x * x)
        return 0.5 * x * (2 - 2 / (exp(2 * u) + 1))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vec { UnsafeRawPointer(p).loadUnaligned(as: Vec.self) }

    @inline(__always)
    static func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }

    /// Eight half floats widened. F16C's instruction directly: the standard library's generic
    /// SIMD conversion was left as a call per eight keys (SmolLM2 batched_8: 339 vs 480 tokens/s).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float16>) -> Vec {
        #if arch(x86_64)
        _mm256_cvtph_ps(_mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self)))
        #else
        Vec(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self))
        #endif
    }

    /// dst[i] = half(src[i]), rounded to nearest even.
    static func toHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float16>, count n: Int) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float16>(load(src + i)), as: SIMD8<Float16>.self)
            i += 8
        }
        while i < n { dst[i] = Float16(src[i]); i += 1 }
    }

    /// dst[i] = Float(src[i]).
    @inline(__always)
    static func toFloat(_ src: UnsafePointer<Float16>, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n { store(load(src + i), dst + i); i += 8 }
        while i < n { dst[i] = Float(src[i]); i += 1 }
    }

    /// The last `count` (< 8) elements at `p`, zero-padded.
    @inline(__always)
    static func loadTail(_ p: UnsafePointer<Float>, _ count: Int) -> Vec {
        var v = Vec()
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    @inline(__always)
    static func storeTail(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    /// gate[i] = silu(gate[i]) · up[i] for i in 0..<n.
    static func siluProduct(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        gatedProduct(SiLU.self, gate, up, count: n)
    }

    /// gate[i] = gelu(gate[i]) · up[i] for i in 0..<n.
    static func geluProduct(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        gatedProduct(GELUTanh.self, gate, up, count: n)
    }

    /// gate[i] = A(gate[i]) · up[i] for i in 0..<n (specialized per activation: no call per element).
    @inline(__always)
    private static func gatedProduct<A: Activation>(_: A.Type, _ gate: UnsafeMutablePointer<Float>,
                                                    _ up: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n {
            store(A.apply(load(gate + i)) * load(up + i), gate + i)
            i += 8
        }
        if i < n { storeTail(A.apply(loadTail(gate + i, n - i)) * loadTail(up + i, n - i), gate + i, n - i) }
    }

    /// The largest of `x[0..<n]` (−∞ when empty).
    static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var m = Vec(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            let v = load(x + i)
            m.replace(with: v, where: v .> m)
            i += 8
        }
        var best = m.max()
        while i < n {
            best = Swift.max(best, x[i])
            i += 1
        }
        return best
    }

    /// Σ x[i]², in eight lanes (two accumulators) added at the end, then the tail: a fixed order.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var a = Vec(), b = Vec()
        var i = 0
        while i + 16 <= n {
            let u = load(x + i), v = load(x + i + 8)
            a += u * u
            b += v * v
            i += 16
        }
        if i + 8 <= n {
            let u = load(x + i)
            a += u * u
            i += 8
        }
        var s = (a + b).sum()
        while i < n {
            s += x[i] * x[i]
            i += 1
        }
        return s
    }

    /// out[i] = e^{(x[i] − shift)·scale} for i in 0..<n; returns their sum (eight partial sums
    /// added at the end, a fixed order).
    @discardableResult
    static func expShifted(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
                           shift: Float, scale: Float) -> Float {
        var sum = Vec()
        var i = 0
        while i + 8 <= n {
            let e = exp((load(x + i) - shift) * scale)
            store(e, out + i)
            sum += e
            i += 8
        }
        if i < n {
            var e = exp((loadTail(x + i, n - i) - shift) * scale)
            for lane in (n - i)..<8 { e[lane] = 0 }
            storeTail(e, out + i, n - i)
            sum += e
        }
        return sum.sum()
    }

    /// Softmax of `x[0..<n]` in place.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        let total = expShifted(x, x, count: n, shift: maximum(x, count: n), scale: 1)
        let inv = 1 / total
        var i = 0
        while i + 8 <= n {
            store(load(x + i) * inv, x + i)
            i += 8
        }
        while i < n {
            x[i] *= inv
            i += 1
        }
    }
}

/// An element-wise activation in eight lanes, for `VectorMath.gatedProduct`.
protocol Activation {
    static func apply(_ x: VectorMath.Vec) -> VectorMath.Vec
}

enum SiLU: Activation {
    @inline(__always) static func apply(_ x: VectorMath.Vec) -> VectorMath.Vec { VectorMath.silu(x) }
}

enum GELUTanh: Activation {
    @inline(__always) static func apply(_ x: VectorMath.Vec) -> VectorMath.Vec { VectorMath.geluTanh(x) }
}
