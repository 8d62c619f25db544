/// Everything that can be wrong with a GGUF file, or with a request to the GGUF module.
///
/// Offsets are absolute byte offsets into the file. `context` names what was being read
/// ("header", "value of key 'tokenizer.ggml.tokens'", "tensor info 'blk.0.attn_q.weight'").
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    // Files and I/O
    case cannotOpen(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    // Header
    case badMagic(found: UInt32)
    case unsupportedVersion(UInt32)

    // Structure
    case truncated(offset: Int, needed: Int, available: Int, context: String)
    case stringPastEnd(offset: Int, length: UInt64, available: Int, context: String)
    case countTooLarge(offset: Int, count: UInt64, limit: Int, context: String)
    case nestingTooDeep(offset: Int, depth: Int, key: String)
    case unknownValueType(offset: Int, rawType: UInt32, key: String)
    case duplicateKey(offset: Int, key: String)
    case invalidAlignment(offset: Int, value: String)

    // Tensor infos
    case unknownTensorType(offset: Int, rawType: UInt32, tensor: String)
    case invalidDimensionCount(offset: Int, count: UInt32, tensor: String)
    case invalidDimension(offset: Int, index: Int, value: UInt64, tensor: String)
    case elementCountOverflow(offset: Int, tensor: String)
    case rowNotMultipleOfBlock(offset: Int, rowLength: Int, type: GGMLType, tensor: String)
    case duplicateTensor(offset: Int, name: String)
    case misalignedTensor(offset: Int, dataOffset: UInt64, alignment: Int, tensor: String)
    case tensorDataOutOfBounds(tensor: String, dataOffset: UInt64, start: Int, byteCount: Int, fileSize: Int)

    // Numeric conversions and writing
    case unsupportedType(GGMLType, operation: String)
    case invalidElementCount(count: Int, type: GGMLType)
    case invalidByteCount(count: Int, type: GGMLType)
    case invalidValue(key: String, reason: String)
    case invalidTensor(name: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open GGUF file '\(path)': \(reason)"
        case let .writeFailed(path, reason):
            return "cannot write GGUF file '\(path)': \(reason)"
        case let .badMagic(found):
            let b = withUnsafeBytes(of: found.littleEndian) { Array($0) }
            let shown = b.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "\\x" + hex2($0) }.joined()
            return "not a GGUF file: bytes 0-3 are \"\(shown)\", expected \"GGUF\""
        case let .unsupportedVersion(v):
            if v == 1 {
                return "unsupported GGUF version 1 at byte 4 (version 1 used 32-bit counts; only versions 2 and 3 are read)"
            }
            if v > 0xFFFF && v.byteSwapped <= 3 {
                return "unsupported GGUF version \(v) at byte 4 (looks like a big-endian file, version \(v.byteSwapped); only little-endian is read)"
            }
            return "unsupported GGUF version \(v) at byte 4 (only versions 2 and 3 are read)"
        case let .truncated(offset, needed, available, context):
            return "unexpected end of data at byte \(offset) while reading \(context): needed \(needed) bytes, \(available) left"
        case let .stringPastEnd(offset, length, available, context):
            return "string at byte \(offset) in \(context) claims \(length) bytes but only \(available) remain"
        case let .countTooLarge(offset, count, limit, context):
            return "\(context) at byte \(offset) is \(count), more than the remaining bytes could hold (at most \(limit))"
        case let .nestingTooDeep(offset, depth, key):
            return "arrays nested \(depth) deep at byte \(offset) in key '\(key)' (limit \(GGUFLimits.maxArrayDepth))"
        case let .unknownValueType(offset, rawType, key):
            return "unknown metadata value type \(rawType) at byte \(offset) in key '\(key)'"
        case let .duplicateKey(offset, key):
            return "duplicate metadata key '\(key)' at byte \(offset)"
        case let .invalidAlignment(offset, value):
            return "general.alignment at byte \(offset) is \(value); it must be a nonzero power of two integer"
        case let .unknownTensorType(offset, rawType, tensor):
            return "tensor '\(tensor)' has unknown ggml type \(rawType) at byte \(offset)"
        case let .invalidDimensionCount(offset, count, tensor):
            return "tensor '\(tensor)' has \(count) dimensions at byte \(offset) (must be 1...\(GGUFLimits.maxDimensions))"
        case let .invalidDimension(offset, index, value, tensor):
            let why = value == 0 ? "zero" : "larger than Int64.max (negative as a signed size)"
            return "tensor '\(tensor)' dimension \(index) at byte \(offset) is \(value): \(why)"
        case let .elementCountOverflow(offset, tensor):
            return "tensor '\(tensor)' (info at byte \(offset)): element count or byte size overflows 64 bits"
        case let .rowNotMultipleOfBlock(offset, rowLength, type, tensor):
            return "tensor '\(tensor)' (info at byte \(offset)): row length \(rowLength) is not a multiple of the \(type) block size \(type.blockSize)"
        case let .duplicateTensor(offset, name):
            return "duplicate tensor name '\(name)' at byte \(offset)"
        case let .misalignedTensor(offset, dataOffset, alignment, tensor):
            return "tensor '\(tensor)' data offset \(dataOffset) (info at byte \(offset)) is not a multiple of the alignment \(alignment)"
        case let .tensorDataOutOfBounds(tensor, dataOffset, start, byteCount, fileSize):
            return "tensor '\(tensor)' data (offset \(dataOffset) in the data section, bytes \(start)..<\(start &+ byteCount)) runs past the end of the \(fileSize)-byte file"
        case let .unsupportedType(type, operation):
            return "\(operation) is not implemented for ggml type \(type)"
        case let .invalidElementCount(count, type):
            return "element count \(count) is not a multiple of the \(type) block size \(type.blockSize)"
        case let .invalidByteCount(count, type):
            return "\(count) bytes is not a whole number of \(type) blocks (\(type.typeSize) bytes each)"
        case let .invalidValue(key, reason):
            return "metadata key '\(key)': \(reason)"
        case let .invalidTensor(name, reason):
            return "tensor '\(name)': \(reason)"
        }
    }
}

/// Limits the reader enforces beyond the format's own rules.
public enum GGUFLimits {
    /// ggml tensors have at most 4 dimensions (GGML_MAX_DIMS).
    public static let maxDimensions = 4
    /// Nested arrays deeper than this are refused: each level recurses, and no real file nests past 2.
    public static let maxArrayDepth = 8
    /// Default alignment of the tensor data section when `general.alignment` is absent.
    public static let defaultAlignment = 32
}

@inline(__always) func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16, uppercase: true)
    return s.count == 1 ? "0" + s : s
}
