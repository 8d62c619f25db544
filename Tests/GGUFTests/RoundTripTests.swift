import Foundation
import TestSupport
import Testing
import GGUF

@Suite("GGUF reader and writer")
struct RoundTripTests {
    /// Every value type, edge values, empty and nested arrays.
    static let allKinds: [(String, GGUFValue)] = [
        ("t.u8", .uint8(255)), ("t.i8", .int8(-128)), ("t.u16", .uint16(65535)), ("t.i16", .int16(-32768)),
        ("t.u32", .uint32(.max)), ("t.i32", .int32(.min)), ("t.f32", .float32(-0x1p-130)),
        ("t.f32inf", .float32(.infinity)), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)),
        ("t.f64", .float64(3.141592653589793)), ("t.true", .bool(true)), ("t.false", .bool(false)),
        ("t.str", .string("héllo ✓ \u{0}\n\"")), ("t.empty", .string("")),
        ("t.a.u8", .array(.uint8, [.uint8(0), .uint8(7)])),
        ("t.a.i16", .array(.int16, [.int16(-1), .int16(2)])),
        ("t.a.f64", .array(.float64, [.float64(-0.25)])),
        ("t.a.bool", .array(.bool, [.bool(true), .bool(false), .bool(true)])),
        ("t.a.u64", .array(.uint64, [.uint64(1 << 63)])), ("t.a.i64", .array(.int64, [.int64(-5)])),
        ("t.a.u16", .array(.uint16, [.uint16(9)])), ("t.a.u32", .array(.uint32, [.uint32(10)])),
        ("t.a.i8", .array(.int8, [.int8(-3)])), ("t.a.f32", .array(.float32, [.float32(2.5), .float32(-0.0)])),
        ("t.a.str", .array(.string, [.string("a"), .string(""), .string("Ġthe")])),
        ("t.a.emptyints", .array(.int32, [])), ("t.a.emptystrs", .array(.string, [])),
        ("t.a.nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, []),
                                       .array(.int32, [.int32(3)])])),
        ("t.a.nested.str", .array(.array, [.array(.string, [.string("x")]), .array(.string, [.string("y"), .string("z")])])),
        ("t.a.deep", .array(.array, [.array(.array, [.array(.uint8, [.uint8(1)])])])),
    ]

    @Test func metadataOfEveryTypeRoundTrips() throws {
        var w = GGUFWriter()
        for (k, v) in Self.allKinds { w.addMetadata(k, v) }
        let file = try GGUFFile(bytes: w.serialized())
        #expect(file.version == 3)
        #expect(file.metadataKeys == Self.allKinds.map(\.0))
        for (k, v) in Self.allKinds {
            #expect(file[k] == v, "key \(k)")
            #expect(file[k]?.type == v.type)
        }
        #expect(file.tensors.isEmpty)
        #expect(file.alignment == 32)
    }

    @Test func tensorsRoundTripWithAlignment() throws {
        for alignment in [1, 8, 32, 64, 4096] {
            var w = GGUFWriter(alignment: alignment)
            w.addMetadata("general.architecture", .string("test"))
            var rng = SplitMix64(seed: UInt64(alignment))
            var expected: [(String, [Int], GGMLType, [UInt8])] = []
            let shapes: [([Int], GGMLType)] = [([3], .f32), ([5, 2], .f16), ([64, 3], .q8_0), ([32], .q4_0),
                                               ([256, 2], .q4_K), ([7, 1, 2, 3], .i8), ([32, 1], .q5_1)]
            for (i, (dims, type)) in shapes.enumerated() {
                let n = type.byteCount(elements: dims.reduce(1, *))
                let data = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
                try w.addTensor(name: "t\(i)", dimensions: dims, type: type, data: data)
                expected.append(("t\(i)", dims, type, data))
            }
            let bytes = try w.serialized()
            let file = try GGUFFile(bytes: bytes)
            #expect(file.alignment == alignment)
            #expect(file.dataOffset % alignment == 0)
            #expect(file.tensors.count == expected.count)
            #expect(file.tensors == (try w.tensorInfos()))
            for (info, (name, dims, type, data)) in zip(file.tensors, expected) {
                #expect(info.name == name && info.dimensions == dims && info.type == type)
                #expect(info.offset % alignment == 0)
                #expect(Array(file.data(for: info)) == data)
                #expect(file.tensor(named: name) == info)
            }
            // The writer pads after the last tensor too.
            #expect(bytes.count % alignment == 0)
        }
    }

    /// The writer's bytes for a tiny file equal a file assembled field by field from the spec.
    @Test func writerMatchesHandBuiltBytes() throws {
        var w = GGUFWriter()
        w.addMetadata("general.architecture", .string("llama"))
        w.addMetadata("n", .uint32(7))
        try w.addTensor(name: "a", dimensions: [2], type: .f32, data: bytesOf([1, -2]))
        try w.addTensor(name: "b", dimensions: [3, 1], type: .f32, data: bytesOf([3, 4, 5]))

        var r = RawGGUF()
        r.header(tensors: 2, kvs: 2)
        r.kvString("general.architecture", "llama")
        r.kvU32("n", 7)
        r.tensorInfo("a", dims: [2], type: 0, offset: 0)
        r.tensorInfo("b", dims: [3, 1], type: 0, offset: 32)
        r.pad(to: 32)
        r.bytes += bytesOf([1, -2]); r.pad(to: 32)
        r.bytes += bytesOf([3, 4, 5]); r.pad(to: 32)
        #expect(try w.serialized() == r.bytes)
    }

    /// The reader on a file assembled by hand, including a version 2 header.
    @Test func readsHandBuiltFiles() throws {
        for version in [UInt32(2), 3] {
            var r = RawGGUF()
            r.header(version: version, tensors: 1, kvs: 2)
            r.kvString("general.architecture", "llama")
            r.kvU32("llama.block_count", 30)
            r.tensorInfo("w", dims: [4], type: 0, offset: 0)
            r.pad(to: 32)
            let dataAt = r.count
            r.bytes += bytesOf([0.5, 1, 2, -4])
            let f = try GGUFFile(bytes: r.bytes)
            #expect(f.version == version)
            #expect(f.architecture == "llama")
            #expect(f.architectureValue("block_count")?.intValue == 30)
            #expect(f.dataOffset == dataAt)
            #expect(try f.floats(for: f.tensors[0]) == [0.5, 1, 2, -4])
        }
    }

    @Test func writeToDiskAndMap() throws {
        let w = try syntheticModel(vocab: 300, merges: 200)
        let path = NSTemporaryDirectory() + "gguf-roundtrip-\(getpid()).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try w.write(to: path)
        let onDisk = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(onDisk == (try w.serialized()))
        let f = try GGUFFile(path: path)
        #expect(f.path == path && f.fileSize == onDisk.count)
        #expect(f.metadataKeys == w.metadataKeys)
        for k in w.metadataKeys { #expect(f[k] == w.metadata[k]) }
        #expect(f["tokenizer.ggml.tokens"]?.stringArray?.count == 300)
        #expect(f["tokenizer.ggml.token_type"]?.intArray?.prefix(4) == [3, 3, 3, 1])
        #expect(f["tokenizer.ggml.scores"]?.floatArray?[5] == -5)
        for (info, t) in zip(f.tensors, w.tensors) {
            #expect(info.name == t.name)
            #expect(Array(f.data(for: info)) == t.data)
        }
    }

    @Test func replacingMetadataKeepsPosition() throws {
        var w = GGUFWriter()
        w.addMetadata("a", .uint8(1))
        w.addMetadata("b", .uint8(2))
        w.addMetadata("a", .string("again"))
        let f = try GGUFFile(bytes: w.serialized())
        #expect(f.metadataKeys == ["a", "b"])
        #expect(f["a"] == .string("again"))
    }

    @Test func writerRejectsInvalidInput() throws {
        var w = GGUFWriter()
        try w.addTensor(name: "x", dimensions: [4], type: .f32, data: bytesOf([1, 2, 3, 4]))
        #expect(throws: GGUFError.self) { try w.addTensor(name: "x", dimensions: [1], type: .f32, data: bytesOf([1])) }
        #expect(throws: GGUFError.self) { try w.addTensor(name: "y", dimensions: [4], type: .f32, data: bytesOf([1])) }
        #expect(throws: GGUFError.self) { try w.addTensor(name: "y", dimensions: [0], type: .f32, data: []) }
        #expect(throws: GGUFError.self) { try w.addTensor(name: "y", dimensions: [1, 1, 1, 1, 1], type: .f32, data: bytesOf([1])) }
        #expect(throws: GGUFError.self) { try w.addTensor(name: "y", dimensions: [16], type: .q4_0, data: [UInt8](repeating: 0, count: 9)) }
        var bad = GGUFWriter()
        bad.addMetadata("mixed", .array(.int32, [.int32(1), .string("no")]))
        #expect(throws: GGUFError.invalidValue(key: "mixed", reason: "element 1 is string in an array of int32")) {
            try bad.serialized()
        }
        var badAlign = GGUFWriter()
        badAlign.addMetadata("general.alignment", .uint32(48))
        #expect(throws: GGUFError.self) { try badAlign.serialized() }
        #expect(throws: GGUFError.self) { try w.write(to: "/nonexistent-dir/x.gguf") }
    }

    @Test func typeTable() {
        // Block sizes and bytes per block from ggml-common.h's block structs.
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22),
            .q5_1: (32, 24), .q8_0: (32, 34), .q8_1: (32, 36), .q2_K: (256, 84), .q3_K: (256, 110),
            .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210), .q8_K: (256, 292),
        ]
        for (t, (bs, ts)) in expected {
            #expect(t.blockSize == bs && t.typeSize == ts, "\(t)")
        }
        #expect(GGMLType(rawValue: 30) == .bf16 && GGMLType(rawValue: 15) == .q8_K)
        #expect(GGMLType(rawValue: 4) == nil && GGMLType(rawValue: 31) == nil)
        #expect(GGMLType.q4_1.byteCount(elements: 576) == 18 * 20)
        #expect(GGMLType.q6_K.name == "q6_K")
    }

    @Test func valueAccessors() {
        #expect(GGUFValue.uint64(.max).intValue == nil)
        #expect(GGUFValue.int16(-4).intValue == -4)
        #expect(GGUFValue.uint32(7).floatValue == 7)
        #expect(GGUFValue.string("x").intValue == nil)
        #expect(GGUFValue.array(.string, [.string("a"), .uint8(1)]).stringArray == nil)
        #expect(GGUFValue.array(.float32, [.float32(0.5)]).floatArray == [0.5])
        #expect(GGUFValue.array(.uint8, (0..<20).map { .uint8($0) }).description.hasSuffix("… (20 uint8)]"))
        #expect(GGUFValue.string("a\nb").description == "\"a\\nb\"")
    }
}
