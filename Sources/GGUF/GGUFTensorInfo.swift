/// One tensor's description from the GGUF header.
public struct GGUFTensorInfo: Sendable, Equatable, Hashable {
    public let name: String
    /// ggml order: `dimensions[0]` is the contiguous (row) length, `dimensions[1]` the number of rows, …
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset relative to the start of the tensor data section (`GGUFFile.dataOffset`).
    public let offset: Int

    public init(name: String, dimensions: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
    }

    /// Product of the dimensions. (The reader has already checked that it does not overflow.)
    public var elementCount: Int {
        var n = 1
        for d in dimensions { n = n &* d }
        return n
    }

    /// Bytes of tensor data in the file.
    public var byteCount: Int { type.byteCount(elements: elementCount) }

    /// Elements per row (`dimensions[0]`).
    public var rowLength: Int { dimensions.first ?? 1 }

    /// Number of rows: the product of every dimension after the first.
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }

    /// Bytes per row.
    public var rowByteCount: Int { type.byteCount(elements: rowLength) }
}
