import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// A hand-made byte-level vocabulary: ids 0–255 are the single bytes in GPT-2 spelling, then the
/// result of each merge in order, then `extra` tokens.
struct TinyVocabulary {
    var tokens: [String]
    var types: [Int32]
    var merges: [String]

    init(merges: [String], extra: [(String, TokenType)] = []) {
        tokens = (0..<256).map { ByteLevel.encode([UInt8($0)]) }
        types = Array(repeating: TokenType.normal.rawValue, count: 256)
        self.merges = merges
        for m in merges {
            let merged = m.replacingOccurrences(of: " ", with: "")
            if !tokens.contains(merged) {
                tokens.append(merged)
                types.append(TokenType.normal.rawValue)
            }
        }
        for (text, type) in extra {
            tokens.append(text)
            types.append(type.rawValue)
        }
    }

    func tokenizer(pre: String? = "gpt2") throws -> BPETokenizer {
        try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types, bosId: nil, eosId: nil, preTokenizer: pre)
    }

    func id(_ text: String) -> Int32 { Int32(tokens.firstIndex(of: text)!) }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

struct ByteLevelTests {
    /// GPT-2's table: printable Latin-1 stands for itself, the rest take U+0100… in byte order.
    @Test func mapping() {
        #expect(ByteLevel.encode([0x20]) == "Ġ")          // U+0120
        #expect(ByteLevel.encode([0x0A]) == "Ċ")          // U+010A
        #expect(ByteLevel.encode([0x00]) == "\u{100}")
        #expect(ByteLevel.encode([0x7F]) == "\u{121}")
        #expect(ByteLevel.encode([0xA0]) == "\u{142}")
        #expect(ByteLevel.encode([0xAD]) == "\u{143}")
        #expect(ByteLevel.encode([0x41, 0x7E, 0xA1, 0xFF]) == "A~¡ÿ")
        #expect(ByteLevel.encode(Array("é".utf8)) == "Ã©")
        var all: [UInt8] = []
        ByteLevel.decode(ByteLevel.encode(0...255), into: &all)
        #expect(all == Array(0...255))
        #expect(Set(ByteLevel.scalarForByte).count == 256)
    }
}

struct BPEMergeTests {
    @Test func rankDecidesOrder() throws {
        let v1 = TinyVocabulary(merges: ["a b", "b c"])
        #expect(try v1.tokenizer().encode("abc") == [v1.id("ab"), v1.id("c")])
        let v2 = TinyVocabulary(merges: ["b c", "a b"])
        #expect(try v2.tokenizer().encode("abc") == [v2.id("a"), v2.id("bc")])
    }

    @Test func leftmostWinsTies() throws {
        let v = TinyVocabulary(merges: ["a a", "aa aa"])
        let tok = try v.tokenizer()
        #expect(tok.encode("aaa") == [v.id("aa"), v.id("a")])
        #expect(tok.encode("aaaaaa") == [v.id("aaaa"), v.id("aa")])
        // 101 letters take the heap path: 25 × "aaaa" then "a".
        #expect(tok.encode(String(repeating: "a", count: 101)) == Array(repeating: v.id("aaaa"), count: 25) + [v.id("a")])
    }

    @Test func heapAndLinearPathsAgree() throws {
        let v = TinyVocabulary(merges: ["a b", "b a", "ab a", "a a", "ba b", "aa b", "ab ab", "b b", "aba b"])
        let tok = try v.tokenizer()
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let n = Int(rng.next() % 80) + 1
            var word = ""
            for _ in 0..<n { word.append(rng.next() % 2 == 0 ? "a" : "b") }
            var copy = word
            let linear = copy.withUTF8 { tok.encode(utf8: $0, parseSpecial: false, forceHeap: false) }
            let heap = copy.withUTF8 { tok.encode(utf8: $0, parseSpecial: false, forceHeap: true) }
            #expect(linear == heap, "\(word)")
            #expect(tok.decode(heap) == word)
        }
    }

    @Test func spacesAndMultiByteCharacters() throws {
        let v = TinyVocabulary(merges: ["Ġ h", "Ġh i", "Ã ©"])
        let tok = try v.tokenizer()
        #expect(tok.encode("hi hi") == [v.id("h"), v.id("i"), v.id("Ġhi")])
        #expect(tok.encode("é") == [v.id("Ã©")])
        #expect(tok.encode("è") == [v.id("Ã"), v.id("¨")])  // no rule: two byte tokens
        #expect(tok.decode(tok.encode("hi hé è")) == "hi hé è")
    }

    @Test func rulesWithoutTokensAreSkipped() throws {
        var v = TinyVocabulary(merges: ["x y"])
        v.merges.append("y z")   // "yz" is not in the vocabulary
        let tok = try v.tokenizer()
        #expect(tok.encode("xyz") == [v.id("xy"), v.id("z")])
    }
}

struct SpecialTokenTests {
    let v = TinyVocabulary(merges: ["a b"], extra: [
        ("<|im_start|>", .control), ("<tag>", .userDefined), ("pq", .control), ("qrs", .control),
    ])

    @Test func controlTokensParsedOnlyOnRequest() throws {
        let tok = try v.tokenizer()
        let start = Int32(v.tokens.lastIndex(of: "<|im_start|>")!)
        #expect(tok.encode("x<|im_start|>y", parseSpecial: true) == [v.id("x"), start, v.id("y")])
        let plain = tok.encode("x<|im_start|>y", parseSpecial: false)
        #expect(plain.count == 14)
        #expect(!plain.contains(start))
        #expect(tok.id(forSpecial: "<|im_start|>") == start)
        #expect(tok.isControl(start))
    }

