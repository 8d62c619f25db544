import Foundation
import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// The SentencePiece algorithm on a vocabulary small enough to work out by hand.
struct SentencePieceTinyTests {
    /// ids: 0 <unk> (unknown), 1 <s>, 2 </s> (control), 3 <nl> (user-defined, always split out),
    /// 4...259 byte tokens, then pieces with scores.
    static func vocabulary(addSpacePrefix: Bool = false) throws -> SentencePieceTokenizer {
        var tokens = ["<unk>", "<s>", "</s>", "<nl>"]
        var scores: [Float] = [0, 0, 0, 0]
        var types: [Int32] = [2, 3, 3, 4]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            scores.append(0)
            types.append(6)
        }
        let pieces: [(String, Float)] = [
            ("▁", -1), ("a", -2), ("b", -3), ("c", -4), ("ab", -5), ("bc", -0.5), ("▁a", -6), ("abc", -7),
            ("é", -8), ("▁▁", -9),
        ]
        for (p, s) in pieces {
            tokens.append(p)
            scores.append(s)
            types.append(1)
        }
        return try SentencePieceTokenizer(tokens: tokens, scores: scores, tokenTypes: types, bosId: 1, eosId: 2,
                                          unknownId: 0, addBOS: true, addSpacePrefix: addSpacePrefix)
    }

    static func id(_ tok: SentencePieceTokenizer, _ piece: String) -> Int32 {
        (0..<Int32(tok.vocabularySize)).first { tok.piece($0) == piece }!
    }

    @Test func mergesHighestScoreFirst() throws {
        let tok = try Self.vocabulary()
        let id = { Self.id(tok, $0) }
        // "abc": "bc" (-0.5) beats "ab" (-5); then "a"+"bc" = "abc" is a token and merges.
        #expect(tok.encode("abc") == [id("abc")])
        // "ab": only one pair.
        #expect(tok.encode("ab") == [id("ab")])
        // Spaces become ▁. " ab": "ab" (-5) beats "▁a" (-6); " ac": only "▁a" is a token.
        #expect(tok.encode(" ab") == [id("▁"), id("ab")])
        #expect(tok.encode(" ac") == [id("▁a"), id("c")])
        // Two spaces: "▁▁" is a token.
        #expect(tok.encode("  c") == [id("▁▁"), id("c")])
    }

    @Test func equalScoresMergeLeftmostFirst() throws {
        // "aaa" with only "aa" as a merge: the left pair goes first → "aa" + "a".
        let tok = try SentencePieceTokenizer(tokens: ["<unk>", "a", "aa"], scores: [0, -1, -2], tokenTypes: [2, 1, 1],
                                             unknownId: 0, addSpacePrefix: false)
        #expect(tok.encode("aaa") == [2, 1])
        #expect(tok.encode("aaaa") == [2, 2])
    }

    @Test func unknownCharactersFallBackToBytes() throws {
        let tok = try Self.vocabulary()
        // "ü" (C3 BC) is not a piece: two byte tokens. "é" is a piece.
        #expect(tok.encode("ü") == [4 + 0xC3, 4 + 0xBC])
        #expect(tok.encode("é") == [Self.id(tok, "é")])
        #expect(tok.decode(tok.encode("aü é")) == "aü é")
    }

    @Test func specialTokensAndBOS() throws {
        let tok = try Self.vocabulary()
        let id = { Self.id(tok, $0) }
        // User-defined tokens are cut out even without special parsing; control tokens only with it.
        #expect(tok.encode("a<nl>b") == [id("a"), 3, id("b")])
        #expect(tok.encode("a</s>", parseSpecial: true) == [id("a"), 2])
        #expect(tok.encode("a</s>", parseSpecial: false).contains(2) == false)
        #expect(tok.encode("ab", addSpecial: true, parseSpecial: true) == [1, id("ab")])
        #expect(tok.decode([1, id("ab"), 2]) == "ab")
        #expect(tok.decode([1, id("ab"), 2], includeSpecial: true) == "<s>ab</s>")
        #expect(tok.endOfGenerationIds == [2])
    }

    @Test func spacePrefixFollowsSpecialTokens() throws {
        let tok = try Self.vocabulary(addSpacePrefix: true)
        let id = { Self.id(tok, $0) }
        #expect(tok.encode("ac") == [id("▁a"), id("c")])
        // After a special token the next fragment gets the prefix again.
        #expect(tok.encode("a<nl>a") == [id("▁a"), 3, id("▁a")])
    }

    @Test func metadataErrorsNameTheKey() throws {
        var m: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(.string, [.string("<unk>"), .string("a")]),
            "tokenizer.ggml.scores": .array(.float32, [.float32(0)]),
        ]
        #expect(throws: TokenizerError.countMismatch(key: "tokenizer.ggml.scores", expected: 2, found: 1)) {
            try SentencePieceTokenizer(metadata: m)
        }
        m["tokenizer.ggml.scores"] = .array(.float32, [.float32(0), .float32(-1)])
        let tok = try loadTokenizer(metadata: m)
        #expect(tok is SentencePieceTokenizer)
        #expect(tok.addsBOS)   // llama.cpp's default for this model type
        m["tokenizer.ggml.model"] = .string("bert")
        #expect(throws: TokenizerError.unsupportedModel("bert")) { try loadTokenizer(metadata: m) }
    }
}

