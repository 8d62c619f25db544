import CKernels
import Foundation
import TestSupport
import GGUF


/// Weight types with a dot product; plus the activation-only formats for dequantization.
let weightTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]
let dequantTypes: [GGMLType] = weightTypes + [.q8_1, .q8_K]

extension GGMLType {
    var ek: Int32 { Int32(rawValue) }
    var isKQuant: Bool { blockSize == 256 }
    /// The activation format ek_vec_dot pairs with this weight type.
    var activation: GGMLType { GGMLType(rawValue: UInt32(ek_activation_type(ek)))! }
}

extension Array where Element == UInt8 {
    mutating func put16(_ v: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: v)
        self[offset + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }
    mutating func put32(_ v: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
    func get16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
}

func half(_ x: Float) -> UInt16 { Float16(x).bitPattern }
func fromHalf(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }

/// A row of `n` random but valid elements: random quant bits and finite f16 scales of the size real
/// models have (signed d for type-0 blocks, signed mins, positive K-quant super-scales).
func randomRow(_ type: GGMLType, count n: Int, rng: inout SplitMix64) -> [UInt8] {
    var b = (0..<type.byteCount(elements: n)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    func signedScale(_ rng: inout SplitMix64) -> Float {
        Float.random(in: 1e-4...0.05, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
    }
    switch type {
    case .f32:
        for i in 0..<n { b.put32(Float.random(in: -1...1, using: &rng).bitPattern, at: 4 * i) }
    case .f16:
        for i in 0..<n { b.put16(half(Float.random(in: -1...1, using: &rng)), at: 2 * i) }
    case .bf16:
        for i in 0..<n { b.put16(UInt16(Float.random(in: -1...1, using: &rng).bitPattern >> 16), at: 2 * i) }
    default:
        for blk in 0..<(n / type.blockSize) {
            let o = blk * type.typeSize
            switch type {
            case .q4_0, .q5_0, .q8_0: b.put16(half(signedScale(&rng)), at: o)
            case .q4_1, .q5_1, .q8_1:
                b.put16(half(signedScale(&rng)), at: o)
                b.put16(half(Float.random(in: -0.1...0.1, using: &rng)), at: o + 2)
            case .q4_K, .q5_K:
                b.put16(half(Float.random(in: 1e-5...2e-3, using: &rng)), at: o)
                b.put16(half(Float.random(in: 1e-5...2e-3, using: &rng)), at: o + 2)
            case .q6_K: b.put16(half(Float.random(in: 1e-5...2e-3, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)), at: o + 208)
            case .q8_K: b.put32(Float.random(in: 1e-4...0.05, using: &rng).bitPattern, at: o)
            default: fatalError("no random blocks for \(type)")
            }
        }
    }
    return b
}

/// Random activations with the spread real hidden states have (a few large outliers).
func randomActivations(_ n: Int, rng: inout SplitMix64) -> [Float] {
    (0..<n).map { i in Float.random(in: -1...1, using: &rng) * (i % 37 == 5 ? 8 : 1) }
}

func quantizeActivation(for weight: GGMLType, _ x: [Float]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(ek_row_size(ek_activation_type(weight.ek), Int32(x.count))))
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBytes { ek_quantize_activation(weight.ek, xp.baseAddress, $0.baseAddress, Int32(x.count)) }
    }
    return out
}

/// GGUF's scalar reference dequantizer (the independent twin).
func referenceDequant(_ type: GGMLType, _ bytes: [UInt8], count n: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    bytes.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress!, $0.baseAddress!, count: n) }
    }
    return out
}

func ekDequant(_ type: GGMLType, _ bytes: [UInt8], count n: Int, reference: Bool = false) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    bytes.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer {
            if reference { ek_dequantize_row_ref(type.ek, src.baseAddress, $0.baseAddress, Int32(n)) }
            else { ek_dequantize_row(type.ek, src.baseAddress, $0.baseAddress, Int32(n)) }
        }
    }
    return out
}

func ekDot(_ type: GGMLType, _ n: Int, _ w: UnsafeRawPointer, _ x: UnsafeRawPointer, reference: Bool = false) -> Float {
    reference ? ek_vec_dot_ref(type.ek, Int32(n), w, x) : ek_vec_dot(type.ek, Int32(n), w, x)
}

/// The real model file, if present (EMLAB_HOME, default ~/.cache/emlab).
let modelPath = TestResources.expectedModelPath()
let modelPresent = TestResources.modelPath() != nil
