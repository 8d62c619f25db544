import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range in the data that follows, and an optional
/// `__metadata__` object of string values. PEFT adapters, SAELens SAEs, numpy/PyTorch tensors and
/// emlab's vectors and activations use it.

/// Element types read and written (others are named in errors).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
    /// 64-bit signed integers (indices, positions, token counts).
    case i64 = "I64"

    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .f64, .i64: return 8
        }
    }

    public var isInteger: Bool { self == .i64 }
}

/// A safetensors file that is not what it should be: the file and what is wrong, naming the tensor
/// or header field.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// One tensor's entry in the header.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Byte range within the data section.
    public var range: Range<Int>
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file read from disk (memory-mapped), checked against the format's rules.
public struct SafetensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Tensors in the order of their data.
    public let tensors: [SafetensorsTensorInfo]
    private let data: Data
    private let dataStart: Int

    /// The largest header read (the format's own limit).
    public static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw SafetensorsError(file: path, "cannot read: \(error.localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String = "(memory)") throws {
        func fail(_ why: String) -> SafetensorsError { SafetensorsError(file: path, why) }
        guard data.count >= 8 else { throw fail("shorter than the 8-byte header length (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else { throw fail("header length \(headerLength) exceeds \(Self.maxHeaderBytes) bytes") }
        guard 8 + Int(headerLength) <= data.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(data.count) bytes)")
        }
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + 8 + Int(headerLength))
        guard let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        let dataLength = data.count - 8 - Int(headerLength)
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw fail("tensor '\(name)': entry is not an object") }
            guard let dtypeText = entry["dtype"] as? String else { throw fail("tensor '\(name)': missing dtype") }
            guard let dtype = SafetensorsDType(rawValue: dtypeText) else {
                throw fail("tensor '\(name)': dtype \(dtypeText) is not read (F32, F16, BF16, F64, I64)")
            }
            guard let shapeValues = entry["shape"] as? [Any] else { throw fail("tensor '\(name)': missing shape") }
            let shape = try shapeValues.map { v -> Int in
                guard let n = v as? Int, n >= 0 else { throw fail("tensor '\(name)': shape \(shapeValues) is not a list of sizes") }
                return n
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = offsets[0] as? Int, let end = offsets[1] as? Int, 0 <= begin, begin <= end, end <= dataLength else {
                throw fail("tensor '\(name)': data_offsets \(entry["data_offsets"] ?? "missing") are not a range inside the \(dataLength) data bytes")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, n in
                let (m, o) = acc.0.multipliedReportingOverflow(by: n)
                return (m, acc.1 || o)
            }
            guard !overflow, count * dtype.byteSize == end - begin else {
                throw fail("tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(overflow ? "too many" : String(count * dtype.byteSize)) bytes, data_offsets give \(end - begin)")
            }
            tensors.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end))
        }
        tensors.sort { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (a, b) in zip(tensors, tensors.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap in the data")
        }
        self.path = path
        self.metadata = metadata
        self.tensors = tensors
        self.data = data
        self.dataStart = 8 + Int(headerLength)
    }

    public func tensor(named name: String) -> SafetensorsTensorInfo? { tensors.first { $0.name == name } }

    /// A tensor's values as floats (row-major), converted from its dtype.
    public func floats(_ name: String) throws -> [Float] {
        guard let t = tensor(named: name) else { throw SafetensorsError(file: path, "no tensor '\(name)'") }
        return floats(t)
    }

    public func floats(_ t: SafetensorsTensorInfo) -> [Float] {
        let n = t.elementCount
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            floats(t, elements: 0..<n, into: out.baseAddress!)
            initialized = n
        }
    }

    /// Elements `elements` of a tensor (row-major order) converted to floats into `out`, without
    /// reading the rest of the tensor (rows of a large mapped file).
    public func floats(_ t: SafetensorsTensorInfo, elements: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(elements.lowerBound >= 0 && elements.upperBound <= t.elementCount, "elements outside tensor \(t.name)")
        data.withUnsafeBytes { raw in
            let src = UnsafeRawBufferPointer(rebasing: raw[(dataStart + t.range.lowerBound)..<(dataStart + t.range.upperBound)])
            var o = out
            for i in elements {
                switch t.dtype {
                case .f32: o.pointee = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                case .f64: o.pointee = Float(Double(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
                case .f16: o.pointee = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                case .bf16: o.pointee = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                case .i64: o.pointee = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
                o += 1
            }
        }
    }

    /// An integer tensor's values (row-major), exactly; a float tensor is an error naming it.
    public func integers(_ name: String) throws -> [Int64] {
        guard let t = tensor(named: name) else { throw SafetensorsError(file: path, "no tensor '\(name)'") }
        guard t.dtype.isInteger else { throw SafetensorsError(file: path, "tensor '\(name)' is \(t.dtype.rawValue), not an integer tensor") }
        return data.withUnsafeBytes { raw in
            let src = UnsafeRawBufferPointer(rebasing: raw[(dataStart + t.range.lowerBound)..<(dataStart + t.range.upperBound)])
            return (0..<t.elementCount).map { Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        }
    }
}

/// Builds a safetensors file in memory and writes it atomically (a killed write never leaves a
/// partial file under the name).
public struct SafetensorsWriter: Sendable {
    public var metadata: [String: String] = [:]
    private var entries: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data)] = []

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds `values` (row-major, `shape`'s element count) stored as `dtype` (F32, F16 or BF16; BF16
    /// rounds to nearest even; I64 stores each value rounded to the nearest integer).
    public mutating func add(_ name: String, shape: [Int], values: [Float], dtype: SafetensorsDType = .f32) throws {
        try check(name, shape: shape, count: values.count)
        var bytes = Data(capacity: values.count * dtype.byteSize)
        Self.append(values, as: dtype, to: &bytes)
        entries.append((name, dtype, shape, bytes))
    }

    /// Adds integers (row-major, `shape`'s element count), stored exactly as I64.
    public mutating func add(_ name: String, shape: [Int], integers: [Int64]) throws {
        try check(name, shape: shape, count: integers.count)
        var bytes = Data(capacity: integers.count * 8)
        Self.append(integers, to: &bytes)
        entries.append((name, .i64, shape, bytes))
    }

    private func check(_ name: String, shape: [Int], count: Int) throws {
        guard name != "__metadata__", !entries.contains(where: { $0.name == name }) else {
            throw SafetensorsError(file: "(writer)", "tensor name '\(name)' is reserved or used twice")
        }
        guard shape.reduce(1, *) == count else {
            throw SafetensorsError(file: "(writer)", "tensor '\(name)': shape \(shape) holds \(shape.reduce(1, *)) values, given \(count)")
        }
    }

    /// `values` encoded as `dtype`, little-endian, appended to `bytes`.
    static func append(_ values: [Float], as dtype: SafetensorsDType, to bytes: inout Data) {
        #if _endian(little)
        if dtype == .f32 {   // the host's layout is the file's: one copy
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return
        }
        #endif
        for v in values {
            switch dtype {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            case .f64: withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            case .bf16:
                let b = v.bitPattern
                let rounded = v.isNaN ? UInt16(b >> 16) | 0x40 : UInt16((b + 0x7FFF + ((b >> 16) & 1)) >> 16)
                withUnsafeBytes(of: rounded.littleEndian) { bytes.append(contentsOf: $0) }
            case .i64:
                let i = Int64(exactly: v.rounded()) ?? (v > 0 ? .max : v < 0 ? .min : 0)   // NaN: 0
                withUnsafeBytes(of: i.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
    }

    static func append(_ values: [Int64], to bytes: inout Data) {
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    }

    /// The file's bytes: header (padded with spaces to a multiple of 8 bytes) then the data.
    public func serialized() throws -> Data {
        let head = try Self.header(entries.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) }, metadata: metadata)
        var out = Data(capacity: head.count + entries.reduce(0) { $0 + $1.bytes.count })
        out.append(head)
        for e in entries { out.append(e.bytes) }
        return out
    }

    /// The 8-byte length and the JSON header (padded with spaces to a multiple of 8 bytes) for
    /// tensors whose data follow in this order.
    static func header(_ tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Int)],
                       metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes]] as [String: Any]
            offset += t.bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        return out
    }

    public func write(to path: String) throws {
        let bytes = try serialized()
        do { try bytes.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw SafetensorsError(file: path, "cannot write: \(error.localizedDescription)")
        }
    }
}
