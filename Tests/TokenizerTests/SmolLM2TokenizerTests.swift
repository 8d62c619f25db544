import Core
import Foundation
import GGUF
import Testing
@testable import Tokenizer

/// The real SmolLM2 vocabulary against ids recorded with llama.cpp (shared/reference).
@Suite(.enabled(if: SmolLM2.available, SmolLM2.missingMessage))
struct SmolLM2TokenizerTests {
    var tok: BPETokenizer { get throws { try #require(SmolLM2.tokenizer, "tokenizer failed to load from \(SmolLM2.path)") } }

    @Test func metadata() throws {
        let tok = try tok
        #expect(tok.vocabularySize == 49152)
        #expect(tok.preTokenizer.name == "smollm")
        #expect(tok.bosId == 1)
        #expect(tok.eosId == 2)
        #expect(tok.addsBOS == false)
        #expect(tok.piece(198) == "Ċ")
        #expect(tok.piece(905) == "Ġworld")
        #expect(tok.id(forSpecial: "<|im_start|>") == 1)
        #expect(tok.id(forSpecial: "<|im_end|>") == 2)
        #expect(tok.id(forSpecial: "Ġworld") == nil)
        #expect(tok.isControl(0) && tok.isControl(16) && !tok.isControl(17))
        #expect(tok.endOfGenerationIds == [0, 2])  // EOS <|im_end|> and <|endoftext|>
    }

    /// The table of smollm2.md (no BOS).
    @Test(arguments: [
        ("Hello world! How are you?", [19556, 905, 17, 1073, 359, 346, 47]),
        ("If you were ruler of the world, what are some things you'd do?",
         [1937, 346, 592, 14653, 282, 260, 905, 28, 732, 359, 634, 1495, 346, 6737, 536, 47]),
        ("The capital of France is", [504, 3575, 282, 4649, 314]),
        ("Hello world! 123", [19556, 905, 17, 216, 33, 34, 35]),
        ("\n", [198]),
        ("<|im_start|>assistant\n", [1, 520, 9531, 198]),
    ] as [(String, [Int32])])
    func recordedIds(text: String, ids: [Int32]) throws {
        let tok = try tok
        #expect(tok.encode(text, parseSpecial: true) == ids)
        #expect(tok.encode(text, addSpecial: true, parseSpecial: true) == ids)  // SmolLM2 adds no BOS
    }

    /// Ids another implementation's self-check recorded for this vocabulary: accents, runs of spaces.
    @Test(arguments: [
        ("Hello, we can use", [19556, 28, 392, 416, 722]),
        ("You are a helpful AI assistant named SmolLM, trained by Hugging Face",
         [2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182]),
        ("Café déjà vu.", [51, 1939, 2756, 32564, 90, 16739, 386, 101, 30]),
        ("  multiple   spaces", [216, 2701, 256, 5600]),
    ] as [(String, [Int32])])
    func crossCheckedIds(text: String, ids: [Int32]) throws {
        #expect(try tok.encode(text) == ids)
    }

    @Test(.enabled(if: Reference.path != nil, Reference.missingMessage))
    func referencePromptIds() throws {
        let tok = try tok
        let cases = Reference.smolCases
        #expect(cases.map(\.name) == ["ruler", "france", "bored", "pirate", "code"])
        for c in cases {
            #expect(!c.promptIds.isEmpty)
            #expect(tok.encode(c.promptText, parseSpecial: true) == c.promptIds, "prompt of \(c.name)")
            #expect(utf8(tok.decode(c.promptIds, includeSpecial: true)) == utf8(c.promptText), "prompt of \(c.name)")
        }
    }

    @Test(.enabled(if: Reference.path != nil, Reference.missingMessage))
    func referenceGeneratedText() throws {
        let tok = try tok
        for c in Reference.smolCases {
            #expect(!c.genIds.isEmpty)
            #expect(utf8(tok.decode(c.genIds)) == utf8(c.genText), "generation of \(c.name)")
            var stream = StreamingDecoder(tokenizer: tok)
            let streamed = c.genIds.map { stream.push($0) }.joined() + stream.flush()
            #expect(utf8(streamed) == utf8(c.genText), "streamed generation of \(c.name)")
        }
    }

    static let roundTripTexts = [
        "Hello world! How are you?",
        "Crème brûlée, naïve façade, Ångström, Straße, ĳ",
        "Combining: e\u{301} a\u{308} n\u{303}",
        "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
        "CJK: 北京欢迎你。東京タワー、서울특별시",
        "Arabic ٣٤٥ and Devanagari नमस्ते, Thai ภาษาไทย",
        "tabs\tand\t\ttabs, newlines\n\n\nand\r\nCRLF",
        "multiple     spaces   here  and trailing   ",
        "   leading spaces",
        "code: for (i = 0; i < 10; i++) { x += a[i] * 2.5e-3; }",
        "numbers 1234567890 ½ ² ⅷ 3.14159",
        "quotes 'single' \"double\" don't we'll they're I'M",
        "<|im_start|> is a control token; <not a token> <|im_end",
        "\u{0} control \u{7} bytes \u{1B}[0m \u{7F}",
        "",
        " ",
        "\n",
    ]

    @Test(arguments: roundTripTexts)
    func roundTrip(text: String) throws {
        let tok = try tok
        let plain = tok.encode(text, parseSpecial: false)
        #expect(utf8(tok.decode(plain)) == utf8(text))
        #expect(utf8(tok.decode(tok.encode(text, parseSpecial: true), includeSpecial: true)) == utf8(text))
        // The heap merge path gives the same ids as the short-word path.
        var copy = text
        let heap = copy.withUTF8 { tok.encode(utf8: $0, parseSpecial: false, forceHeap: true) }
        #expect(heap == plain)
    }

    @Test func specialTokenParsing() throws {
        let tok = try tok
        let text = "<|im_start|>user\nhi<|im_end|>\n"
        let parsed = tok.encode(text, parseSpecial: true)
        #expect(parsed.first == 1)
        #expect(parsed.contains(2))
        #expect(parsed == [1] + tok.encode("user\nhi") + [2] + tok.encode("\n"))
        let plain = tok.encode(text, parseSpecial: false)
        #expect(!plain.contains { tok.isControl($0) })
        #expect(plain.count > parsed.count)
        #expect(tok.decode(plain) == text)
        // Control tokens decode to text only on request.
        #expect(tok.decode(parsed) == "user\nhi\n")
        #expect(tok.decode(parsed, includeSpecial: true) == text)
    }

    @Test func streamingMatchesDecodeOnEveryPrefix() throws {
        let tok = try tok
        let text = "Ünïcödé 😀👍🏽 北京欢迎你 👨‍👩‍👧‍👦 end"
        let ids = tok.encode(text)
        // Some token must split a character, or this test would not exercise holding back.
        #expect(ids.contains { String(validatingUTF8Bytes: tok.bytes(of: $0)) == nil })
        for k in 0...ids.count {
            var stream = StreamingDecoder(tokenizer: tok)
            var pushed = ""
            for id in ids[0..<k] {
                let piece = stream.push(id)
                #expect(!piece.unicodeScalars.contains("\u{FFFD}"))
                pushed += piece
            }
            let full = utf8(tok.decode(Array(ids[0..<k])))
            #expect(full.starts(with: utf8(pushed)))
            #expect(utf8(pushed + stream.flush()) == full)
        }
    }

    @Test func chatTemplateFromFile() throws {
        let file = try #require(SmolLM2.file)
        let template = try ChatTemplate.from(gguf: file)
        // smollm2.md names this default prompt.
        #expect(template == .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        #expect(template.stopStrings == ["<|im_end|>"])
    }

    @Test(.enabled(if: Reference.path != nil, Reference.missingMessage))
    func chatRenderingMatchesReference() throws {
        let tok = try tok
        let template = try ChatTemplate.from(gguf: try #require(SmolLM2.file))
        let conversations: [(String, [ChatMessage], Bool)] = [
            ("ruler", [.user("If you were ruler of the world, what are some things you'd do?")], true),
            ("pirate", [.system("You are a pirate. Answer in one sentence."), .user("Tell me about your ship.")], true),
            ("france", [.user("What is the capital of France?")], false),
            ("bored", [.user("hey I feel bored")], false),
        ]
        for (name, messages, withDefault) in conversations {
            let ref = try #require(Reference.smolCase(name))
            let rendered = template.render(messages, includeDefaultSystemPrompt: withDefault)
            #expect(rendered == ref.promptText, "\(name)")
            #expect(tok.encode(rendered, parseSpecial: true) == ref.promptIds, "\(name)")
        }
    }

    /// 100 KB of English prose: prints the rate; in optimized builds it must stay well under 100 ms.
    @Test func encodingSpeed() throws {
        let tok = try tok
        let paragraph = """
            The quick brown fox jumps over the lazy dog, while 42 curious onlookers wonder why. \
            It's a truth universally acknowledged that a tokenizer in possession of a good vocabulary \
            must be in want of speed; we'll measure it here, with numbers like 3.14159 and 2025.\n
            """
        var text = ""
        while text.utf8.count < 100_000 { text += paragraph }
        _ = tok.encode(text)  // warm up (character tables)
        let clock = ContinuousClock()
        var ids: [Int32] = []
        let elapsed = clock.measure { ids = tok.encode(text) }
        let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
        print("SmolLM2 tokenizer: \(text.utf8.count) bytes -> \(ids.count) tokens in \(ms) ms")
        #expect(utf8(tok.decode(ids)) == utf8(text))
        #if !DEBUG
        #expect(ms < 100)
        #endif
    }
}

/// Byte-exact comparison (String's `==` treats canonically equivalent texts as equal).
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

extension String {
    /// Strict UTF-8 decoding (nil when the bytes are not whole, valid UTF-8).
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(scalars)
    }
}
