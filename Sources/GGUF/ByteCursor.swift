/// A bounds-checked little-endian reader over bytes the caller keeps alive.
/// Every read checks the remaining length first, so malformed input becomes a `GGUFError`, never a trap.
struct ByteCursor {
    let base: UnsafeRawPointer
    let end: Int
    var position: Int = 0
    /// What is being read, for error messages ("header", "value of key 'x'", "tensor info 'y'").
    var context: String = "header"

    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.end = count
    }

    @inline(__always) var remaining: Int { end - position }

    @inline(__always) func require(_ n: Int) throws(GGUFError) {
        if n > end - position {
            throw GGUFError.truncated(offset: position, needed: n, available: end - position, context: context)
        }
    }

    @inline(__always) mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size)
        return readUnchecked(T.self)
    }

    /// For bulk reads whose total length was checked up front.
    @inline(__always) mutating func readUnchecked<T: FixedWidthInteger>(_: T.Type) -> T {
        let v = base.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (no terminator).
    /// Invalid UTF-8 is repaired with U+FFFD rather than refused, as llama.cpp keeps such tokens too.
    @inline(__always) mutating func readString() throws(GGUFError) -> String {
        let at = position
        let length = try read(UInt64.self)
        guard length <= UInt64(end - position) else {
            throw GGUFError.stringPastEnd(offset: at, length: length, available: end - position, context: context)
        }
        let n = Int(length)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + position, count: n), as: UTF8.self)
        position += n
        return s
    }

    /// Refuses a count larger than the remaining bytes could hold at `minimumSize` bytes per item,
    /// so nothing is ever reserved or looped over from an unchecked count.
    @inline(__always)
    func checkCount(_ count: UInt64, minimumSize: Int, at offset: Int, what: @autoclosure () -> String) throws(GGUFError) -> Int {
        let limit = max(0, end - position) / minimumSize
        guard count <= UInt64(limit) else {
            throw GGUFError.countTooLarge(offset: offset, count: count, limit: limit, context: what())
        }
        return Int(count)
    }
}
