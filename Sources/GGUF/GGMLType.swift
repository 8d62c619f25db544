/// Tensor element types as numbered by ggml (`enum ggml_type`). The raw value is what a GGUF tensor info stores.
///
/// Ids 4, 5 (old Q4_2/Q4_3) and 31–33, 36–38 (repacked layouts) were removed from the format and are
/// rejected as unknown, like any id not listed here.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40

    /// Elements per block: 1 for plain types, 32 for the simple quants, 256 (QK_K) for K- and most I-quants.
    @inline(__always) public var blockSize: Int { Self.traits(self).blockSize }

    /// Bytes per block.
    @inline(__always) public var typeSize: Int { Self.traits(self).typeSize }

    /// Bytes needed for `elements` values. `elements` should be a multiple of `blockSize`
    /// (ggml requires every row to be); a partial block is rounded up to a whole one.
    @inline(__always) public func byteCount(elements: Int) -> Int {
        let t = Self.traits(self)
        return (elements + t.blockSize - 1) / t.blockSize * t.typeSize
    }

    /// True for block-quantized types (anything whose block holds more than one element).
    public var isQuantized: Bool { blockSize > 1 }

    /// The name ggml prints for the type (`ggml_type_name`): "f32", "q4_1", "q6_K", "bf16", …
    public var name: String {
        switch self {
        case .f32: "f32"; case .f16: "f16"; case .q4_0: "q4_0"; case .q4_1: "q4_1"
        case .q5_0: "q5_0"; case .q5_1: "q5_1"; case .q8_0: "q8_0"; case .q8_1: "q8_1"
        case .q2_K: "q2_K"; case .q3_K: "q3_K"; case .q4_K: "q4_K"; case .q5_K: "q5_K"
        case .q6_K: "q6_K"; case .q8_K: "q8_K"
        case .iq2_xxs: "iq2_xxs"; case .iq2_xs: "iq2_xs"; case .iq3_xxs: "iq3_xxs"; case .iq1_s: "iq1_s"
        case .iq4_nl: "iq4_nl"; case .iq3_s: "iq3_s"; case .iq2_s: "iq2_s"; case .iq4_xs: "iq4_xs"
        case .i8: "i8"; case .i16: "i16"; case .i32: "i32"; case .i64: "i64"; case .f64: "f64"
        case .iq1_m: "iq1_m"; case .bf16: "bf16"; case .tq1_0: "tq1_0"; case .tq2_0: "tq2_0"
        case .mxfp4: "mxfp4"; case .nvfp4: "nvfp4"
        }
    }

    public var description: String { name }

    // One table drives sizes for every type. Byte counts follow the block structs of ggml-common.h.
    @inline(__always)
    static func traits(_ t: GGMLType) -> (blockSize: Int, typeSize: Int) {
        switch t {
        case .f32: (1, 4)
        case .f16: (1, 2)
        case .bf16: (1, 2)
        case .f64: (1, 8)
        case .i8: (1, 1)
        case .i16: (1, 2)
        case .i32: (1, 4)
        case .i64: (1, 8)
        case .q4_0: (32, 2 + 16)              // d, 32 nibbles
        case .q4_1: (32, 2 + 2 + 16)          // d, m, 32 nibbles
        case .q5_0: (32, 2 + 4 + 16)          // d, high bits, nibbles
        case .q5_1: (32, 2 + 2 + 4 + 16)      // d, m, high bits, nibbles
        case .q8_0: (32, 2 + 32)              // d, 32 int8
        case .q8_1: (32, 2 + 2 + 32)          // d, s = d·Σq, 32 int8
        case .q2_K: (256, 16 + 64 + 2 + 2)    // scales/mins, 2-bit quants, d, dmin
        case .q3_K: (256, 32 + 64 + 12 + 2)   // high-bit mask, low 2 bits, 6-bit scales, d
        case .q4_K: (256, 2 + 2 + 12 + 128)   // d, dmin, 6-bit scales+mins, nibbles
        case .q5_K: (256, 2 + 2 + 12 + 32 + 128)
        case .q6_K: (256, 128 + 64 + 16 + 2)  // low 4 bits, high 2 bits, int8 scales, d
        case .q8_K: (256, 4 + 256 + 32)       // float d, 256 int8, 16 int16 sums
        case .iq2_xxs: (256, 2 + 64)
        case .iq2_xs: (256, 2 + 64 + 8)
        case .iq3_xxs: (256, 2 + 96)
        case .iq1_s: (256, 2 + 32 + 16)
        case .iq4_nl: (32, 2 + 16)
        case .iq3_s: (256, 2 + 64 + 8 + 32 + 4)
        case .iq2_s: (256, 2 + 64 + 8 + 8)
        case .iq4_xs: (256, 2 + 2 + 4 + 128)
        case .iq1_m: (256, 32 + 16 + 8)
        case .tq1_0: (256, 48 + 4 + 2)
        case .tq2_0: (256, 64 + 2)
        case .mxfp4: (32, 1 + 16)             // shared E8M0 exponent, 32 E2M1 nibbles
        case .nvfp4: (64, 4 + 32)             // four E4M3 sub-block scales, 64 nibbles
        }
    }
}
