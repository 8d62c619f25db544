/// The special (control, user-defined, unknown) tokens of a vocabulary, and the first stage of
/// every tokenizer: cutting their texts out of the input before the model's own algorithm runs
/// (llama.cpp's special-token partition).
struct SpecialTokens: Sendable {
    struct Entry: Sendable {
        var id: Int32
        var bytes: [UInt8]
        /// User-defined tokens are split out even when special parsing is off (as llama.cpp does).
        var alwaysParsed: Bool
    }

    struct Fragment {
        var start: Int, end: Int
        var token: Int32   // -1 for raw text
    }

    /// Texts that end a turn in common chat formats; llama.cpp treats such control tokens as
    /// end-of-generation too.
    static let endOfTurnTexts: Set<String> = [
        "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "<EOT>",
    ]

    /// Longest first (ties: lower id first): the order the partition looks for them.
    let entries: [Entry]
    let ids: [String: Int32]
    /// EOS, EOT and the control tokens whose text ends a turn.
    let endOfGeneration: Set<Int32>

    init(tokens: [String], types: [TokenType], eosId: Int32?, eotId: Int32?) {
        var entries: [Entry] = []
        var ids: [String: Int32] = [:]
        var eog = Set([eosId, eotId].compactMap { $0 })
        for (i, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let text = tokens[i]
            ids[text] = Int32(i)
            if !text.isEmpty { entries.append(Entry(id: Int32(i), bytes: Array(text.utf8), alwaysParsed: type == .userDefined)) }
            if type == .control && Self.endOfTurnTexts.contains(text) { eog.insert(Int32(i)) }
        }
        entries.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        self.entries = entries
        self.ids = ids
        self.endOfGeneration = eog
    }

    /// Cuts special-token texts out of `bytes`. Like llama.cpp, tokens are taken longest first over
    /// the whole text (each later, shorter token is searched only in what is still raw text).
    func fragments(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        var fragments = [Fragment(start: 0, end: bytes.count, token: -1)]
        var next: [Fragment] = []
        for special in entries where parseSpecial || special.alwaysParsed {
            let pattern = special.bytes
            let m = pattern.count
            let first = pattern[0]
            var changed = false
            next.removeAll(keepingCapacity: true)
            for f in fragments {
                guard f.token < 0, f.end - f.start >= m else { next.append(f); continue }
                // Every occurrence in this raw fragment, left to right.
                var rawStart = f.start
                var p = f.start
                let last = f.end - m
                while p <= last {
                    if bytes[p] == first {
                        var k = 1
                        while k < m && bytes[p + k] == pattern[k] { k += 1 }
                        if k == m {
                            if p > rawStart { next.append(Fragment(start: rawStart, end: p, token: -1)) }
                            next.append(Fragment(start: p, end: p + m, token: special.id))
                            p += m
                            rawStart = p
                            changed = true
                            continue
                        }
                    }
                    p += 1
                }
                if rawStart < f.end { next.append(Fragment(start: rawStart, end: f.end, token: -1)) }
            }
            if changed { swap(&fragments, &next) }
        }
        return fragments
    }
}
