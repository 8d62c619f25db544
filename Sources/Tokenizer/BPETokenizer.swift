/// Byte-level BPE as GPT-2 and llama.cpp do it (GGUF `tokenizer.ggml.model = "gpt2"`).
///
/// Encoding runs the stages of the pipeline in turn:
/// 1. special tokens: control/user-defined texts are cut out of the input (longest first);
/// 2. pre-tokenizer: each remaining fragment is split into pieces (`PreTokenizer`);
/// 3. model: each piece's UTF-8 bytes start as single-byte tokens and are merged by rank.
/// Decoding maps each token's characters back to bytes (`ByteLevel`).
///
/// Immutable after `init`; `encode` keeps its working memory on the stack of the call, so one
/// instance serves any number of threads.
public final class BPETokenizer: Tokenizer {
    public let vocabularySize: Int
    public let bosId: Int32?
    public let eosId: Int32?
    public let eotId: Int32?
    public let paddingId: Int32?
    public let addsBOS: Bool
    public let endOfGenerationIds: Set<Int32>
    public let preTokenizer: PreTokenizer

    private let tokens: [String]
    private let types: [TokenType]
    /// Token id of each byte's single-character spelling (-1 if the vocabulary lacks it).
    private let byteTokens: [Int32]
    private let merges: MergeTable
    private let specials: SpecialTokens
    /// Decoded bytes of every token, back to back; token i is `decoded[decodedStart[i]..<decodedStart[i+1]]`.
    private let decoded: [UInt8]
    private let decodedStart: [Int32]

    /// - Parameters:
    ///   - tokens: vocabulary strings in GPT-2 byte-level spelling, index = id.
    ///   - merges: merge rules "left right", index = rank (lower merges first).
    ///   - tokenTypes: `TokenType` raw values per token; empty means all normal.
    ///   - preTokenizer: `tokenizer.ggml.pre` name (e.g. "smollm", "gpt2"); nil means llama.cpp's default.
    public init(tokens: [String], merges: [String], tokenTypes: [Int32] = [],
                bosId: Int32? = nil, eosId: Int32? = nil, eotId: Int32? = nil, paddingId: Int32? = nil,
                addBOS: Bool = false, preTokenizer: String? = "gpt2") throws {
        guard !tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        let n = tokens.count
        if !tokenTypes.isEmpty && tokenTypes.count != n {
            throw TokenizerError.countMismatch(key: "tokenizer.ggml.token_type", expected: n, found: tokenTypes.count)
        }
        for (key, id) in [("bos", bosId), ("eos", eosId), ("eot", eotId), ("padding", paddingId)] {
            if let id, id < 0 || Int(id) >= n {
                throw TokenizerError.specialIdOutOfRange(key: "tokenizer.ggml.\(key)_token_id", id: Int(id), vocabularySize: n)
            }
        }
        self.preTokenizer = try PreTokenizer(name: preTokenizer)
        self.vocabularySize = n
        self.tokens = tokens
        self.types = tokenTypes.isEmpty
            ? Array(repeating: .normal, count: n)
            : tokenTypes.map { TokenType(rawValue: $0) ?? .undefined }
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.paddingId = paddingId
        self.addsBOS = addBOS

        var idOf: [String: Int32] = [:]
        idOf.reserveCapacity(n)
        for (i, t) in tokens.enumerated() { idOf[t] = Int32(i) }  // a repeated spelling keeps the last id, as llama.cpp

        byteTokens = (0..<256).map { b in
            idOf[String(Unicode.Scalar(ByteLevel.scalarForByte[b])!)] ?? -1
        }

        var table = MergeTable(capacityFor: merges.count)
        for (rank, line) in merges.enumerated() {
            // Split at the first space after the first byte, as llama.cpp does.
            let utf8 = line.utf8
            guard let space = utf8.dropFirst().firstIndex(of: 0x20) else {
                throw TokenizerError.invalidMerge(index: rank, text: line)
            }
            let left = String(line[..<space])
            let right = String(line[utf8.index(after: space)...])
            // Rules whose parts or result are not tokens can never produce a token; skip them.
            guard let l = idOf[left], let r = idOf[right], let m = idOf[left + right] else { continue }
            table.insert(left: l, right: r, rank: UInt32(rank), merged: m)
        }
        self.merges = table

        specials = SpecialTokens(tokens: tokens, types: types, eosId: eosId, eotId: eotId)
        endOfGenerationIds = specials.endOfGeneration

        var decoded: [UInt8] = []
        var starts: [Int32] = [0]
        decoded.reserveCapacity(n * 6)
        starts.reserveCapacity(n + 1)
        for (i, t) in tokens.enumerated() {
            switch types[i] {
            case .control, .unknown: decoded.append(contentsOf: t.utf8)   // shown verbatim, only on request
            case .unused: break
            default: ByteLevel.decode(t, into: &decoded)
            }
            starts.append(Int32(decoded.count))
        }
        self.decoded = decoded
        self.decodedStart = starts
    }

