/// GPT-2's reversible byte ⇄ character mapping. Byte-level BPE vocabularies spell every byte as a
/// printable character so that merges never see raw control bytes or spaces: printable Latin-1 bytes
/// (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves, the other 68 bytes take U+0100 onward in byte
/// order (space → `Ġ` U+0120, newline → `Ċ` U+010A).
enum ByteLevel {
    /// The character (scalar value) that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if standsForItself(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte` for scalars below 324; -1 where a scalar stands for no byte.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for b in 0..<256 { table[Int(scalarForByte[b])] = Int16(b) }
        return table
    }()

    static func standsForItself(_ b: Int) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// The vocabulary spelling of raw bytes (e.g. " hi" → "Ġhi").
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalarForByte[Int(b)])!) }
        return String(s)
    }

    /// The bytes a vocabulary spelling stands for. Characters outside the mapping (possible in
    /// user-defined tokens) are kept as their own UTF-8.
    static func decode(_ text: String, into out: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            let v = Int(scalar.value)
            if v < byteForScalar.count, byteForScalar[v] >= 0 {
                out.append(UInt8(byteForScalar[v]))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}
