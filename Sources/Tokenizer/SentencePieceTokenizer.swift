import GGUF

/// SentencePiece-style tokenization as llama.cpp does it for GGUF `tokenizer.ggml.model = "llama"`
/// (Llama 1/2, Gemma): spaces are spelled `▁`, pieces merge by score, unknown characters fall back
/// to byte tokens `<0xNN>`.
///
/// Encoding:
/// 1. special tokens are cut out of the input (`SpecialTokens`; user-defined ones always);
/// 2. each raw fragment (with a leading space when `addsSpacePrefix` and it follows a special token
///    or starts the text) has its spaces replaced by `▁` and is split into characters;
/// 3. adjacent symbols whose concatenation is a vocabulary entry are merged, highest score first
///    (ties: leftmost first), until no pair is a token;
/// 4. each final symbol is its token, or its UTF-8 bytes as byte tokens.
///
/// Immutable after `init`; safe to share between threads.
public final class SentencePieceTokenizer: Tokenizer {
    public let vocabularySize: Int
    public let bosId: Int32?
    public let eosId: Int32?
    public let eotId: Int32?
    public let unknownId: Int32?
    public let addsBOS: Bool
    /// Whether a space is put in front of the text (GGUF `tokenizer.ggml.add_space_prefix`).
    public let addsSpacePrefix: Bool
    public let endOfGenerationIds: Set<Int32>

    private let tokens: [String]
    private let types: [TokenType]
    private let scores: [Float]
    private let idOf: [String: Int32]
    /// The token for each byte value (`<0xNN>`, else the one-byte text), -1 if neither exists.
    private let byteTokens: [Int32]
    private let specials: SpecialTokens
    private let decoded: [UInt8]
    private let decodedStart: [Int32]

    static let spaceMark = "\u{2581}"  // ▁

    /// - Parameters:
    ///   - tokens: vocabulary strings (spaces spelled `▁`), index = id.
    ///   - scores: one per token; higher merges first. Empty means all 0.
    ///   - tokenTypes: `TokenType` raw values per token; empty means all normal.
    public init(tokens: [String], scores: [Float] = [], tokenTypes: [Int32] = [],
                bosId: Int32? = nil, eosId: Int32? = nil, eotId: Int32? = nil, unknownId: Int32? = nil,
                addBOS: Bool = true, addSpacePrefix: Bool = false) throws {
        guard !tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        let n = tokens.count
        if !tokenTypes.isEmpty && tokenTypes.count != n {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.token_type", expected: n, found: tokenTypes.count)
        }
        if !scores.isEmpty && scores.count != n {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.scores", expected: n, found: scores.count)
        }
        for (key, id) in [("bos", bosId), ("eos", eosId), ("eot", eotId), ("unknown", unknownId)] {
            if let id, id < 0 || Int(id) >= n {
                throw TokenizerError.specialIdOutOfRange(key: "tokenizer.ggml.\(key)_token_id", id: Int(id), vocabularySize: n)
            }
        }
        vocabularySize = n
        self.tokens = tokens
        let types = tokenTypes.isEmpty
            ? Array(repeating: TokenType.normal, count: n)
            : tokenTypes.map { TokenType(rawValue: $0) ?? .undefined }
        self.types = types
        self.scores = scores.isEmpty ? Array(repeating: 0, count: n) : scores
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.unknownId = unknownId
        self.addsBOS = addBOS
        self.addsSpacePrefix = addSpacePrefix

        var idOf: [String: Int32] = [:]
        idOf.reserveCapacity(n)
        for (i, t) in tokens.enumerated() { idOf[t] = Int32(i) }  // a repeated spelling keeps the last id, as llama.cpp
        self.idOf = idOf

        byteTokens = (0..<256).map { b in
            let hex = String(b, radix: 16, uppercase: true)
            if let id = idOf["<0x\(b < 16 ? "0" : "")\(hex)>"] { return id }
            if b < 0x80, let id = idOf[String(UnicodeScalar(UInt8(b)))] { return id }
            return -1
        }

        specials = SpecialTokens(tokens: tokens, types: types, eosId: eosId, eotId: eotId)
        endOfGenerationIds = specials.endOfGeneration

        var decoded: [UInt8] = []
        var starts: [Int32] = [0]
        decoded.reserveCapacity(n * 6)
        starts.reserveCapacity(n + 1)
        let mark = Array(Self.spaceMark.utf8)
        for (i, t) in tokens.enumerated() {
            switch types[i] {
            case .control, .unknown, .userDefined: decoded.append(contentsOf: t.utf8)
            case .unused: break
            case .byte:
                if let b = Self.byteValue(t) { decoded.append(b) } else { decoded.append(contentsOf: t.utf8) }
            default:
                // ▁ → space
                let u = Array(t.utf8)
                var j = 0
                while j < u.count {
                    if j + 2 < u.count, u[j] == mark[0], u[j + 1] == mark[1], u[j + 2] == mark[2] {
                        decoded.append(0x20)
                        j += 3
                    } else {
                        decoded.append(u[j])
                        j += 1
                    }
                }
            }
            starts.append(Int32(decoded.count))
        }
        self.decoded = decoded
        self.decodedStart = starts
    }

