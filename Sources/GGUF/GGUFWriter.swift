#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a GGUF version 3 file: metadata in insertion order, then tensor infos, then tensor data,
/// each tensor placed at a multiple of the alignment (`general.alignment`, default 32) and padded
/// with zeros to the next one, as llama.cpp lays files out.
public struct GGUFWriter: Sendable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dimensions: [Int]
        public let type: GGMLType
        public let data: [UInt8]
    }

    public private(set) var metadataKeys: [String] = []
    public private(set) var metadata: [String: GGUFValue] = [:]
    public private(set) var tensors: [Tensor] = []
    private var tensorNames: Set<String> = []

    /// A writer for an empty file. A non-default `alignment` is recorded as `general.alignment` (uint32).
    public init(alignment: Int = GGUFLimits.defaultAlignment) {
        if alignment != GGUFLimits.defaultAlignment {
            addMetadata(GGUFFile.alignmentKey, .uint32(UInt32(truncatingIfNeeded: alignment)))
        }
    }

    /// Sets `key` to `value`. Setting an existing key replaces its value and keeps its position.
    public mutating func addMetadata(_ key: String, _ value: GGUFValue) {
        if metadata.updateValue(value, forKey: key) == nil { metadataKeys.append(key) }
    }

    /// The alignment the file will use, from `general.alignment` when set.
    public func resolvedAlignment() throws(GGUFError) -> Int {
        guard let v = metadata[GGUFFile.alignmentKey] else { return GGUFLimits.defaultAlignment }
        guard let a = v.intValue, a > 0, a & (a - 1) == 0, a <= GGUFFile.maxAlignment else {
            throw .invalidValue(key: GGUFFile.alignmentKey, reason: "\(v) is not a power of two in 1...2^30")
        }
        return a
    }

    /// Adds a tensor from raw bytes already in `type`'s block layout.
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) throws(GGUFError) {
        guard !tensorNames.contains(name) else { throw .invalidTensor(name: name, reason: "duplicate tensor name") }
        guard (1...GGUFLimits.maxDimensions).contains(dimensions.count) else {
            throw .invalidTensor(name: name, reason: "\(dimensions.count) dimensions (must be 1...\(GGUFLimits.maxDimensions))")
        }
        var elements = 1
        for d in dimensions {
            guard d > 0 else { throw .invalidTensor(name: name, reason: "dimension \(d) is not positive") }
            let (e, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidTensor(name: name, reason: "element count overflows") }
            elements = e
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .invalidTensor(name: name, reason: "row length \(dimensions[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        let expected = type.byteCount(elements: elements)
        guard data.count == expected else {
            throw .invalidTensor(name: name, reason: "\(data.count) bytes given, \(dimensions) of \(type) needs \(expected)")
        }
        tensors.append(Tensor(name: name, dimensions: dimensions, type: type, data: data))
        tensorNames.insert(name)
    }

    /// Adds a tensor from floats, quantized with `Quantize.row` (`values.count` must equal the element count).
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, values: [Float]) throws(GGUFError) {
        let elements = dimensions.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
        guard values.count == elements, dimensions.allSatisfy({ $0 > 0 }) else {
            throw .invalidTensor(name: name, reason: "\(values.count) values given for dimensions \(dimensions)")
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .invalidTensor(name: name, reason: "row length \(dimensions[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        try addTensor(name: name, dimensions: dimensions, type: type, data: Quantize.bytes(type, from: values))
    }

    /// The tensor infos the file will contain (offsets relative to the data section).
    public func tensorInfos() throws(GGUFError) -> [GGUFTensorInfo] {
        let alignment = try resolvedAlignment()
        var offset = 0
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(tensors.count)
        for t in tensors {
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dimensions, type: t.type, offset: offset))
            offset = Self.padded(offset + t.data.count, alignment)
        }
        return infos
    }

    /// Header bytes (magic through tensor infos, padded to the alignment): the data section follows.
    public func headerBytes() throws(GGUFError) -> [UInt8] {
        let alignment = try resolvedAlignment()
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        Self.append(UInt32(0x4655_4747), to: &out)  // "GGUF"
        Self.append(UInt32(3), to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        Self.append(UInt64(metadataKeys.count), to: &out)
        for key in metadataKeys {
            let value = metadata[key]!
            Self.append(key, to: &out)
            Self.append(value.type.rawValue, to: &out)
            try Self.appendPayload(value, to: &out, key: key, depth: 0)
        }
        for info in try tensorInfos() {
            Self.append(info.name, to: &out)
            Self.append(UInt32(info.dimensions.count), to: &out)
            for d in info.dimensions { Self.append(UInt64(d), to: &out) }
            Self.append(info.type.rawValue, to: &out)
            Self.append(UInt64(info.offset), to: &out)
        }
        out.append(contentsOf: repeatElement(0, count: Self.padded(out.count, alignment) - out.count))
        return out
    }

    /// The whole file in memory.
    public func serialized() throws(GGUFError) -> [UInt8] {
        let alignment = try resolvedAlignment()
        var out = try headerBytes()
        for t in tensors {
            out.append(contentsOf: t.data)
            out.append(contentsOf: repeatElement(0, count: Self.padded(out.count, alignment) - out.count))
        }
        return out
    }

    /// Writes the file to `path` (via a temporary file renamed into place, so readers never see half a file).
    public func write(to path: String) throws(GGUFError) {
        let alignment = try resolvedAlignment()
        let header = try headerBytes()
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var ok = Self.writeAll(fd, header)
        var position = header.count
        let zeros = [UInt8](repeating: 0, count: alignment)
        for t in tensors where ok {
            ok = Self.writeAll(fd, t.data)
            position += t.data.count
            let pad = Self.padded(position, alignment) - position
            if ok && pad > 0 { ok = Self.writeAll(fd, zeros[0..<pad]) }
            position += pad
        }
        let reason = ok ? "" : String(cString: strerror(errno))
        if close(fd) != 0 && ok { ok = false }
        guard ok, rename(tmp, path) == 0 else {
            let why = reason.isEmpty ? String(cString: strerror(errno)) : reason
            unlink(tmp)
            throw .writeFailed(path: path, reason: why)
        }
    }

    // MARK: Encoding

    static func padded(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func append(_ s: String, to out: inout [UInt8]) {
        let utf8 = s.utf8
        append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    /// A value without its type tag. Arrays: element type, count, elements (nested arrays carry their own header).
    static func appendPayload(_ v: GGUFValue, to out: inout [UInt8], key: String, depth: Int) throws(GGUFError) {
        switch v {
        case .uint8(let x): append(x, to: &out)
        case .int8(let x): append(x, to: &out)
        case .uint16(let x): append(x, to: &out)
        case .int16(let x): append(x, to: &out)
        case .uint32(let x): append(x, to: &out)
        case .int32(let x): append(x, to: &out)
        case .float32(let x): append(x.bitPattern, to: &out)
        case .uint64(let x): append(x, to: &out)
        case .int64(let x): append(x, to: &out)
        case .float64(let x): append(x.bitPattern, to: &out)
        case .bool(let x): out.append(x ? 1 : 0)
        case .string(let s): append(s, to: &out)
        case .array(let elementType, let elements):
            guard depth + 1 <= GGUFLimits.maxArrayDepth else {
                throw .invalidValue(key: key, reason: "arrays nested deeper than \(GGUFLimits.maxArrayDepth)")
            }
            append(elementType.rawValue, to: &out)
            append(UInt64(elements.count), to: &out)
            for (i, e) in elements.enumerated() {
                guard e.type == elementType else {
                    throw .invalidValue(key: key, reason: "element \(i) is \(e.type) in an array of \(elementType)")
                }
                try appendPayload(e, to: &out, key: key, depth: depth + 1)
            }
        }
    }

    static func writeAll<C: Collection<UInt8>>(_ fd: Int32, _ bytes: C) -> Bool {
        bytes.withContiguousStorageIfAvailable { buf -> Bool in
            var done = 0
            while done < buf.count {
                let n = posixWrite(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        } ?? writeAll(fd, Array(bytes))
    }
}

/// File-scope so that `write` means the system call, not `GGUFWriter.write(to:)`.
private func posixWrite(_ fd: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
    write(fd, p, n)
}
