import Foundation
import Testing
import GGUF

@Suite("Malformed GGUF input")
struct MalformedTests {
    /// A valid one-tensor file, built by hand, whose fields tests then break.
    func file(version: UInt32 = 3, kvs: [(String, UInt32)] = [("llama.block_count", 2)],
              dims: [UInt64] = [8], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 32) -> RawGGUF {
        var r = RawGGUF()
        r.header(version: version, tensors: 1, kvs: UInt64(kvs.count))
        for (k, v) in kvs { r.kvU32(k, v) }
        r.tensorInfo("w", dims: dims, type: type, offset: offset)
        r.pad(to: 32)
        r.zeros(dataBytes)
        return r
    }

    @Test func baseFileIsValid() throws {
        let f = try GGUFFile(bytes: file().bytes)
        #expect(f.tensors.first?.elementCount == 8)
    }

    @Test func badMagic() {
        var r = file()
        r.bytes[3] = UInt8(ascii: "X")
        let e = parseError(r.bytes)
        #expect(e == .badMagic(found: 0x5855_4747))
        #expect(e?.description.contains("\"GGUX\"") == true)
    }

    @Test func unsupportedVersions() {
        #expect(parseError(file(version: 1).bytes) == .unsupportedVersion(1))
        #expect(parseError(file(version: 1).bytes)?.description.contains("version 1") == true)
        #expect(parseError(file(version: 4).bytes) == .unsupportedVersion(4))
        #expect(parseError(file(version: 0).bytes) == .unsupportedVersion(0))
        let bigEndian = parseError(file(version: UInt32(3).byteSwapped).bytes)
        #expect(bigEndian?.description.contains("big-endian") == true)
    }

    @Test func stringLengthPastEnd() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.u64(1000)  // key length
        r.bytes += Array("short".utf8)
        #expect(parseError(r.bytes) == .stringPastEnd(offset: 24, length: 1000, available: 5, context: "metadata key #0"))

