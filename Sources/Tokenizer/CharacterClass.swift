/// Unicode classes the pre-tokenizer regexes ask about, as bit flags per scalar:
/// `\p{L}`, `\p{N}`, `\s` (the White_Space property) and `\p{P}`.
enum CharacterClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 4
    static let punctuation: UInt8 = 8

    /// Flags for the Basic Multilingual Plane, computed once (a few ms) so the scanner does a table
    /// load per scalar instead of a property query.
    static let bmp: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    @inline(__always)
    static func flags(_ v: UInt32) -> UInt8 {
        v < 0x10000 ? bmp.withUnsafeBufferPointer { $0[Int(v)] } : compute(v)
    }

    static func compute(_ v: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(v) else { return 0 }  // lone surrogates
        let p = scalar.properties
        var f: UInt8 = 0
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            f |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            f |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            f |= punctuation
        default:
            break
        }
        if p.isWhitespace { f |= whitespace }
        return f
    }
}