    /// The tokenizer described by GGUF metadata (keys as llama.cpp reads them).
    public convenience init(metadata: [String: GGUFValue]) throws {
        let m = MetadataReader(metadata)
        let model = try m.string("tokenizer.ggml.model")
        guard model == "llama" else { throw TokenizerError.unsupportedModel(model) }
        let tokens = try m.strings("tokenizer.ggml.tokens")
        let types = try m.optionalInts("tokenizer.ggml.token_type") ?? []
        try self.init(
            tokens: tokens, scores: try m.optionalFloats("tokenizer.ggml.scores") ?? [],
            tokenTypes: types.map { Int32(truncatingIfNeeded: $0) },
            bosId: try m.optionalId("tokenizer.ggml.bos_token_id"),
            eosId: try m.optionalId("tokenizer.ggml.eos_token_id"),
            eotId: try m.optionalId("tokenizer.ggml.eot_token_id"),
            unknownId: try m.optionalId("tokenizer.ggml.unknown_token_id"),
            // llama.cpp's defaults for this tokenizer model: BOS added, space prefix on.
            addBOS: try m.optionalBool("tokenizer.ggml.add_bos_token") ?? true,
            addSpacePrefix: try m.optionalBool("tokenizer.ggml.add_space_prefix") ?? true)
    }

    public convenience init(gguf: GGUFFile) throws {
        try self.init(metadata: gguf.metadata)
    }

    /// `<0xNN>` → NN.
    static func byteValue(_ piece: String) -> UInt8? {
        let u = Array(piece.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
              u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }

    // MARK: Tokenizer

    public func piece(_ id: Int32) -> String {
        id >= 0 && Int(id) < vocabularySize ? tokens[Int(id)] : ""
    }

    public func tokenType(_ id: Int32) -> TokenType {
        id >= 0 && Int(id) < vocabularySize ? types[Int(id)] : .undefined
    }

    /// The merge score of `id` (0 when out of range).
    public func score(_ id: Int32) -> Float {
        id >= 0 && Int(id) < vocabularySize ? scores[Int(id)] : 0
    }

    public func id(forSpecial text: String) -> Int32? { specials.ids[text] }

    public func appendBytes(of id: Int32, includeSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0 && Int(id) < vocabularySize else { return }
        let i = Int(id)
        if !includeSpecial && (types[i] == .control || types[i] == .unknown) { return }
        bytes.append(contentsOf: decoded[Int(decodedStart[i])..<Int(decodedStart[i + 1])])
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [Int32] = []
            out.reserveCapacity(bytes.count / 3 + 1)
            var previousWasSpecial = true   // the text's start counts as following a special token
            var work = Workspace()
            for fragment in specials.fragments(bytes, parseSpecial: parseSpecial) {
                if fragment.token >= 0 {
                    out.append(fragment.token)
                    previousWasSpecial = true
                } else {
                    encodeFragment(UnsafeBufferPointer(rebasing: bytes[fragment.start..<fragment.end]),
                                   spacePrefix: addsSpacePrefix && previousWasSpecial, &work, &out)
                    previousWasSpecial = false
                }
            }
            return out
        }
    }