    // MARK: Tokenizer

    public func piece(_ id: Int32) -> String {
        id >= 0 && Int(id) < vocabularySize ? tokens[Int(id)] : ""
    }

    public func tokenType(_ id: Int32) -> TokenType {
        id >= 0 && Int(id) < vocabularySize ? types[Int(id)] : .undefined
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
        return text.withUTF8 { encode(utf8: $0, parseSpecial: parseSpecial) }
    }

    /// Encodes UTF-8 bytes (which must be valid UTF-8, as any Swift String is).
    func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, forceHeap: Bool = false) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(bytes.count / 3 + 1)
        var state = EncodeState()
        merges.withView { table in
            for fragment in specials.fragments(bytes, parseSpecial: parseSpecial) {
                if fragment.token >= 0 {
                    out.append(fragment.token)
                } else {
                    encodeFragment(UnsafeBufferPointer(rebasing: bytes[fragment.start..<fragment.end]),
                                   table, &state, &out, forceHeap)
                }
            }
        }
        return out
    }

    // MARK: Stages 2 and 3: pre-tokenizer and merges

    /// Working memory of one `encode` call.
    struct EncodeState {
        var scalars: [UInt32] = []
        var flags: [UInt8] = []
        var offsets: [Int32] = []   // byte offset of each scalar, plus the end
        var ends: [Int32] = []
        var scratch: [Int32] = []
        var bpe = BPEWorkspace()
    }

    private func encodeFragment(_ bytes: UnsafeBufferPointer<UInt8>, _ table: MergeTable.View,
                                _ st: inout EncodeState, _ out: inout [Int32], _ forceHeap: Bool) {
        st.scalars.removeAll(keepingCapacity: true)
        st.flags.removeAll(keepingCapacity: true)
        st.offsets.removeAll(keepingCapacity: true)
        // Decode UTF-8 (known valid) into scalars and their classes.
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = UInt32(bytes[i])
            var v: UInt32
            var len: Int
            if b0 < 0x80 {
                v = b0; len = 1
            } else if b0 < 0xE0 {
                v = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); len = 2
            } else if b0 < 0xF0 {
                v = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); len = 3
            } else {
                v = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                    | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F); len = 4
            }
            st.scalars.append(v)
            st.flags.append(CharacterClass.flags(v))
            st.offsets.append(Int32(i))
            i += len
        }
        st.offsets.append(Int32(n))

        st.scalars.withUnsafeBufferPointer { s in
            st.flags.withUnsafeBufferPointer { f in
                preTokenizer.split(s, f, ends: &st.ends, scratch: &st.scratch)
            }
        }

        byteTokens.withUnsafeBufferPointer { byteTokens in
            var start = 0
            for end in st.ends {
                let a = Int(st.offsets[start]), b = Int(st.offsets[Int(end)])
                start = Int(end)
                st.bpe.ids.removeAll(keepingCapacity: true)
                for p in a..<b {
                    let t = byteTokens[Int(bytes[p])]
                    if t >= 0 { st.bpe.ids.append(t) }  // a vocabulary without this byte cannot spell it
                }
                if st.bpe.ids.isEmpty { continue }
                st.bpe.merge(table, count: st.bpe.ids.count, into: &out, forceHeap: forceHeap)
            }
        }
    }
}
