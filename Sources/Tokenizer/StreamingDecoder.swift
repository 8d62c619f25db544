/// Turns a stream of token ids into text as it is generated. A byte-level token may end in the
/// middle of a multi-byte character (an emoji often spans several tokens); such a tail is held back
/// until the character completes, so every returned string is whole UTF-8 and the concatenation of
/// all `push` results plus `flush()` equals `tokenizer.decode(allIds)`.
public struct StreamingDecoder: Sendable {
    public let tokenizer: any Tokenizer
    public let includeSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer, includeSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.includeSpecial = includeSpecial
    }

    /// Bytes held back, waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    /// Adds one token; returns the text that is now complete (possibly "").
    public mutating func push(_ id: Int32) -> String {
        tokenizer.appendBytes(of: id, includeSpecial: includeSpecial, to: &pending)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is held back (an unfinished character becomes U+FFFD) and resets.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that can be decoded now: everything except a trailing sequence
    /// that is a valid but unfinished character. Cutting right before a lead byte never changes how
    /// the bytes before it decode, so emitting the prefix early gives the same text as decoding all.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        // Find the last byte that is not a continuation byte, at most 3 back.
        var j = n - 1
        while j >= 0 && j >= n - 4 && b[j] & 0xC0 == 0x80 { j -= 1 }
        guard j >= 0, j >= n - 4 else { return n }
        let lead = b[j]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n   // ASCII or an invalid lead byte: nothing to wait for
        }
        let have = n - j
        guard have < need else { return n }
        // The second byte's allowed range depends on the lead (no overlongs, surrogates, > U+10FFFF).
        if have >= 2 {
            let second = b[j + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = second >= 0xA0
            case 0xED: ok = second <= 0x9F
            case 0xF0: ok = second >= 0x90
            case 0xF4: ok = second <= 0x8F
            default: ok = true
            }
            if !ok { return n }
        }
        return j
    }
}