    // MARK: Merging by score

    struct Symbol {
        var start: Int, length: Int
        var prev: Int, next: Int
    }

    struct Bigram {
        var score: Float
        var left: Int, right: Int
        var length: Int

        /// Pops first: higher score, then the leftmost.
        func before(_ o: Bigram) -> Bool { score != o.score ? score > o.score : left < o.left }
    }

    /// Working memory of one `encode` call.
    struct Workspace {
        var text: [UInt8] = []
        var symbols: [Symbol] = []
        var heap: [Bigram] = []
    }

    private func encodeFragment(_ bytes: UnsafeBufferPointer<UInt8>, spacePrefix: Bool,
                                _ w: inout Workspace, _ out: inout [Int32]) {
        // Spaces → ▁.
        w.text.removeAll(keepingCapacity: true)
        if spacePrefix { w.text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for b in bytes {
            if b == 0x20 { w.text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { w.text.append(b) }
        }
        guard !w.text.isEmpty else { return }
        // One symbol per UTF-8 character.
        w.symbols.removeAll(keepingCapacity: true)
        var i = 0
        while i < w.text.count {
            let b0 = w.text[i]
            let len = min(b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4, w.text.count - i)
            w.symbols.append(Symbol(start: i, length: len, prev: w.symbols.count - 1, next: w.symbols.count + 1))
            i += len
        }
        w.symbols[w.symbols.count - 1].next = -1

        w.heap.removeAll(keepingCapacity: true)
        for k in 1..<w.symbols.count { addBigram(k - 1, k, &w) }
        while let top = Self.pop(&w.heap) {
            let l = w.symbols[top.left], r = w.symbols[top.right]
            // Stale: one side was merged away or grew since this pair was queued.
            if l.length == 0 || r.length == 0 || l.length + r.length != top.length { continue }
            w.symbols[top.left].length += r.length
            w.symbols[top.left].next = r.next
            w.symbols[top.right].length = 0
            if r.next >= 0 { w.symbols[r.next].prev = top.left }
            if l.prev >= 0 { addBigram(l.prev, top.left, &w) }
            if r.next >= 0 { addBigram(top.left, r.next, &w) }
        }

        var k = 0
        while k >= 0 {
            let s = w.symbols[k]
            if let id = tokenId(w.text, s.start, s.length) {
                out.append(id)
            } else {
                // Only single characters can be missing (every merge makes a token): spell them in bytes.
                for j in s.start..<(s.start + s.length) {
                    let t = byteTokens[Int(w.text[j])]
                    if t >= 0 { out.append(t) } else if let unk = unknownId { out.append(unk) }
                }
            }
            k = s.next
        }
    }

    private func tokenId(_ text: [UInt8], _ start: Int, _ length: Int) -> Int32? {
        idOf[String(decoding: text[start..<(start + length)], as: UTF8.self)]
    }

    private func addBigram(_ left: Int, _ right: Int, _ w: inout Workspace) {
        let l = w.symbols[left], r = w.symbols[right]
        guard let id = tokenId(w.text, l.start, l.length + r.length) else { return }
        Self.push(Bigram(score: scores[Int(id)], left: left, right: right, length: l.length + r.length), &w.heap)
    }

    private static func push(_ b: Bigram, _ heap: inout [Bigram]) {
        heap.append(b)
        var c = heap.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard heap[c].before(heap[p]) else { break }
            heap.swapAt(c, p)
            c = p
        }
    }

    private static func pop(_ heap: inout [Bigram]) -> Bigram? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap[0] = last
        var p = 0
        while true {
            let l = 2 * p + 1, r = l + 1
            var best = p
            if l < heap.count && heap[l].before(heap[best]) { best = l }
            if r < heap.count && heap[r].before(heap[best]) { best = r }
            if best == p { break }
            heap.swapAt(p, best)
            p = best
        }
        return top
    }
}