    @Test func userDefinedTokensAlwaysParsed() throws {
        // llama.cpp splits out user-defined tokens even when special parsing is off.
        let tok = try v.tokenizer()
        let tag = Int32(v.tokens.lastIndex(of: "<tag>")!)
        #expect(tok.encode("<tag>x<tag>", parseSpecial: false) == [tag, v.id("x"), tag])
        #expect(tok.decode([tag]) == "<tag>")   // decoded like normal text
    }

    @Test func longestSpecialTokenFirst() throws {
        let tok = try v.tokenizer()
        let qrs = Int32(v.tokens.lastIndex(of: "qrs")!)
        let pq = Int32(v.tokens.lastIndex(of: "pq")!)
        // "qrs" is longer than "pq", so it is cut out first, leaving "p".
        #expect(tok.encode("pqrs", parseSpecial: true) == [v.id("p"), qrs])
        #expect(tok.encode("pqpq", parseSpecial: true) == [pq, pq])
        #expect(tok.encode("pqpq", parseSpecial: false) == ["p", "q", "p", "q"].map(v.id))
    }

    @Test func controlTokensDecodeOnlyOnRequest() throws {
        let tok = try v.tokenizer()
        let ids = tok.encode("x<|im_start|>y", parseSpecial: true)
        #expect(tok.decode(ids) == "xy")
        #expect(tok.decode(ids, includeSpecial: true) == "x<|im_start|>y")
        #expect(tok.decode([-1, 99_999]) == "")
        #expect(tok.piece(99_999) == "")
        #expect(tok.tokenType(-5) == .undefined)
    }
}

struct TokenizerErrorTests {
    func metadata(_ v: TinyVocabulary, model: String = "gpt2", pre: String? = "smollm") -> [String: GGUFValue] {
        var m: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string(model),
            "tokenizer.ggml.tokens": .array(.string, v.tokens.map { .string($0) }),
            "tokenizer.ggml.merges": .array(.string, v.merges.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(.int32, v.types.map { .int32($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(2),
            "tokenizer.ggml.add_bos_token": .bool(true),
        ]
        if let pre { m["tokenizer.ggml.pre"] = .string(pre) }
        return m
    }

    @Test func readsGGUFMetadata() throws {
        let v = TinyVocabulary(merges: ["a b"])
        let tok = try BPETokenizer(metadata: metadata(v))
        #expect(tok.preTokenizer.name == "smollm")
        #expect(tok.bosId == 1 && tok.eosId == 2 && tok.addsBOS)
        #expect(tok.encode("ab1", addSpecial: true, parseSpecial: false) == [1, v.id("ab"), v.id("1")])
        // Through a serialized file as well.
        var writer = GGUFWriter()
        for (key, value) in metadata(v).sorted(by: { $0.key < $1.key }) { writer.addMetadata(key, value) }
        let file = try GGUFFile(bytes: try writer.serialized())
        #expect(try BPETokenizer(gguf: file).encode("abab") == [v.id("ab"), v.id("ab")])
    }

    @Test func unsupportedModelIsNamed() {
        let v = TinyVocabulary(merges: [])
        #expect(throws: TokenizerError.unsupportedModel("llama")) { try BPETokenizer(metadata: metadata(v, model: "llama")) }
        #expect(TokenizerError.unsupportedModel("llama").description.contains("'llama'"))
    }

    @Test func unsupportedPreTokenizerIsNamed() {
        let v = TinyVocabulary(merges: [])
        #expect(throws: TokenizerError.unsupportedPreTokenizer("qwen9")) { try BPETokenizer(metadata: metadata(v, pre: "qwen9")) }
        #expect(TokenizerError.unsupportedPreTokenizer("qwen9").description.contains("'qwen9'"))
        // An absent key means llama.cpp's default pre-tokenizer.
        #expect((try? BPETokenizer(metadata: metadata(v, pre: nil)))?.preTokenizer.name == "default")
    }

    @Test func badData() {
        let v = TinyVocabulary(merges: [])
        var m = metadata(v)
        m["tokenizer.ggml.merges"] = .array(.string, [.string("ab")])
        #expect(throws: TokenizerError.invalidMerge(index: 0, text: "ab")) { try BPETokenizer(metadata: m) }
        m = metadata(v)
        m["tokenizer.ggml.token_type"] = .array(.int32, [.int32(1)])
        #expect(throws: TokenizerError.countMismatch(key: "tokenizer.ggml.token_type", expected: 256, found: 1)) {
            try BPETokenizer(metadata: m)
        }
        m = metadata(v)
        m["tokenizer.ggml.eos_token_id"] = .uint32(5000)
        #expect(throws: TokenizerError.specialIdOutOfRange(key: "tokenizer.ggml.eos_token_id", id: 5000, vocabularySize: 256)) {
            try BPETokenizer(metadata: m)
        }
        m = metadata(v)
        m["tokenizer.ggml.tokens"] = nil
        #expect(throws: TokenizerError.missingMetadata(key: "tokenizer.ggml.tokens")) { try BPETokenizer(metadata: m) }
        m = metadata(v)
        m["tokenizer.ggml.tokens"] = .string("oops")
        #expect(throws: TokenizerError.wrongMetadataType(key: "tokenizer.ggml.tokens", expected: "an array of strings")) {
            try BPETokenizer(metadata: m)
        }
        #expect(throws: TokenizerError.emptyVocabulary) { try BPETokenizer(tokens: [], merges: []) }
    }
}

