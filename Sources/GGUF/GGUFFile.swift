#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed GGUF file (versions 2 and 3, little-endian).
///
/// The file is memory-mapped read-only for the object's lifetime: tensor data is never copied,
/// and `data(for:)` hands out pointers into the mapping. Everything is validated in `init`
/// (structure, counts, dimensions, types, alignment, every tensor inside the file), so later
/// accessors cannot fail on a file that opened.
public final class GGUFFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute file offset of the tensor data section (the end of the header rounded up to `alignment`;
    /// in a file without tensors it may lie at or past the end of the file).
    public let dataOffset: Int
    /// Total bytes of the file (or of the buffer given to `init(bytes:)`).
    public let fileSize: Int
    /// The path given to `init(path:)`; nil for in-memory files.
    public let path: String?

    private let tensorIndex: [String: Int]
    private let base: UnsafeRawPointer
    private let isMapped: Bool

    /// Maps and parses the file at `path`.
    public init(path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: Self.errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, reason: Self.errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            // mmap refuses length 0; parsing an empty buffer gives the same truncation error as any short file.
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
            defer { scratch.deallocate() }
            _ = try Self.parse(UnsafeRawPointer(scratch), count: 0)
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .cannotOpen(path: path, reason: "mmap failed: " + Self.errnoText())
        }
        let header: Header
        do throws(GGUFError) {
            header = try Self.parse(UnsafeRawPointer(mapped), count: size)
        } catch {
            munmap(mapped, size)
            throw error
        }
        base = UnsafeRawPointer(mapped)
        isMapped = true
        fileSize = size
        self.path = path
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        tensorIndex = header.tensorIndex
        alignment = header.alignment
        dataOffset = header.dataOffset
    }

    /// Parses a copy of `bytes` held in memory (tests, fuzzing, files built in memory).
    public init(bytes: [UInt8]) throws(GGUFError) {
        let n = bytes.count
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if n > 0 { buffer.copyMemory(from: src.baseAddress!, byteCount: n) }
        }
        let header: Header
        do throws(GGUFError) {
            header = try Self.parse(UnsafeRawPointer(buffer), count: n)
        } catch {
            buffer.deallocate()
            throw error
        }
        base = UnsafeRawPointer(buffer)
        isMapped = false
        fileSize = n
        path = nil
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        tensorIndex = header.tensorIndex
        alignment = header.alignment
        dataOffset = header.dataOffset
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    public subscript(key: String) -> GGUFValue? { metadata[key] }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// `general.architecture`, e.g. "llama" or "gemma3".
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    /// The value of `"<architecture>.<suffix>"`, e.g. `architectureValue("block_count")`.
    public func architectureValue(_ suffix: String) -> GGUFValue? {
        guard let arch = architecture else { return nil }
        return metadata[arch + "." + suffix]
    }

    /// The tensor's bytes inside the mapping; valid while this `GGUFFile` lives.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset &+ tensor.offset
        let count = tensor.byteCount
        precondition(tensor.offset >= 0 && start <= fileSize && count >= 0 && count <= fileSize - start,
                     "tensor '\(tensor.name)' does not lie inside this GGUF file")
        return UnsafeRawBufferPointer(start: base + start, count: count)
    }

    /// The whole file's bytes; valid while this `GGUFFile` lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }

    /// The tensor dequantized to Float (allocates; for tests, tools and small tensors).
    public func floats(for tensor: GGUFTensorInfo) throws(GGUFError) -> [Float] {
        try Dequantize.tensor(tensor, in: self)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    // MARK: - Parsing

    struct Header {
        var version: UInt32
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensorInfo]
        var tensorIndex: [String: Int]
        var alignment: Int
        var dataOffset: Int
    }

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as little-endian u32
    static let alignmentKey = "general.alignment"
    /// Cap on `general.alignment`: larger values only serve to overflow offset arithmetic.
    static let maxAlignment = 1 << 30
    // Fewest bytes an entry can take: key length (8) + value type (4) + a 1-byte value;
    // name length (8) + dimension count (4) + one dimension (8) + type (4) + offset (8).
    static let minimumKeyValueSize = 13
    static let minimumTensorInfoSize = 32

    static func parse(_ base: UnsafeRawPointer, count: Int) throws(GGUFError) -> Header {
        var c = ByteCursor(base: base, count: count)

        c.context = "header (magic)"
        let magic = try c.read(UInt32.self)
        guard magic == Self.magic else { throw .badMagic(found: magic) }
        c.context = "header (version)"
        let version = try c.read(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        c.context = "header (tensor count)"
        let tensorCountAt = c.position
        let rawTensorCount = try c.read(UInt64.self)
        c.context = "header (metadata count)"
        let kvCountAt = c.position
        let rawKVCount = try c.read(UInt64.self)
        let kvCount = try c.checkCount(rawKVCount, minimumSize: minimumKeyValueSize, at: kvCountAt,
                                       what: "metadata key/value count")
        _ = try c.checkCount(rawTensorCount, minimumSize: minimumTensorInfoSize, at: tensorCountAt,
                             what: "tensor count")

        // Metadata
        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(kvCount)
        var keys: [String] = []
        keys.reserveCapacity(kvCount)
        var alignmentValueAt = 0
        for i in 0..<kvCount {
            let keyAt = c.position
            c.context = "metadata key #\(i)"
            let key = try c.readString()
            guard metadata[key] == nil else { throw .duplicateKey(offset: keyAt, key: key) }
            c.context = "value of key '\(key)'"
            let typeAt = c.position
            let rawType = try c.read(UInt32.self)
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(offset: typeAt, rawType: rawType, key: key)
            }
            if key == alignmentKey { alignmentValueAt = c.position }
            let value = try c.readValue(type, key: key, depth: 0)
            metadata[key] = value
            keys.append(key)
        }

        var alignment = GGUFLimits.defaultAlignment
        if let v = metadata[alignmentKey] {
            guard let a = v.intValue, a > 0, a & (a - 1) == 0, a <= maxAlignment else {
                throw .invalidAlignment(offset: alignmentValueAt, value: "\(v) (\(v.type))")
            }
            alignment = a
        }

        // Tensor infos
        let tensorCount = try c.checkCount(rawTensorCount, minimumSize: minimumTensorInfoSize,
                                           at: tensorCountAt, what: "tensor count")
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        index.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let infoAt = c.position
            c.context = "tensor info #\(i)"
            let name = try c.readString()
            guard index[name] == nil else { throw .duplicateTensor(offset: infoAt, name: name) }
            c.context = "tensor info '\(name)'"
            let info = try c.readTensorInfo(name: name, infoAt: infoAt, alignment: alignment)
            index[name] = i
            tensors.append(info)
        }

        // The data section starts at the next multiple of the alignment.
        let dataOffset = (c.position + alignment - 1) / alignment * alignment

        for t in tensors {
            let size = t.byteCount
            let (start, o1) = dataOffset.addingReportingOverflow(t.offset)
            let (stop, o2) = start.addingReportingOverflow(size)
            if o1 || o2 || stop > count {
                throw .tensorDataOutOfBounds(tensor: t.name, dataOffset: UInt64(t.offset),
                                             start: o1 ? Int.max : start, byteCount: size, fileSize: count)
            }
        }

        return Header(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                      tensorIndex: index, alignment: alignment, dataOffset: dataOffset)
    }
}

