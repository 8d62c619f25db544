extension PreTokenizer {
    /// The Qwen2 pattern (`tokenizer.ggml.pre` = `qwen2`), scanned as llama.cpp's
    /// `unicode_regex_split_custom_qwen2` does, alternatives tried in order at each position:
    ///
    ///     (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N} | ' '?[^\s\p{L}\p{N}]+[\r\n]*
    ///     | \s*[\r\n]+ | \s+(?!\S) | \s+
    ///
    /// Unlike GPT-2's: contractions in either case, a letter run takes one leading character of any
    /// kind but a newline or number (`(word`, ` word`, `\tword`), every number character is a piece
    /// of its own, punctuation runs swallow the newlines after them, and a whitespace run containing
    /// a newline ends at its last newline. Look-ahead ends at `e`, as in `splitGPT2`.
    static func splitQwen2(_ cp: UnsafeBufferPointer<UInt32>, _ fl: UnsafeBufferPointer<UInt8>,
                           _ s: Int, _ e: Int, _ out: inout [Int32]) {
        let L = CharacterClass.letter, N = CharacterClass.number, W = CharacterClass.whitespace
        @inline(__always) func lower(_ c: UInt32) -> UInt32 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }
        @inline(__always) func isNewline(_ c: UInt32) -> Bool { c == 0x0A || c == 0x0D }
        var pos = s
        while pos < e {
            let c = cp[pos], f = fl[pos]
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == 0x27, pos + 1 < e {
                let n = lower(cp[pos + 1])
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {  // s t m d
                    pos += 2
                    out.append(Int32(pos))
                    continue
                }
                if pos + 2 < e {
                    let nn = lower(cp[pos + 2])
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {  // re ve ll
                        pos += 3
                        out.append(Int32(pos))
                        continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !isNewline(c) && f & N == 0, f & L != 0 || (pos + 1 < e && fl[pos + 1] & L != 0) {
                var i = pos + 1
                while i < e && fl[i] & L != 0 { i += 1 }
                pos = i
                out.append(Int32(pos))
                continue
            }
            // \p{N}
            if f & N != 0 {
                pos += 1
                out.append(Int32(pos))
                continue
            }
            // ' '?[^\s\p{L}\p{N}]+[\r\n]*
            let probe = c == 0x20 ? pos + 1 : pos
            if probe < e && fl[probe] & (L | N | W) == 0 {
                var i = probe + 1
                while i < e && fl[i] & (L | N | W) == 0 { i += 1 }
                while i < e && isNewline(cp[i]) { i += 1 }
                pos = i
                out.append(Int32(pos))
                continue
            }
            // \s*[\r\n]+ ends at the run's last newline; else \s+(?!\S) leaves the last whitespace to
            // prefix the next piece, and \s+ takes a final run.
            var i = pos, afterNewline = -1
            while i < e && fl[i] & W != 0 {
                if isNewline(cp[i]) { afterNewline = i + 1 }
                i += 1
            }
            let count = i - pos
            if afterNewline > 0 {
                pos = afterNewline
            } else if count > 1 && i < e {
                pos = i - 1
            } else if count > 0 {
                pos = i
            } else {
                pos += 1  // unreachable: every scalar is a letter, number, whitespace or other
            }
            out.append(Int32(pos))
        }
    }
}