/// The real Gemma 3 vocabulary against ids recorded with llama.cpp (shared/reference).
@Suite(.enabled(if: Gemma3.available, Gemma3.missingMessage))
struct GemmaTokenizerTests {
    var tok: SentencePieceTokenizer { get throws { try #require(Gemma3.tokenizer, "tokenizer failed to load from \(Gemma3.path)") } }

    @Test func metadata() throws {
        let tok = try tok
        #expect(tok.vocabularySize == 262144)
        #expect(tok.bosId == 2 && tok.eosId == 1)
        #expect(tok.addsBOS && !tok.addsSpacePrefix)
        #expect(tok.id(forSpecial: "<start_of_turn>") == 105)
        #expect(tok.id(forSpecial: "<end_of_turn>") == 106)
        #expect(tok.endOfGenerationIds.isSuperset(of: [1, 106]))
        #expect(tok.piece(1902) == "▁world")
        #expect(tok.tokenType(107) == .userDefined)
    }

    @Test func recordedIds() throws {
        let tok = try tok
        // smollm2.md: BOS 2 added.
        #expect(tok.encode("Hello world! How are you?", addSpecial: true, parseSpecial: true)
                == [2, 9259, 1902, 236888, 2088, 659, 611, 236881])
    }

    @Test(.enabled(if: Reference.path != nil, Reference.missingMessage))
    func referencePromptsAndContinuations() throws {
        let tok = try tok
        let all = try GreedyReference.load(try #require(Reference.path)).filter(\.isGemma)
        #expect(all.count == 2)
        for r in all {
            #expect(tok.encode(r.promptText, addSpecial: true, parseSpecial: true) == r.promptIds, "\(r.title)")
            #expect(tok.decode(r.genIds) == r.genText, "\(r.title)")
            // What llama.cpp generated, re-encoded, gives the same ids (no ambiguous spellings here).
            #expect(tok.encode(r.genText) == r.genIds, "\(r.title)")
        }
    }

    @Test func roundTripsAndByteFallback() throws {
        let tok = try tok
        for text in ["Café déjà vu.", "  multiple   spaces\n\n\ttab", "emoji 🦙🧪 and 中文 text", "\u{10FFFD}"] {
            #expect(tok.decode(tok.encode(text)) == text, "\(text)")
        }
        // A private-use character is not in the vocabulary: it comes out as its four UTF-8 bytes.
        let ids = tok.encode("\u{10FFFD}")
        #expect(ids.count == 4 && ids.allSatisfy { tok.tokenType($0) == .byte })
    }

    @Test func chatTemplateRendering() throws {
        let tok = try tok
        let t = ChatTemplate.gemma
        let text = t.render([.system("Be brief."), .user("Hi"), .assistant("Hello!"), .user("Bye")])
        #expect(text == "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
        let ids = tok.encode(text, addSpecial: true, parseSpecial: true)
        #expect(ids.first == 2 && ids[1] == 105)
        #expect(ids.filter { $0 == 106 }.count == 3)
    }
}