        var v = RawGGUF()
        v.header(tensors: 0, kvs: 1)
        v.str("name"); v.u32(8)
        let at = v.count
        v.u64(.max)
        let e = parseError(v.bytes)
        #expect(e == .stringPastEnd(offset: at, length: .max, available: 0, context: "value of key 'name'"))
        #expect(e?.description.contains("byte \(at)") == true && e?.description.contains("'name'") == true)
    }

    @Test func absurdCounts() {
        var r = RawGGUF()
        r.header(tensors: 1 << 40, kvs: 0)
        r.zeros(100)
        #expect(parseError(r.bytes) == .countTooLarge(offset: 8, count: 1 << 40, limit: 100 / 32, context: "tensor count"))

        var k = RawGGUF()
        k.header(tensors: 0, kvs: .max)
        k.zeros(26)
        #expect(parseError(k.bytes) == .countTooLarge(offset: 16, count: .max, limit: 2, context: "metadata key/value count"))

        // An array claiming more elements than the rest of the file could hold.
        for (elementType, minimumSize) in [(UInt32(0), 1), (5, 4), (10, 8), (8, 8), (9, 12)] {
            var a = RawGGUF()
            a.header(tensors: 0, kvs: 1)
            a.str("tokens"); a.u32(9); a.u32(elementType)
            let at = a.count
            a.u64(1 << 50)
            a.zeros(64)
            let e = parseError(a.bytes)
            guard case .countTooLarge(let offset, let count, let limit, let context)? = e else {
                Issue.record("expected countTooLarge, got \(String(describing: e))"); continue
            }
            #expect(offset == at && count == 1 << 50 && limit == 64 / minimumSize)
            #expect(context.contains("'tokens'"))
        }
    }

    @Test func nestingTooDeep() {
        func nested(_ depth: Int) -> [UInt8] {
            var r = RawGGUF()
            r.header(tensors: 0, kvs: 1)
            r.str("deep"); r.u32(9)
            for _ in 0..<depth - 1 { r.u32(9); r.u64(1) }  // array of one array …
            r.u32(4); r.u64(1); r.u32(42)               // … of one uint32
            return r.bytes
        }
        #expect(parseError(nested(GGUFLimits.maxArrayDepth)) == nil)
        let e = parseError(nested(GGUFLimits.maxArrayDepth + 1))
        guard case .nestingTooDeep(_, let depth, let key)? = e else {
            Issue.record("expected nestingTooDeep, got \(String(describing: e))"); return
        }
        #expect(depth == GGUFLimits.maxArrayDepth + 1 && key == "deep")
        // Very deep nesting must not recurse deeply (no stack overflow).
        #expect(parseError(nested(100_000)) != nil)
    }

    @Test func unknownValueTypes() {
        var r = RawGGUF()
        r.header(tensors: 0, kvs: 1)
        r.str("k")
        r.u32(13)
        r.u32(0)
        #expect(parseError(r.bytes) == .unknownValueType(offset: 33, rawType: 13, key: "k"))

        var a = RawGGUF()
        a.header(tensors: 0, kvs: 1)
        a.str("arr"); a.u32(9)
        let at = a.count
        a.u32(77); a.u64(0)
        #expect(parseError(a.bytes) == .unknownValueType(offset: at, rawType: 77, key: "arr"))
    }

    /// Offset of the tensor info's fields in `file()`: header 24 + kv (8+17 key, 4 type, 4 value) = 57.
    let infoAt = 57

    @Test func unknownTensorType() {
        for raw: UInt32 in [4, 5, 31, 99, .max] {
            let e = parseError(file(type: raw).bytes)
            #expect(e == .unknownTensorType(offset: infoAt + 9 + 4 + 8, rawType: raw, tensor: "w"))
        }
        #expect(parseError(file(type: 0).bytes)?.description == nil)
    }

    @Test func dimensionCount() {
        var five = RawGGUF()
        five.header(tensors: 1, kvs: 0)
        five.tensorInfo("w", dims: [1, 1, 1, 1, 1], type: 0, offset: 0)
        five.pad(to: 32); five.zeros(4)
        #expect(parseError(five.bytes) == .invalidDimensionCount(offset: 24 + 9, count: 5, tensor: "w"))
        var zero = RawGGUF()
        zero.header(tensors: 1, kvs: 0)
        zero.tensorInfo("w", dims: [], type: 0, offset: 0)
        zero.pad(to: 32); zero.zeros(4)
        #expect(parseError(zero.bytes) == .invalidDimensionCount(offset: 24 + 9, count: 0, tensor: "w"))
    }

    @Test func badDimensions() {
        let dimsAt = infoAt + 9 + 4
        #expect(parseError(file(dims: [0]).bytes) == .invalidDimension(offset: dimsAt, index: 0, value: 0, tensor: "w"))
        #expect(parseError(file(dims: [8, 0]).bytes) == .invalidDimension(offset: dimsAt + 8, index: 1, value: 0, tensor: "w"))
        let negative = UInt64(bitPattern: -8)
        #expect(parseError(file(dims: [8, negative]).bytes) == .invalidDimension(offset: dimsAt + 8, index: 1, value: negative, tensor: "w"))
        #expect(parseError(file(dims: [1 << 32, 1 << 32]).bytes) == .elementCountOverflow(offset: infoAt, tensor: "w"))
        // Elements fit in 64 bits, but 4 bytes each do not.
        #expect(parseError(file(dims: [1 << 31, 1 << 31]).bytes) == .elementCountOverflow(offset: infoAt, tensor: "w"))
        #expect(parseError(file(dims: [33], type: 2).bytes) == .rowNotMultipleOfBlock(offset: infoAt, rowLength: 33, type: .q4_0, tensor: "w"))
    }

    @Test func tensorDataBounds() {
        // 8 f32 = 32 bytes: one byte short.
        let short = parseError(file(dataBytes: 31).bytes)
        guard case .tensorDataOutOfBounds(let name, _, let start, let count, let size)? = short else {
            Issue.record("expected tensorDataOutOfBounds, got \(String(describing: short))"); return
        }
        #expect(name == "w" && count == 32 && start + 31 == size)
        #expect(parseError(file(offset: 32, dataBytes: 32).bytes) != nil)
        #expect(parseError(file(offset: UInt64(Int64.max) - 31).bytes) != nil)
        #expect(parseError(file(offset: .max - 31).bytes) != nil)
        #expect(parseError(file(offset: 32, dataBytes: 64).bytes) == nil)
    }

    @Test func misalignedOffset() {
        let e = parseError(file(offset: 16, dataBytes: 64).bytes)
        #expect(e == .misalignedTensor(offset: infoAt + 9 + 4 + 8 + 4, dataOffset: 16, alignment: 32, tensor: "w"))
        // With alignment 16 the same offset is fine.
        #expect(parseError(file(kvs: [("general.alignment", 16)], offset: 16, dataBytes: 64).bytes) == nil)
    }

    @Test func duplicates() {
        let e = parseError(file(kvs: [("a", 1), ("b", 2), ("a", 3)]).bytes)
        #expect(e == .duplicateKey(offset: 24 + 17 + 17, key: "a"))  // each kv: 8 + 1 key, 4 type, 4 value
        var r = RawGGUF()
        r.header(tensors: 2, kvs: 0)
        r.tensorInfo("same", dims: [1], type: 0, offset: 0)
        let second = r.count
        r.tensorInfo("same", dims: [1], type: 0, offset: 32)
        r.pad(to: 32); r.zeros(64)
        #expect(parseError(r.bytes) == .duplicateTensor(offset: second, name: "same"))
    }

    @Test func badAlignmentValues() {
        for bad: UInt32 in [0, 3, 48, 1 << 31] {
            let e = parseError(file(kvs: [("general.alignment", bad)]).bytes)
            guard case .invalidAlignment(let offset, _)? = e else {
                Issue.record("alignment \(bad): got \(String(describing: e))"); continue
            }
            #expect(offset == 24 + 8 + 17 + 4)
        }
        var s = RawGGUF()
        s.header(tensors: 0, kvs: 1)
        s.kvString("general.alignment", "32")
        #expect(parseError(s.bytes)?.description.contains("general.alignment") == true)
        #expect(parseError(file(kvs: [("general.alignment", 64)], dataBytes: 64).bytes) == nil)
    }

    @Test func emptyAndTinyFiles() throws {
        #expect(parseError([]) == .truncated(offset: 0, needed: 4, available: 0, context: "header (magic)"))
        #expect(parseError(Array("GGU".utf8)) != nil)
        let dir = NSTemporaryDirectory()
        let empty = dir + "gguf-empty-\(getpid()).gguf"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: GGUFError.truncated(offset: 0, needed: 4, available: 0, context: "header (magic)")) {
            try GGUFFile(path: empty)
        }
        #expect(throws: GGUFError.self) { try GGUFFile(path: dir + "does-not-exist-\(getpid()).gguf") }
        #expect(throws: GGUFError.cannotOpen(path: dir, reason: "not a regular file")) { try GGUFFile(path: dir) }
    }

    /// Every proper prefix of a written file shorter than its last tensor's end is an error, never a crash;
    /// prefixes that keep every tensor (dropping only trailing padding) still parse.
    @Test func truncationAtEveryByte() throws {
        var w = try syntheticModel(vocab: 40, merges: 30)
        w.addMetadata("nested", .array(.array, [.array(.uint16, [.uint16(1)]), .array(.uint16, [])]))
        let bytes = try w.serialized()
        let full = try GGUFFile(bytes: bytes)
        let needed = full.tensors.map { full.dataOffset + $0.offset + $0.byteCount }.max()!
        #expect(needed < bytes.count)  // the test covers the tolerated trailing padding too
        for length in 0..<bytes.count {
            let e = parseError(Array(bytes[0..<length]))
            if length < needed {
                if e == nil { Issue.record("prefix of \(length) bytes parsed") }
            } else {
                #expect(e == nil, "prefix of \(length) bytes: \(String(describing: e))")
            }
        }
    }

    @Test func descriptionsNameTheProblem() {
        let cases: [(GGUFError, [String])] = [
            (.truncated(offset: 10, needed: 8, available: 2, context: "value of key 'x'"), ["byte 10", "'x'"]),
            (.unknownTensorType(offset: 99, rawType: 4, tensor: "blk.0.w"), ["byte 99", "'blk.0.w'", "4"]),
            (.tensorDataOutOfBounds(tensor: "t", dataOffset: 64, start: 128, byteCount: 10, fileSize: 100), ["'t'", "100"]),
            (.misalignedTensor(offset: 5, dataOffset: 16, alignment: 32, tensor: "t"), ["byte 5", "alignment 32"]),
            (.duplicateKey(offset: 40, key: "k"), ["byte 40", "'k'"]),
            (.invalidDimension(offset: 7, index: 1, value: 0, tensor: "t"), ["byte 7", "dimension 1", "zero"]),
        ]
        for (e, needles) in cases {
            for n in needles { #expect(e.description.contains(n), "\(e.description) should mention \(n)") }
        }
    }
}
