/// Metadata value types as numbered by the GGUF format (`gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// Bytes of one value of a fixed-size type; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// Fewest bytes one value of this type can occupy in a file (a string's 8-byte length,
    /// an array's 4-byte element type + 8-byte count). Bounds the count a header may claim.
    var minimumEncodedSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedSize!
        }
    }

    public var description: String {
        switch self {
        case .uint8: "uint8"; case .int8: "int8"; case .uint16: "uint16"; case .int16: "int16"
        case .uint32: "uint32"; case .int32: "int32"; case .float32: "float32"; case .bool: "bool"
        case .string: "string"; case .array: "array"; case .uint64: "uint64"; case .int64: "int64"
        case .float64: "float64"
        }
    }
}

/// One metadata value. Arrays carry their declared element type so that an empty array
/// round-trips, and may nest (`.array(.array, …)`).
///
/// Not `indirect`: the array payload is already a reference-counted buffer, and boxing every
/// scalar would cost one allocation per element of a 150k-entry tokenizer array.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), uint64(UInt64), int64(Int64), float64(Double), bool(Bool), string(String)
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8; case .int8: .int8; case .uint16: .uint16; case .int16: .int16
        case .uint32: .uint32; case .int32: .int32; case .float32: .float32; case .uint64: .uint64
        case .int64: .int64; case .float64: .float64; case .bool: .bool; case .string: .string
        case .array: .array
        }
    }

    /// Any integer type, when it fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Float types, and integers converted (writers disagree on e.g. `rope.freq_base` types).
    public var floatValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let a) = self { return a }
        return nil
    }

    /// The element type of an array value.
    public var arrayElementType: GGUFValueType? {
        if case .array(let t, _) = self { return t }
        return nil
    }

    /// An array whose elements are all strings.
    public var stringArray: [String]? {
        guard case .array(_, let a) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard case .string(let s) = v else { return nil }
            out.append(s)
        }
        return out
    }

    /// An array whose elements are all integers fitting in `Int`.
    public var intArray: [Int]? {
        guard case .array(_, let a) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let i = v.intValue else { return nil }
            out.append(i)
        }
        return out
    }

    /// An array whose elements are all numbers (floats, or integers converted).
    public var floatArray: [Float]? {
        guard case .array(_, let a) = self else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a {
            if case .float32(let f) = v { out.append(f); continue }
            guard let d = v.floatValue else { return nil }
            out.append(Float(d))
        }
        return out
    }

    /// Short human-readable form; long arrays show their first elements and the count.
    public var description: String { describe(maxElements: 8) }

    public func describe(maxElements: Int) -> String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s): return quoted(s)
        case .array(let t, let a):
            let shown = a.prefix(max(0, maxElements)).map { $0.describe(maxElements: maxElements) }
            let more = a.count > shown.count ? ", … (\(a.count) \(t))" : ""
            return "[" + shown.joined(separator: ", ") + more + "]"
        }
    }
}

/// A string in double quotes with control characters escaped, so tokens like "\n" print visibly.
func quoted(_ s: String, limit: Int = 200) -> String {
    var out = "\""
    var n = 0
    for scalar in s.unicodeScalars {
        if n == limit { out += "…"; break }
        n += 1
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
