import Foundation
import Safetensors
import Testing

struct SafetensorsTests {
    /// A file written byte by byte from the format's description (not by our writer): header length,
    /// JSON header, little-endian data.
    static func handMade(header: String, data: [UInt8]) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    @Test func readsAHandMadeFile() throws {
        // 1.0, -2.5 as F32; 0.5 as F16 (0x3800); 3.0 as BF16 (0x4040).
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1,1],"data_offsets":[8,10]},"c":{"dtype":"BF16","shape":[1],"data_offsets":[10,12]},"__metadata__":{"format":"pt"}}"#
        let bytes: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0, 0x00, 0x38, 0x40, 0x40]
        let f = try SafetensorsFile(data: Self.handMade(header: header, data: bytes))
        #expect(f.metadata == ["format": "pt"])
        #expect(f.tensors.map(\.name) == ["a", "b", "c"])
        #expect(try f.floats("a") == [1, -2.5])
        #expect(try f.floats("b") == [0.5])
        #expect(f.tensor(named: "b")?.shape == [1, 1])
        #expect(try f.floats("c") == [3])
    }

    @Test func roundTripsEveryDType() throws {
        let values: [Float] = [0, 1, -1, 0.333_333, 65_504, 1e-3, -7.25, 3.5]
        var w = SafetensorsWriter(metadata: ["emlab.kind": "test"])
        for t in SafetensorsDType.allCases { try w.add("x." + t.rawValue, shape: [2, 4], values: values, dtype: t) }
        let bytes = try w.serialized()
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let f = try SafetensorsFile(data: bytes)
        #expect(f.metadata == ["emlab.kind": "test"])
        #expect(try f.floats("x.F32") == values)
        #expect(try f.floats("x.F64") == values)
        #expect(try f.floats("x.F16") == values.map { Float(Float16($0)) })
        // BF16 keeps 8 significant bits: within half a unit in the last place.
        for (a, b) in zip(try f.floats("x.BF16"), values) { #expect(abs(a - b) <= abs(b) / 256) }
    }

    @Test func malformedFilesNameWhatIsWrong() throws {
        func error(_ d: Data) -> String {
            do { _ = try SafetensorsFile(data: d, path: "bad.safetensors"); return "no error" } catch { return "\(error)" }
        }
        #expect(error(Data([1, 2, 3])).contains("shorter than the 8-byte header length"))
        #expect(error(Self.handMade(header: "[1]", data: [])).contains("not a JSON object"))
        #expect(error(Self.handMade(header: #"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, data: [0])).contains("dtype I8"))
        #expect(error(Self.handMade(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])).contains("needs 8 bytes"))
        #expect(error(Self.handMade(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])).contains("data_offsets"))
        let overlap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}}"#
        #expect(error(Self.handMade(header: overlap, data: [UInt8](repeating: 0, count: 6))).contains("overlap"))
        var long = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { long.append(contentsOf: $0) }
        #expect(error(long).contains("exceeds"))
        #expect(error(Self.handMade(header: #"{"__metadata__":{"n":3}}"#, data: [])).contains("__metadata__.n"))
        #expect(throws: SafetensorsError.self) { var w = SafetensorsWriter(); try w.add("a", shape: [3], values: [1, 2]) }
    }
}