extension ByteCursor {
    /// One metadata value of a known type. `depth` counts the arrays enclosing it.
    mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int8(Int8(bitPattern: try read(UInt8.self)))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int16: return .int16(Int16(bitPattern: try read(UInt16.self)))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int32: return .int32(Int32(bitPattern: try read(UInt32.self)))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self)))
        case .uint64: return .uint64(try read(UInt64.self))
        case .int64: return .int64(Int64(bitPattern: try read(UInt64.self)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self)))
        case .bool: return .bool(try read(UInt8.self) != 0)
        case .string: return .string(try readString())
        case .array: return try readArray(key: key, depth: depth + 1)
        }
    }

    /// An array body: element type (u32), count (u64), elements. `depth` is this array's nesting level (1 = top).
    mutating func readArray(key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        let at = position
        if depth > GGUFLimits.maxArrayDepth {
            throw GGUFError.nestingTooDeep(offset: at, depth: depth, key: key)
        }
        let rawType = try read(UInt32.self)
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw GGUFError.unknownValueType(offset: at, rawType: rawType, key: key)
        }
        let countAt = position
        let rawCount = try read(UInt64.self)
        let n = try checkCount(rawCount, minimumSize: elementType.minimumEncodedSize, at: countAt,
                               what: "length of \(elementType) array in key '\(key)'")
        var out: [GGUFValue] = []
        out.reserveCapacity(n)
        // Fixed-size elements: the whole run was bounds-checked by checkCount above.
        switch elementType {
        case .uint8: for _ in 0..<n { out.append(.uint8(readUnchecked(UInt8.self))) }
        case .int8: for _ in 0..<n { out.append(.int8(Int8(bitPattern: readUnchecked(UInt8.self)))) }
        case .uint16: for _ in 0..<n { out.append(.uint16(readUnchecked(UInt16.self))) }
        case .int16: for _ in 0..<n { out.append(.int16(Int16(bitPattern: readUnchecked(UInt16.self)))) }
        case .uint32: for _ in 0..<n { out.append(.uint32(readUnchecked(UInt32.self))) }
        case .int32: for _ in 0..<n { out.append(.int32(Int32(bitPattern: readUnchecked(UInt32.self)))) }
        case .float32: for _ in 0..<n { out.append(.float32(Float(bitPattern: readUnchecked(UInt32.self)))) }
        case .uint64: for _ in 0..<n { out.append(.uint64(readUnchecked(UInt64.self))) }
        case .int64: for _ in 0..<n { out.append(.int64(Int64(bitPattern: readUnchecked(UInt64.self)))) }
        case .float64: for _ in 0..<n { out.append(.float64(Double(bitPattern: readUnchecked(UInt64.self)))) }
        case .bool: for _ in 0..<n { out.append(.bool(readUnchecked(UInt8.self) != 0)) }
        case .string: for _ in 0..<n { out.append(.string(try readString())) }
        case .array: for _ in 0..<n { out.append(try readArray(key: key, depth: depth + 1)) }
        }
        return .array(elementType, out)
    }

    /// The rest of a tensor info after its name: dimension count, dimensions, type, data offset.
    mutating func readTensorInfo(name: String, infoAt: Int, alignment: Int) throws(GGUFError) -> GGUFTensorInfo {
        let dimsAt = position
        let nDims = try read(UInt32.self)
        guard nDims >= 1 && nDims <= UInt32(GGUFLimits.maxDimensions) else {
            throw GGUFError.invalidDimensionCount(offset: dimsAt, count: nDims, tensor: name)
        }
        var dims: [Int] = []
        dims.reserveCapacity(Int(nDims))
        var elements = 1
        for j in 0..<Int(nDims) {
            let at = position
            let d = try read(UInt64.self)
            guard d != 0 && d <= UInt64(Int64.max) else {
                throw GGUFError.invalidDimension(offset: at, index: j, value: d, tensor: name)
            }
            let (e, overflow) = elements.multipliedReportingOverflow(by: Int(d))
            if overflow { throw GGUFError.elementCountOverflow(offset: infoAt, tensor: name) }
            elements = e
            dims.append(Int(d))
        }
        let typeAt = position
        let rawType = try read(UInt32.self)
        guard let type = GGMLType(rawValue: rawType) else {
            throw GGUFError.unknownTensorType(offset: typeAt, rawType: rawType, tensor: name)
        }
        guard dims[0] % type.blockSize == 0 else {
            throw GGUFError.rowNotMultipleOfBlock(offset: infoAt, rowLength: dims[0], type: type, tensor: name)
        }
        // Byte size must fit too (a block is larger than one element for every plain type but i8).
        if (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize).overflow {
            throw GGUFError.elementCountOverflow(offset: infoAt, tensor: name)
        }
        let offsetAt = position
        let dataOffset = try read(UInt64.self)
        guard dataOffset % UInt64(alignment) == 0 else {
            throw GGUFError.misalignedTensor(offset: offsetAt, dataOffset: dataOffset, alignment: alignment, tensor: name)
        }
        guard dataOffset <= UInt64(Int.max) else {
            throw GGUFError.tensorDataOutOfBounds(tensor: name, dataOffset: dataOffset, start: Int.max,
                                                  byteCount: 0, fileSize: end)
        }
        return GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(dataOffset))
    }
}
