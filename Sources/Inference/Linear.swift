import CKernels
import GGUF

/// A weight matrix in the mapped file: `rows` outputs × `cols` inputs, row-major
/// (ggml's `ne0` is `cols`, the contiguous dimension).
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    let base: UnsafeRawPointer
    let rowBytes: Int

    init(file: GGUFFile, name: String, rows: Int, cols: Int) throws {
        guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard info.dimensions == [cols, rows] else {
            throw ModelError.tensorShape(name: name, expected: [cols, rows], found: info.dimensions)
        }
        guard Kernels.supports(info.type) else {
            throw ModelError.unsupportedTensorType(name: name, type: "\(info.type)")
        }
        self.name = name
        self.type = info.type
        self.rows = rows
        self.cols = cols
        self.base = file.data(for: info).baseAddress!
        self.rowBytes = info.type.byteCount(elements: cols)
    }

    func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }

    /// Writes row `r` as floats.
    func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        ek_dequantize_row(Int32(type.rawValue), row(r), dst, Int32(cols))
    }
}

/// Reads a 1-D F32 tensor (norm weights) as a buffer in the mapping.
func vectorTensor(_ file: GGUFFile, _ name: String, length: Int) throws -> UnsafePointer<Float> {
    guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
    guard info.dimensions == [length] else {
        throw ModelError.tensorShape(name: name, expected: [length], found: info.dimensions)
    }
    guard info.type == .f32 else { throw ModelError.unsupportedTensorType(name: name, type: "\(info.type)") }
    return file.data(for: info).baseAddress!.assumingMemoryBound(to: Float.self)
}

/// Glue between weight types and the C kernels.
enum Kernels {
    static func supports(_ t: GGMLType) -> Bool {
        ek_type_supported(Int32(t.rawValue)) != 0
    }

    /// The activation format the weight type's dot product consumes.
    static func activationType(for t: GGMLType) -> Int32 { ek_activation_type(Int32(t.rawValue)) }

    static func activationRowBytes(for t: GGMLType, cols: Int) -> Int {
        Int(ek_row_size(activationType(for: t), Int32(cols)))
    }

    /// Quantizes `x` (cols floats) into the activation format the weight type needs.
    @inline(__always)
    static func quantizeActivation(for t: GGMLType, _ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, cols: Int) {
        ek_quantize_activation(Int32(t.rawValue), x, out, Int32(cols))
    }
}
